/**
 * The heap: what users hold. It owns the memory and the region, validates every call, keeps O(1)
 * counters, and hands placement to the strategy's engine.
 *
 * ```
 *  memory  0        base                                      brk            capacity     limit
 *          | (null, |  engine metadata | blocks …  | epilogue  |  not yet      |  may grow  |
 *          |  wasm  |                  |           |           |  claimed      |  to here   |
 *          |  data) |<-------------- the region: [base, brk) ->|
 *
 *  pointer map (outside the buffer): one bit per `align` bytes of memory, set at the payload
 *  address of every live block. free/realloc/usableSize read one bit, so a pointer into a payload,
 *  past the end or already freed is rejected in O(1) — before the engine touches anything.
 * ```
 *
 * Why a side map rather than a check word in every header: a 32-bit header has no spare bits for
 * a checksum, and an 8-byte header would cost every small block 4 bytes; the map costs 1 bit per
 * 8 bytes (1.6 %) and cannot be forged by payload bytes that happen to look like a header.
 *
 * @module
 */
import {
  type Alignment,
  type Allocator,
  type AllocatorEngine,
  type BlockInfo,
  DoubleFreeError,
  HeapCorruptionError,
  type HeapListener,
  type HeapStats,
  type HeapUsage,
  InvalidPointerError,
  InvalidSizeError,
  isPowerOfTwo,
  OutOfMemoryError,
  type Ptr,
  type Region,
  type Strategy,
} from "@heapkit/contract";
import { BufferMemory, createMemory, MAX_MEMORY_BYTES } from "./memory.js";

/** Options of {@link createHeap}. */
export interface HeapOptions {
  /** The placement strategy (a plug-in from one of the strategy packages). */
  strategy: Strategy<unknown>;
  /** Initial bytes of a new memory (default 64 KiB, or `maxSize` if smaller). Ignored when `memory` is given. */
  size?: number;
  /** The most bytes the memory may grow to (default 256 MiB for a new memory; the memory's own maximum otherwise). */
  maxSize?: number;
  /** An existing store to manage: ArrayBuffer, resizable ArrayBuffer, SharedArrayBuffer or WebAssembly.Memory. */
  memory?: ArrayBuffer | SharedArrayBuffer | WebAssembly.Memory;
  /** Make the new memory a growable SharedArrayBuffer (for workers). Ignored when `memory` is given. */
  shared?: boolean;
  /** First byte the heap may use (default 16: offset 0 stays null). Bytes below it are left alone — for wasm data. */
  base?: number;
  /** Payload alignment: 8 (default) or 16. */
  align?: Alignment;
}

/** A copy of a heap's whole state, from {@link Heap.snapshot}. */
export interface HeapSnapshot {
  /** The strategy that formatted it. */
  readonly strategy: string;
  /** The bytes `[0, brk)` of the memory. */
  readonly bytes: Uint8Array;
  /** The pointer map. */
  readonly pointerMap: Uint32Array;
  /** The region's break. */
  readonly brk: number;
  /** The heap's counters. */
  readonly counters: Float64Array;
}

const DEFAULT_SIZE = 64 * 1024;
const DEFAULT_MAX_SIZE = 256 * 1024 * 1024;
const DEFAULT_BASE = 16;

// indices into the counters array (a Float64Array so snapshot/restore copy them in one go)
const LIVE_BLOCKS = 0;
const LIVE_BYTES = 1;
const PEAK_LIVE_BLOCKS = 2;
const PEAK_LIVE_BYTES = 3;
const PEAK_BRK = 4;
const MALLOCS = 5;
const FREES = 6;
const REALLOCS = 7;
const FAILED = 8;
const COUNTER_COUNT = 9;

/**
 * Typed-array constructors the view helpers accept.
 *
 * @inline
 */
type ViewConstructor<T> = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
};

/**
 * A heap: one strategy over one memory. Create it with {@link createHeap}.
 */
export class Heap implements Allocator, Region {
  readonly memory: BufferMemory;
  readonly engine: AllocatorEngine;
  readonly align: Alignment;
  readonly base: number;
  readonly limit: number;
  readonly strategy: string;
  /** The largest size one request may ask for. */
  readonly maxRequest: number;
  private brkOffset: number;
  private pointerMap: Uint32Array;
  private readonly alignShift: number;
  private readonly counters = new Float64Array(COUNTER_COUNT);
  private listener: HeapListener | null = null;
  private readonly watchWasm: boolean;

  constructor(options: HeapOptions) {
    const align = options.align ?? 8;
    if (align !== 8 && align !== 16) {
      throw new InvalidSizeError("createHeap", "align", align, 16, "expected 8 or 16");
    }
    const base = options.base ?? DEFAULT_BASE;
    if (!Number.isInteger(base) || base < 16 || base % 16 !== 0) {
      throw new InvalidSizeError(
        "createHeap",
        "base",
        base,
        MAX_MEMORY_BYTES,
        "expected a multiple of 16, at least 16",
      );
    }
    let memory: BufferMemory;
    if (options.memory !== undefined) {
      memory = new BufferMemory(options.memory, options.maxSize);
    } else {
      const maxSize = options.maxSize ?? DEFAULT_MAX_SIZE;
      checkLength("maxSize", maxSize, 256);
      const size = Math.min(options.size ?? DEFAULT_SIZE, maxSize);
      checkLength("size", size, 0);
      memory = createMemory({ size, maxSize, shared: options.shared ?? false });
    }
    const limit = Math.min(memory.maxByteLength, options.maxSize ?? memory.maxByteLength) & ~(align - 1);
    if (base + 64 > limit) {
      throw new InvalidSizeError(
        "createHeap",
        "maxSize",
        limit,
        MAX_MEMORY_BYTES,
        `the heap needs more than ${base + 64} bytes`,
      );
    }
    this.memory = memory;
    this.align = align;
    this.alignShift = align === 8 ? 3 : 4;
    this.base = base;
    this.limit = limit;
    this.maxRequest = limit - base;
    this.brkOffset = base;
    this.counters[PEAK_BRK] = base;
    this.pointerMap = new Uint32Array(this.mapWordsFor(memory.byteLength));
    this.watchWasm = memory.kind === "wasm-memory";
    this.engine = options.strategy.create(this);
    this.strategy = this.engine.strategy;
  }

  // ---------------------------------------------------------------- Region (what the engine sees)

  /** The current end of the heap (exclusive). */
  get brk(): number {
    return this.brkOffset;
  }

  /** Moves the break up by `increment` bytes, growing the memory if needed; -1 if the limit forbids it. */
  sbrk(increment: number): number {
    const old = this.brkOffset;
    const next = old + increment;
    if (increment < 0 || (increment & (this.align - 1)) !== 0 || next > this.limit) return -1;
    if (next > this.memory.byteLength) {
      if (!this.memory.grow(Math.min(this.limit, next))) return -1;
      this.growPointerMap();
    }
    this.brkOffset = next;
    if (next > this.counters[PEAK_BRK]) this.counters[PEAK_BRK] = next;
    if (this.listener !== null) this.listener("grow", old, next, 0);
    return old;
  }

  // ---------------------------------------------------------------- allocation

  malloc(size: number): Ptr {
    const ptr = this.tryMalloc(size);
    if (ptr === 0) throw this.outOfMemory(size);
    return ptr;
  }

  tryMalloc(size: number): Ptr {
    if ((size | 0) !== size || size < 0 || size > this.maxRequest) throw this.badSize("malloc", "size", size);
    if (this.watchWasm) this.syncWasm();
    const ptr = this.engine.malloc(size);
    if (ptr === 0) {
      this.counters[FAILED]++;
      return 0;
    }
    this.markLive(ptr);
    if (this.listener !== null) this.listener("malloc", ptr, size, 0);
    return ptr;
  }

  calloc(count: number, size: number): Ptr {
    if ((count | 0) !== count || count < 0 || count > this.maxRequest)
      throw this.badSize("calloc", "count", count);
    if ((size | 0) !== size || size < 0 || size > this.maxRequest) throw this.badSize("calloc", "size", size);
    const total = count * size;
    if (total > this.maxRequest) {
      throw new InvalidSizeError(
        "calloc",
        "count × size",
        total,
        this.maxRequest,
        `${count} × ${size} exceeds the heap's limit of ${this.maxRequest} bytes`,
      );
    }
    const ptr = this.malloc(total);
    this.memory.u8.fill(0, ptr, ptr + total);
    return ptr;
  }

  memalign(alignment: number, size: number): Ptr {
    if ((alignment | 0) !== alignment || !isPowerOfTwo(alignment) || alignment > this.maxRequest) {
      throw new InvalidSizeError(
        "memalign",
        "alignment",
        alignment,
        this.maxRequest,
        "expected a power of two",
      );
    }
    if ((size | 0) !== size || size < 0 || size > this.maxRequest)
      throw this.badSize("memalign", "size", size);
    if (this.watchWasm) this.syncWasm();
    const ptr = alignment <= this.align ? this.engine.malloc(size) : this.engine.memalign(alignment, size);
    if (ptr === 0) {
      this.counters[FAILED]++;
      throw this.outOfMemory(size + (alignment > this.align ? alignment : 0));
    }
    this.markLive(ptr);
    if (this.listener !== null) this.listener("malloc", ptr, size, 0);
    return ptr;
  }

  realloc(ptr: Ptr, size: number): Ptr {
    if (ptr === 0) return this.malloc(size);
    if ((size | 0) !== size || size < 0 || size > this.maxRequest)
      throw this.badSize("realloc", "size", size);
    if (!this.isLive(ptr)) throw this.badPointer("realloc", ptr);
    if (size === 0) {
      this.free(ptr);
      return 0;
    }
    if (this.watchWasm) this.syncWasm();
    const engine = this.engine;
    const oldUsable = engine.usableSize(ptr);
    const moved = engine.realloc(ptr, size);
    if (moved === 0) {
      this.counters[FAILED]++;
      throw this.outOfMemory(size);
    }
    const counters = this.counters;
    if (moved !== ptr) {
      this.clearBit(ptr);
      this.setBit(moved);
    }
    counters[LIVE_BYTES] += engine.usableSize(moved) - oldUsable;
    if (counters[LIVE_BYTES] > counters[PEAK_LIVE_BYTES]) counters[PEAK_LIVE_BYTES] = counters[LIVE_BYTES];
    counters[REALLOCS]++;
    if (this.listener !== null) this.listener("realloc", moved, size, ptr);
    return moved;
  }

  free(ptr: Ptr): void {
    if (ptr === 0) return;
    // isLive and clearBit in one: the pointer map's word and bit are computed once
    if ((ptr | 0) !== ptr || (ptr & (this.align - 1)) !== 0 || ptr <= this.base || ptr >= this.brkOffset)
      throw this.badPointer("free", ptr);
    const unit = ptr >>> this.alignShift;
    const word = this.pointerMap[unit >>> 5];
    const bit = 1 << (unit & 31);
    if ((word & bit) === 0) throw this.badPointer("free", ptr);
    if (this.watchWasm) this.syncWasm();
    const engine = this.engine;
    const usable = engine.usableSize(ptr);
    this.pointerMap[unit >>> 5] = word & ~bit; // (syncWasm may have replaced the map by a larger copy)
    engine.free(ptr);
    const counters = this.counters;
    counters[LIVE_BLOCKS]--;
    counters[LIVE_BYTES] -= usable;
    counters[FREES]++;
    if (this.listener !== null) this.listener("free", ptr, usable, 0);
  }

  usableSize(ptr: Ptr): number {
    if (!this.isLive(ptr)) throw this.badPointer("usableSize", ptr);
    return this.engine.usableSize(ptr);
  }

  isLive(ptr: Ptr): boolean {
    // (ptr | 0) === ptr rejects fractions, NaN, ±Infinity, non-numbers and anything ≥ 2^31
    if ((ptr | 0) !== ptr || (ptr & (this.align - 1)) !== 0 || ptr <= this.base || ptr >= this.brkOffset)
      return false;
    const unit = ptr >>> this.alignShift;
    return (this.pointerMap[unit >>> 5] & (1 << (unit & 31))) !== 0;
  }

  // ---------------------------------------------------------------- typed views

  /** A `Uint8Array` over `length` bytes at `ptr`. */
  u8(ptr: Ptr, length: number): Uint8Array {
    return this.viewOf(Uint8Array, ptr, length);
  }
  /** An `Int8Array` over `length` elements at `ptr`. */
  i8(ptr: Ptr, length: number): Int8Array {
    return this.viewOf(Int8Array, ptr, length);
  }
  /** A `Uint16Array` over `length` elements at `ptr`. */
  u16(ptr: Ptr, length: number): Uint16Array {
    return this.viewOf(Uint16Array, ptr, length);
  }
  /** An `Int16Array` over `length` elements at `ptr`. */
  i16(ptr: Ptr, length: number): Int16Array {
    return this.viewOf(Int16Array, ptr, length);
  }
  /** A `Uint32Array` over `length` elements at `ptr`. */
  u32(ptr: Ptr, length: number): Uint32Array {
    return this.viewOf(Uint32Array, ptr, length);
  }
  /** An `Int32Array` over `length` elements at `ptr`. */
  i32(ptr: Ptr, length: number): Int32Array {
    return this.viewOf(Int32Array, ptr, length);
  }
  /** A `Float32Array` over `length` elements at `ptr`. */
  f32(ptr: Ptr, length: number): Float32Array {
    return this.viewOf(Float32Array, ptr, length);
  }
  /** A `Float64Array` over `length` elements at `ptr` (needs 8-byte alignment, which every payload has). */
  f64(ptr: Ptr, length: number): Float64Array {
    return this.viewOf(Float64Array, ptr, length);
  }
  /** A `BigInt64Array` over `length` elements at `ptr`. */
  i64(ptr: Ptr, length: number): BigInt64Array {
    return this.viewOf(BigInt64Array, ptr, length);
  }
  /** A `BigUint64Array` over `length` elements at `ptr`. */
  u64(ptr: Ptr, length: number): BigUint64Array {
    return this.viewOf(BigUint64Array, ptr, length);
  }

  /**
   * A view of `length` elements over the payload at `ptr`, checked to lie inside that live block.
   * Over an ArrayBuffer or SharedArrayBuffer the view stays valid when the heap grows; over a
   * `WebAssembly.Memory` growth detaches it, so make views again after growth (see {@link Heap.onEvent}).
   */
  viewOf<T>(type: ViewConstructor<T>, ptr: Ptr, length: number): T {
    if (!this.isLive(ptr)) throw this.badPointer("view", ptr);
    const bytes = length * type.BYTES_PER_ELEMENT;
    const usable = this.engine.usableSize(ptr);
    if ((length | 0) !== length || length < 0 || bytes > usable) {
      throw new InvalidSizeError(
        "view",
        "length",
        length,
        Math.floor(usable / type.BYTES_PER_ELEMENT),
        `the block at ${ptr} holds ${usable} bytes`,
      );
    }
    if (this.watchWasm) this.syncWasm();
    return new type(this.memory.buffer, ptr, length);
  }

  // ---------------------------------------------------------------- inspection

  stats(): HeapStats {
    const engineStats = this.engine.stats();
    const c = this.counters;
    const heapSize = this.brkOffset - this.base;
    return {
      ...engineStats,
      strategy: this.strategy,
      align: this.align,
      liveBlocks: c[LIVE_BLOCKS],
      liveBytes: c[LIVE_BYTES],
      peakLiveBlocks: c[PEAK_LIVE_BLOCKS],
      peakLiveBytes: c[PEAK_LIVE_BYTES],
      heapSize,
      peakHeapSize: c[PEAK_BRK] - this.base,
      capacity: this.memory.byteLength,
      heapLimit: this.limit - this.base,
      overheadBytes: heapSize - c[LIVE_BYTES] - engineStats.freeBytes,
      pointerMapBytes: this.pointerMap.byteLength,
      externalFragmentation:
        engineStats.freeBytes === 0 ? 0 : 1 - engineStats.largestFreeBlock / engineStats.freeBytes,
      mallocs: c[MALLOCS],
      frees: c[FREES],
      reallocs: c[REALLOCS],
      failedAllocations: c[FAILED],
    };
  }

  usage(): HeapUsage {
    const c = this.counters;
    const liveBlocks = c[LIVE_BLOCKS];
    const liveBytes = c[LIVE_BYTES];
    const free = this.engine.freeSpace?.(liveBlocks, liveBytes) ?? this.engine.stats();
    const heapSize = this.brkOffset - this.base;
    return {
      heapSize,
      liveBlocks,
      liveBytes,
      freeBytes: free.freeBytes,
      largestFreeBlock: free.largestFreeBlock,
      overheadBytes: heapSize - liveBytes - free.freeBytes,
      externalFragmentation: free.freeBytes === 0 ? 0 : 1 - free.largestFreeBlock / free.freeBytes,
    };
  }

  blocks(): IterableIterator<BlockInfo> {
    return this.engine.blocks();
  }

  /** The strategy's own text report, where it has one. */
  report(): string | undefined {
    return this.engine.report?.();
  }

  /** Verifies the engine's invariants, then that the pointer map and counters agree with the blocks. */
  check(): void {
    this.engine.check();
    let live = 0;
    let liveBytes = 0;
    for (const block of this.engine.blocks()) {
      if (block.state !== "used") continue;
      if (!this.isLive(block.ptr)) {
        throw new HeapCorruptionError(
          block.offset,
          `used block with payload ${block.ptr} is missing from the pointer map`,
        );
      }
      live++;
      liveBytes += block.payload;
    }
    let mapped = 0;
    for (const word of this.pointerMap) {
      if (word !== 0) mapped += popcount(word);
    }
    if (mapped !== live) {
      throw new HeapCorruptionError(
        this.base,
        `the pointer map marks ${mapped} live blocks but the heap holds ${live}`,
      );
    }
    if (live !== this.counters[LIVE_BLOCKS] || liveBytes !== this.counters[LIVE_BYTES]) {
      throw new HeapCorruptionError(
        this.base,
        `counters say ${this.counters[LIVE_BLOCKS]} live blocks of ${this.counters[LIVE_BYTES]} bytes, the blocks say ${live} of ${liveBytes}`,
      );
    }
    const free = this.engine.freeSpace?.(live, liveBytes);
    if (free === undefined) return;
    const walked = this.engine.stats();
    if (free.freeBytes !== walked.freeBytes || free.largestFreeBlock !== walked.largestFreeBlock) {
      throw new HeapCorruptionError(
        this.base,
        `the engine's free space without a walk (${free.freeBytes} bytes, largest ${free.largestFreeBlock}) ` +
          `disagrees with its walk (${walked.freeBytes}, largest ${walked.largestFreeBlock})`,
      );
    }
  }

  /** Installs a listener called after every operation (or removes it with `null`). */
  onEvent(listener: HeapListener | null): void {
    this.listener = listener;
  }

  /** A copy of the heap's whole state: its bytes, pointer map and counters. */
  snapshot(): HeapSnapshot {
    if (this.watchWasm) this.syncWasm();
    return {
      strategy: this.strategy,
      bytes: this.memory.u8.slice(0, this.brkOffset),
      pointerMap: this.pointerMap.slice(),
      brk: this.brkOffset,
      counters: this.counters.slice(),
    };
  }

  /** Puts the heap back in the state of a snapshot taken from this heap (or one of the same strategy and options). */
  restore(snapshot: HeapSnapshot): void {
    if (snapshot.strategy !== this.strategy) {
      throw new InvalidPointerError(
        "restore",
        0,
        `the snapshot is of strategy ${snapshot.strategy}, this heap is ${this.strategy}`,
      );
    }
    if (this.watchWasm) this.syncWasm();
    if (snapshot.brk > this.memory.byteLength && !this.memory.grow(snapshot.brk)) {
      throw new InvalidSizeError(
        "restore",
        "snapshot",
        snapshot.brk,
        this.memory.maxByteLength,
        "the snapshot does not fit this memory",
      );
    }
    this.memory.u8.set(snapshot.bytes, 0);
    this.brkOffset = snapshot.brk;
    this.pointerMap = new Uint32Array(
      Math.max(snapshot.pointerMap.length, this.mapWordsFor(this.memory.byteLength)),
    );
    this.pointerMap.set(snapshot.pointerMap);
    this.counters.set(snapshot.counters);
  }

  // ---------------------------------------------------------------- internals

  private markLive(ptr: Ptr): void {
    this.setBit(ptr);
    const counters = this.counters;
    counters[LIVE_BLOCKS]++;
    counters[LIVE_BYTES] += this.engine.usableSize(ptr);
    counters[MALLOCS]++;
    if (counters[LIVE_BLOCKS] > counters[PEAK_LIVE_BLOCKS])
      counters[PEAK_LIVE_BLOCKS] = counters[LIVE_BLOCKS];
    if (counters[LIVE_BYTES] > counters[PEAK_LIVE_BYTES]) counters[PEAK_LIVE_BYTES] = counters[LIVE_BYTES];
  }

  private setBit(ptr: Ptr): void {
    const unit = ptr >>> this.alignShift;
    this.pointerMap[unit >>> 5] |= 1 << (unit & 31);
  }

  private clearBit(ptr: Ptr): void {
    const unit = ptr >>> this.alignShift;
    this.pointerMap[unit >>> 5] &= ~(1 << (unit & 31));
  }

  private mapWordsFor(bytes: number): number {
    return Math.ceil(bytes / (this.align * 32)) + 1;
  }

  private growPointerMap(): void {
    const words = this.mapWordsFor(this.memory.byteLength);
    if (words <= this.pointerMap.length) return;
    const larger = new Uint32Array(words);
    larger.set(this.pointerMap);
    this.pointerMap = larger;
  }

  private syncWasm(): void {
    if (this.memory.sync()) this.growPointerMap();
  }

  private badSize(operation: string, argument: string, value: unknown): InvalidSizeError {
    let why: string | undefined;
    if (typeof value !== "number") why = `expected a number, got ${typeof value}`;
    else if (Number.isNaN(value)) why = "expected an integer, got NaN";
    else if (!Number.isFinite(value)) why = `expected a finite integer from 0 to ${this.maxRequest}`;
    else if (value < 0) why = `expected a non-negative integer (at most ${this.maxRequest})`;
    else if (!Number.isInteger(value)) why = `expected a whole number of bytes from 0 to ${this.maxRequest}`;
    else why = `the heap's limit allows at most ${this.maxRequest} bytes`;
    return new InvalidSizeError(operation, argument, value, this.maxRequest, why);
  }

  private badPointer(operation: string, ptr: Ptr): Error {
    if (typeof ptr !== "number" || !Number.isInteger(ptr)) {
      return new InvalidPointerError(operation, ptr, "not a pointer: expected an integer byte offset");
    }
    if (ptr <= this.base || ptr >= this.brkOffset) {
      return new InvalidPointerError(
        operation,
        ptr,
        `outside the heap: live blocks lie between ${this.base} and ${this.brkOffset} (the break)`,
      );
    }
    if (this.engine.isFreeBlock(ptr)) return new DoubleFreeError(operation, ptr);
    if ((ptr & (this.align - 1)) !== 0) {
      return new InvalidPointerError(
        operation,
        ptr,
        `not aligned to ${this.align}: not the start of any block`,
      );
    }
    // only on this error path do we walk the heap, to say where the pointer points
    for (const block of this.engine.blocks()) {
      if (ptr >= block.offset && ptr < block.offset + block.size) {
        const where =
          block.state === "used"
            ? `inside the payload of the live block at ${block.ptr} (${block.payload} bytes)`
            : block.state === "free"
              ? `inside a free block at offset ${block.offset} (freed already, or never allocated)`
              : `inside allocator metadata at offset ${block.offset}`;
        return new InvalidPointerError(operation, ptr, `not the start of a live block: ${where}`);
      }
    }
    return new InvalidPointerError(operation, ptr, "not the start of a live block");
  }

  private outOfMemory(size: number): OutOfMemoryError {
    const engineStats = this.engine.stats();
    const headroom = this.limit - this.brkOffset;
    return new OutOfMemoryError(
      size,
      engineStats.freeBytes + headroom,
      Math.max(this.engine.largestFreePayload(), 0),
      this.limit - this.base,
    );
  }
}

function checkLength(argument: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min || value > MAX_MEMORY_BYTES) {
    throw new InvalidSizeError(
      "createHeap",
      argument,
      value,
      MAX_MEMORY_BYTES,
      `expected an integer from ${min} to ${MAX_MEMORY_BYTES}`,
    );
  }
}

function popcount(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Creates a heap of the given strategy over a new or given memory. */
export function createHeap(options: HeapOptions): Heap {
  return new Heap(options);
}
