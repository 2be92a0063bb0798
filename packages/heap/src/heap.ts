/**
 * The heap: what users hold. It validates every call, answers "is this a live block?" in O(1), keeps
 * its figures, serves small blocks from a per-worker front cache, and hands placement to the
 * strategy's engine — with all of its state in its memory (drawn in ./layout.ts), so that any
 * worker can attach to the same heap.
 *
 * ```
 *   malloc(n) ──► validate n ──► front cache of this worker: class ⌈n/align⌉ non-empty? ──► pop, mark live
 *                                    │ no (or n too big)
 *                                    ▼
 *                  [heap lock] ──► engine.malloc(n) ──► mark live             (the strategy's own O(…))
 *
 *   free(p)   ──► p in [regionBase, brk), aligned, its pointer-map bit set? (O(1); else a typed error)
 *                 ──► class ⌊usable/align⌋ cacheable and not full? ──► clear the bit, push
 *                                    │ no
 *                                    ▼
 *                  [heap lock] ──► clear the bit; give the class's older half back to the engine, push;
 *                                  or engine.free(p)
 * ```
 *
 * The front cache is glibc's tcache idea: small freed blocks wait in bounded LIFO stacks per size
 * class and go out again without touching the strategy. A cached block is used as the strategy sees
 * it and not live as the program sees it: `stats()` counts it apart (`cachedBlocks`, `cachedBytes`),
 * `blocks()` shows it as `cached`. Cached blocks go back to the strategy when their class is full,
 * before the heap would grow for a request (the asking worker's cache, whose blocks may make the
 * room), before an out-of-memory error (every worker's), on `flushCache()` and on `detach()`.
 *
 * Over shared memory (a `SharedArrayBuffer` or a shared `WebAssembly.Memory`) every worker attaches
 * with a slot of its own: its cache and figures. A cache hit takes only that slot's lock, which no
 * one else takes but `check()`, `stats()`, `blocks()` and an out-of-memory flush; everything that
 * reaches the strategy runs under the heap lock (./lock.ts). A strategy stays single-threaded code.
 * Pointer-map bits are set and cleared with `Atomics`, so a double free raced from two workers is
 * still caught exactly once. Over unshared memory there are no locks and no atomics, and the heap
 * object that ran the last call keeps the break and its figures in a plain array as well (the
 * "mirror"; see `own`): every write still goes to the buffer, but reads skip V8's bounds check of a
 * resizable buffer. Another object over the same buffer takes the heap over by its OWNER word.
 *
 * @module
 */
import {
  type Alignment,
  type Allocator,
  type AllocatorEngine,
  type BlockInfo,
  DetachedMemoryError,
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
import * as layout from "./layout.js";
import { acquire, type LockOwnerInfo, release } from "./lock.js";
import type { BufferMemory } from "./memory.js";

// hot paths read module-private copies of the layout: V8 reads an imported binding through its module
// cell at every use
const {
  C_ALIGN,
  C_ATTACH_EPOCH,
  C_ATTACHED,
  C_BRK,
  C_CACHE_CLASSES,
  C_CACHE_DEPTH,
  C_FAILED,
  C_FLAGS,
  C_LAYOUT_VERSION,
  C_LIMIT,
  C_LOCK,
  C_LOCK_HOLDER,
  C_MAGIC,
  C_MAP_BYTES,
  C_MAP_OFFSET,
  C_OWNER,
  C_REGION_BASE,
  C_SLOT_BYTES,
  C_SLOT_COUNT,
  C_SLOTS_OFFSET,
  CACHE_DRAIN_BEFORE_GROWTH,
  CACHE_EXACT_CLASSES,
  CACHE_MAX_BYTES,
  CACHE_SUBCLASS_LOG,
  CF_OFFSET,
  CLASS_OF_REQUEST_OFFSET,
  CF_PEAK_BRK,
  CF_PEAK_LIVE_BLOCKS,
  CF_PEAK_LIVE_BYTES,
  CONTROL_BYTES,
  FLAG_FRONT_CACHE,
  FLAG_THREAD_SAFE,
  mapEnd,
  S_CACHE_OFFSET,
  S_CACHED_BYTES,
  S_LOCK,
  S_LOCK_HOLDER,
  S_STATE,
  S_THREAD,
  SF_FREES,
  SF_LIVE_BYTES,
  SF_MALLOCS,
  SF_OFFSET,
  SF_REALLOCS,
  SLOT_ATTACHED,
  SLOT_FREE,
} = layout;

/**
 * Heap objects over unshared memory, kept on `globalThis` so that two copies of this package loaded
 * side by side agree: owner tokens unique in the realm, and who owns each heap now.
 */
interface OwnerRegistry {
  /** The last token handed out. */
  next: number;
  /** Per memory, per heap base: how the heap object that owns it now writes its figures back and gives it up. */
  readonly publishers: WeakMap<object, Map<number, () => void>>;
}
const REGISTRY_KEY = Symbol.for("heapkit.heap-owners");
const realm = globalThis as Record<symbol, OwnerRegistry | undefined>;
const registry: OwnerRegistry = realm[REGISTRY_KEY] ?? { next: 0, publishers: new WeakMap() };
realm[REGISTRY_KEY] = registry;

function publishersOf(memory: BufferMemory): Map<number, () => void> {
  let byBase = registry.publishers.get(memory.identity);
  if (byBase === undefined) {
    byBase = new Map();
    registry.publishers.set(memory.identity, byBase);
  }
  return byBase;
}

function nextOwnerToken(): number {
  registry.next = (registry.next % 0x7fff_ffff) + 1;
  return registry.next;
}

/**
 * A copy of a heap's whole state, from {@link Heap.snapshot}: the bytes of its memory that mean
 * something — up to the part of the pointer map that covers the region, and the region itself.
 */
export interface HeapSnapshot {
  /** The strategy that formatted it. */
  readonly strategy: string;
  /** The bytes `[0, h)`: what lies below the heap, its control block, worker slots, and pointer map up to the break. */
  readonly head: Uint8Array;
  /** The bytes `[regionBase, brk)`: the strategy's region. */
  readonly region: Uint8Array;
  /** The region's break. */
  readonly brk: number;
}

/**
 * Typed-array constructors the view helpers accept.
 *
 * @inline
 */
type ViewConstructor<T> = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
};

/** How a {@link Heap} object comes to its memory: formatting it, or attaching to a heap there. */
export interface HeapBinding {
  /** The memory, wrapped. */
  readonly memory: BufferMemory;
  /** Byte offset of the control block. */
  readonly base: number;
  /** The strategy (the one that formatted the heap, when attaching). */
  readonly strategy: Strategy<unknown>;
  /** Format the region (a new heap) or open it (attach). */
  readonly mode: "create" | "attach";
  /** Milliseconds a call waits for a lock before `LockTimeoutError`. */
  readonly lockTimeout: number;
  /** The id this worker attaches with, shown when it holds a lock too long. */
  readonly threadId: number;
}

/** The strategy's view of the heap: `[regionBase, brk)`, grown by `sbrk`. */
class HeapRegion implements Region {
  readonly memory: BufferMemory;
  readonly base: number;
  readonly limit: number;
  readonly align: Alignment;
  private readonly heap: Heap;

  constructor(heap: Heap) {
    this.heap = heap;
    this.memory = heap.memory;
    this.base = heap.regionBase;
    this.limit = heap.limit;
    this.align = heap.align;
  }

  get brk(): number {
    return this.heap.currentBrk();
  }

  sbrk(increment: number): number {
    return this.heap.extendRegion(increment);
  }
}

/**
 * A heap: one strategy over one memory. Make one with `createHeap`, `createSharedHeap` or `attachHeap`.
 */
export class Heap implements Allocator {
  readonly memory: BufferMemory;
  readonly align: Alignment;
  /** Offset of the heap's control block: the first byte it uses. */
  readonly base: number;
  /** The first byte of the strategy's region; every payload lies above it. */
  readonly regionBase: number;
  /** The region can never grow past this offset. */
  readonly limit: number;
  readonly strategy: string;
  /** The largest size one request may ask for. */
  readonly maxRequest: number;
  /** True over shared memory: every call is safe from any number of workers. */
  readonly threadSafe: boolean;
  /** This worker's slot. */
  readonly slot: number;
  private readonly engine: AllocatorEngine;
  private readonly alignShift: number;
  private readonly alignMask: number;
  /** 32-bit word index of the control block. */
  private readonly control: number;
  /** f64 index of the control block's figures. */
  private readonly controlFigures: number;
  /** 32-bit word index of the pointer map. */
  private readonly mapWord: number;
  /** 32-bit word index of this worker's slot. */
  private readonly slotWord: number;
  /** f64 index of this worker's figures. */
  private readonly slotFigures: number;
  /** 32-bit word index of this worker's class counts; the entries follow them. */
  private readonly countWord: number;
  private readonly entryWord: number;
  private readonly cacheClasses: number;
  /** log2 of the first usable size past the exact classes (CACHE_EXACT_CLASSES × align). */
  private readonly exactLog: number;
  /** Byte offset of CLASS_OF_REQUEST in the control block (layout.ts). */
  private readonly classOfRequest: number;
  private readonly cacheDepth: number;
  /** The largest request a cache hit can serve; -1 when there is no cache (or the heap is detached). */
  private cacheMaxRequest: number;
  /** cacheMaxRequest where malloc's shortest path may look in this object's own cache (unshared memory, no listener); else -1. */
  private localMaxRequest: number;
  /** The most usable bytes of a block free may put in this object's own cache (unshared memory); else -1. */
  private localMaxUsable: number;
  private readonly lockTimeout: number;
  private readonly owner: LockOwnerInfo;
  private listener: HeapListener | null = null;
  /** Unshared memory and no listener: malloc and free take their short paths. */
  private plain: boolean;
  private attached = true;
  /** Live blocks and bytes of the other slots, while this is the only worker attached (see notePeaks). */
  private othersLiveBlocks = 0;
  private othersLiveBytes = 0;
  private othersEpoch = -1;
  /**
   * Over unshared memory, the words every call reads or writes, held in plain memory while this object
   * owns the heap (the control block's OWNER word holds its token): this slot's figures (SF_*), the
   * peaks (CF_PEAK_*) and the break (mirrorBrk). A typed array over a resizable buffer costs V8 (node 20)
   * a bounds check against the buffer at every access; a field costs least of all (it stays a small
   * integer until it passes 2^31). The break goes to the buffer at once (it moves seldom); the figures
   * at the end of the task (a microtask, which also gives the heap up: see publish), before stats(),
   * check(), snapshot() and detach(), and when another heap object takes the heap over (see own).
   */
  private mirrorMallocs = 0;
  private mirrorFrees = 0;
  private mirrorReallocs = 0;
  private mirrorLiveBytes = 0;
  private mirrorPeakLiveBlocks = 0;
  private mirrorPeakLiveBytes = 0;
  /** The mirror's break: a small integer field, so that pointers made from it stay small integers for V8. */
  private mirrorBrk = 0;
  /** This object's owner token (unshared memory): unique in the realm, never 0. */
  private readonly token: number;
  /** Writes the mirror back and gives the heap up (unshared memory; bound once, queued by own as a microtask). */
  private readonly publishTask = (): void => this.publish();
  private publishPending = false;
  /**
   * Unshared memory: true while this object owns the heap, as far as this realm can tell — set by
   * own, cleared at the end of the task (publish), when another heap object takes the heap over
   * (through handOver), on restore and on detach. The shortest paths (a cache hit, free) read it instead of the OWNER word; they notice a
   * replaced or detached buffer by the pointer-map word they read anyway (`undefined`).
   */
  private owning = false;
  /** What another heap object calls to take the heap over: write back, and stop owning (bound once). */
  private readonly handOver = (): void => {
    this.writeBack();
    this.owning = false;
  };
  /**
   * Over unshared memory, this worker's front cache, held in plain memory while this object owns the
   * heap, as the figures are (see mirror): per class a LIFO stack of `cacheDepth` pointers with each
   * block's usable bytes beside it, so that a hit or a push touches no word of the buffer but the
   * pointer map's. The buffer's copy (the slot's cache words) is written whole at each write-back
   * (a few dozen words, once a task: cheaper than marking it changed at every hit and push), and read
   * by own when this object takes the heap over.
   */
  private readonly localCounts: Int32Array;
  private readonly localPointers: Int32Array;
  private readonly localUsable: Int32Array;
  private localCachedBytes = 0;
  /**
   * Over unshared memory, the class a cache hit for a request of `units` × align bytes looks in: its
   * request class, or the class the strategy was seen to put such requests in (CLASS_OF_REQUEST,
   * kept here too so that a hit reads no byte of the buffer to find its class).
   */
  private readonly classOfUnits: Uint8Array;

  /** Use `createHeap`, `createSharedHeap` or `attachHeap`. */
  constructor(binding: HeapBinding) {
    const { memory, base } = binding;
    const i32 = memory.i32;
    const control = base >> 2;
    this.memory = memory;
    this.base = base;
    this.control = control;
    this.controlFigures = (base + CF_OFFSET) >> 3;
    this.align = i32[control + C_ALIGN] as Alignment;
    this.alignShift = this.align === 8 ? 3 : 4;
    this.alignMask = this.align - 1;
    this.limit = i32[control + C_LIMIT];
    this.regionBase = i32[control + C_REGION_BASE];
    this.maxRequest = this.limit - this.regionBase;
    this.mapWord = i32[control + C_MAP_OFFSET] >> 2;
    this.threadSafe = (i32[control + C_FLAGS] & FLAG_THREAD_SAFE) !== 0;
    this.cacheClasses = i32[control + C_CACHE_CLASSES];
    this.cacheDepth = i32[control + C_CACHE_DEPTH];
    this.lockTimeout = binding.lockTimeout;
    this.owner = {
      name: "the heap lock",
      holderSlot: () => Atomics.load(this.memory.i32, this.control + C_LOCK_HOLDER) - 1,
      holderThread: (slot) => Atomics.load(this.memory.i32, this.slotWordOf(slot) + S_THREAD),
    };
    this.slot = this.claimSlot(binding.mode, binding.threadId);
    this.slotWord = this.slotWordOf(this.slot);
    this.slotFigures = ((this.slotWord << 2) + SF_OFFSET) >> 3;
    this.countWord = this.slotWord + (S_CACHE_OFFSET >> 2);
    this.entryWord = this.countWord + this.cacheClasses;
    this.exactLog = 31 - Math.clz32(CACHE_EXACT_CLASSES * this.align);
    this.classOfRequest = base + CLASS_OF_REQUEST_OFFSET;
    this.token = this.threadSafe ? 0 : nextOwnerToken();
    this.plain = !this.threadSafe;
    const cacheOn = (i32[control + C_FLAGS] & FLAG_FRONT_CACHE) !== 0 && this.cacheClasses > 1;
    this.cacheMaxRequest = cacheOn ? this.classFloor(this.cacheClasses - 1) : -1;
    const local = cacheOn && !this.threadSafe;
    this.localMaxRequest = local ? this.cacheMaxRequest : -1;
    // the exact classes only (cacheClassesOf): a block's class is its usable bytes over align
    this.localMaxUsable = local ? this.classFloor(Math.min(this.cacheClasses, CACHE_EXACT_CLASSES)) - 1 : -1;
    this.localCounts = new Int32Array(local ? this.cacheClasses : 0);
    this.localPointers = new Int32Array(local ? this.cacheClasses * this.cacheDepth : 0);
    this.localUsable = new Int32Array(local ? this.cacheClasses * this.cacheDepth : 0);
    this.classOfUnits = new Uint8Array(local ? (this.cacheMaxRequest >>> this.alignShift) + 1 : 0);
    const region = new HeapRegion(this);
    try {
      this.engine = this.withHeapLock("attach", () =>
        binding.mode === "create" ? binding.strategy.create(region) : binding.strategy.attach(region),
      );
    } catch (error) {
      this.releaseSlot();
      throw error;
    }
    this.strategy = this.engine.strategy;
  }

  // ---------------------------------------------------------------- the region (what the engine sees)

  /** The current end of the strategy's region (exclusive). */
  get brk(): number {
    if (this.threadSafe) return this.memory.i32[this.control + C_BRK];
    if (this.memory.i32[this.control + C_OWNER] !== this.token) this.own("brk");
    return this.mirrorBrk;
  }

  /** The break, for code already inside a call (the region's view of it). @internal */
  currentBrk(): number {
    return this.threadSafe ? this.memory.i32[this.control + C_BRK] : this.mirrorBrk;
  }

  /**
   * Moves the break up by `increment` bytes, growing the memory if needed; -1 if the limit or the
   * memory forbids it. Called by the engine, under the heap lock.
   *
   * @internal
   */
  extendRegion(increment: number): number {
    const old = this.currentBrk();
    const next = old + increment;
    if (increment < 0 || (increment & this.alignMask) !== 0 || next > this.limit) return -1;
    // this worker's cached blocks go back before the heap grows (they may make the room), if they are
    // many enough to: the caller sees no room, gives them back and asks again
    if (this.cacheMaxRequest >= 0 && this.cachedBytesHere() >= Math.max(increment, CACHE_DRAIN_BEFORE_GROWTH))
      return -1;
    if (next > this.memory.viewBytes && !this.memory.grow(Math.min(this.limit, next))) return -1;
    this.clearMapBits(old, next);
    this.memory.i32[this.control + C_BRK] = next;
    this.mirrorBrk = next;
    const f64 = this.memory.f64;
    if (next > f64[this.controlFigures + CF_PEAK_BRK]) f64[this.controlFigures + CF_PEAK_BRK] = next;
    if (this.listener !== null) this.listener("grow", old, next, 0);
    return old;
  }

  // ---------------------------------------------------------------- allocation

  malloc(size: number): Ptr {
    const ptr = this.tryMalloc(size);
    if (ptr === 0) throw this.outOfMemory("malloc", size);
    return ptr;
  }

  tryMalloc(size: number): Ptr {
    // (a negative size is ≥ 2^31 unsigned, past maxRequest)
    if (typeof size !== "number" || (size | 0) !== size || size >>> 0 > this.maxRequest)
      throw this.badSize("malloc", "size", size);
    // the shortest path, small enough for V8 to inline into the caller: a hit in this object's own
    // cache (unshared memory, no listener, this object the heap's owner)
    if (size <= this.localMaxRequest && this.owning) {
      const ptr = this.takeLocal(size);
      if (ptr !== 0) return ptr;
    }
    return this.mallocMiss(size);
  }

  /** malloc with no hit in this object's cache. */
  private mallocMiss(size: number): Ptr {
    if (!this.plain) return this.mallocAnyway(size);
    // unshared memory, no listener: the short path, small enough for V8 to inline
    if (this.memory.i32[this.control + C_OWNER] !== this.token) this.own("malloc");
    if (this.cacheMaxRequest >= 0) {
      const cached = size <= this.cacheMaxRequest ? this.takeLocal(size) : 0;
      return cached !== 0 ? cached : this.placeLocked(size);
    }
    const engine = this.engine;
    const ptr = engine.malloc(size);
    if (ptr === 0) return this.countFailure(); // no cache to give back: no room
    // setLiveBit's unshared half, written out: this is the path V8 must inline whole
    const unit = ptr >>> this.alignShift;
    this.memory.i32[this.mapWord + (unit >>> 5)] |= 1 << (unit & 31);
    this.countLocalMalloc(engine.lastUsableSize);
    return ptr;
  }

  /** malloc over shared memory, or with a listener. */
  private mallocAnyway(size: number): Ptr {
    const memory = this.memory;
    if (this.threadSafe) {
      // views cover every block: follow a memory another worker grew (a field compare, not a read
      // of the buffer's length, which costs more on a resizable buffer)
      if (memory.i32[this.control + C_BRK] > memory.viewBytes) memory.sync("malloc");
    } else if (memory.i32[this.control + C_OWNER] !== this.token) {
      this.own("malloc");
    }
    if (size <= this.cacheMaxRequest) {
      const ptr = this.threadSafe ? this.takeCached(size) : this.takeLocal(size);
      if (ptr !== 0) {
        if (this.listener !== null) this.listener("malloc", ptr, size, 0);
        return ptr;
      }
    }
    return this.mallocFromStrategy(size);
  }

  calloc(count: number, size: number): Ptr {
    if (typeof count !== "number" || (count | 0) !== count || count < 0 || count > this.maxRequest)
      throw this.badSize("calloc", "count", count);
    if (typeof size !== "number" || (size | 0) !== size || size < 0 || size > this.maxRequest)
      throw this.badSize("calloc", "size", size);
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
    const ptr = this.tryMalloc(total);
    if (ptr === 0) throw this.outOfMemory("calloc", total);
    this.memory.u8.fill(0, ptr, ptr + total);
    return ptr;
  }

  memalign(alignment: number, size: number): Ptr {
    if (
      typeof alignment !== "number" ||
      (alignment | 0) !== alignment ||
      !isPowerOfTwo(alignment) ||
      alignment > this.maxRequest
    ) {
      throw new InvalidSizeError(
        "memalign",
        "alignment",
        alignment,
        this.maxRequest,
        "expected a power of two",
      );
    }
    if (typeof size !== "number" || (size | 0) !== size || size < 0 || size > this.maxRequest)
      throw this.badSize("memalign", "size", size);
    const ptr = this.withHeapLock("memalign", () => {
      const engine = this.engine;
      const place = () => (alignment <= this.align ? engine.malloc(size) : engine.memalign(alignment, size));
      let placed = place();
      if (placed === 0 && this.flushCachesForRoom()) placed = place();
      if (placed === 0) {
        this.countFailure();
        throw this.outOfMemory("memalign", size + (alignment > this.align ? alignment : 0), true);
      }
      this.markLive(placed, engine.lastUsableSize);
      return placed;
    });
    if (this.listener !== null) this.listener("malloc", ptr, size, 0);
    return ptr;
  }

  realloc(ptr: Ptr, size: number): Ptr {
    if (ptr === 0) return this.malloc(size);
    if (typeof size !== "number" || (size | 0) !== size || size < 0 || size > this.maxRequest)
      throw this.badSize("realloc", "size", size);
    if (!this.isLive(ptr)) throw this.badPointer("realloc", ptr);
    if (size === 0) {
      this.free(ptr);
      return 0;
    }
    this.enterHeapLock("realloc");
    let moved: number;
    try {
      moved = this.reallocLocked(ptr, size);
    } finally {
      this.leaveHeapLock();
    }
    if (this.listener !== null) this.listener("realloc", moved, size, ptr);
    return moved;
  }

  /** realloc's work under the heap lock (over shared memory), written out so that no closure is made per call. */
  private reallocLocked(ptr: Ptr, size: number): Ptr {
    // another worker may have freed it since the check before the lock
    if (this.threadSafe && !this.isLive(ptr)) throw this.badPointer("realloc", ptr, true);
    const engine = this.engine;
    const oldUsable = engine.usableSize(ptr);
    let placed = engine.realloc(ptr, size);
    if (placed === 0 && this.flushCachesForRoom()) placed = engine.realloc(ptr, size);
    if (placed === 0) {
      this.countFailure();
      throw this.outOfMemory("realloc", size, true);
    }
    if (placed !== ptr) {
      this.clearLiveBit(ptr);
      this.setLiveBit(placed);
    }
    this.countRealloc(engine.lastUsableSize - oldUsable);
    return placed;
  }

  free(ptr: Ptr): void {
    if (ptr === 0) return;
    // the short path, small enough for V8 to inline into the caller: unshared memory, no listener,
    // this object the heap's owner
    if (this.plain && this.owning && !this.outsideRegion(ptr, this.mirrorBrk) && this.freeLocal(ptr) >= 0)
      return;
    this.freeSlow(ptr);
  }

  private freeSlow(ptr: Ptr): void {
    const memory = this.memory;
    if (this.threadSafe) {
      const brk = memory.i32[this.control + C_BRK];
      if (this.outsideRegion(ptr, brk)) throw this.badPointer("free", ptr);
      // views cover every block: follow a memory another worker grew (see tryMalloc)
      if (brk > memory.viewBytes) memory.sync("free");
      this.freeShared(ptr);
      return;
    }
    if (memory.i32[this.control + C_OWNER] !== this.token) this.own("free");
    if (this.outsideRegion(ptr, this.mirrorBrk)) throw this.badPointer("free", ptr);
    const usable = this.freeLocal(ptr);
    // (own followed a replaced buffer or threw: the map word reads)
    if (usable < 0) throw new DetachedMemoryError("free", "the heap's memory is gone");
    if (this.listener !== null) this.listener("free", ptr, usable, 0);
  }

  /** True unless `ptr` is a number that can be a payload: aligned, above the region's base, below `brk`. */
  private outsideRegion(ptr: Ptr, brk: number): boolean {
    // (ptr | 0) === ptr rejects fractions, NaN, ±Infinity and anything ≥ 2^31; typeof, bigints and the rest
    return (
      typeof ptr !== "number" ||
      (ptr | 0) !== ptr ||
      (ptr & this.alignMask) !== 0 ||
      ptr <= this.regionBase ||
      ptr >= brk
    );
  }

  usableSize(ptr: Ptr): number {
    if (!this.isLive(ptr)) throw this.badPointer("usableSize", ptr);
    this.memory.sync("usableSize");
    return this.engine.usableSize(ptr);
  }

  isLive(ptr: Ptr): boolean {
    if (this.outsideRegion(ptr, this.brk)) return false; // (the getter takes unshared memory over: see own)
    const unit = ptr >>> this.alignShift;
    if ((this.memory.i32[this.mapWord + (unit >>> 5)] & (1 << (unit & 31))) !== 0) return true;
    // views over a buffer that wasm code replaced read nothing: follow it, then look again
    return (
      this.memory.sync("isLive") && (this.memory.i32[this.mapWord + (unit >>> 5)] & (1 << (unit & 31))) !== 0
    );
  }

  // ---------------------------------------------------------------- the front cache

  /**
   * Shared memory: pops a cached block for a request of `size` bytes, or returns 0, holding this
   * worker's slot lock meanwhile and setting the pointer-map bit atomically. (Over unshared memory
   * the cache is takeLocal's.)
   */
  private takeCached(size: number): Ptr {
    const i32 = this.memory.i32;
    const cls = this.cacheClassFor(size);
    const countWord = this.countWord + cls;
    if (!(i32[countWord] > 0)) return 0; // also a detached buffer (undefined): the slow path says so
    this.lockSlot(this.slotWord, "malloc");
    const count = i32[countWord];
    if (count === 0) {
      release(i32, this.slotWord + S_LOCK); // another worker's flush emptied it meanwhile
      return 0;
    }
    const entry = i32[this.entryWord + cls * this.cacheDepth + count - 1];
    i32[countWord] = count - 1;
    const usable = this.entryUsable(cls, entry);
    i32[this.slotWord + S_CACHED_BYTES] -= usable;
    const ptr = entry & ~this.alignMask;
    const unit = ptr >>> this.alignShift;
    Atomics.or(i32, this.mapWord + (unit >>> 5), 1 << (unit & 31));
    this.countMalloc(usable);
    release(i32, this.slotWord + S_LOCK);
    return ptr;
  }

  /** The front-cache class of a block of `usable` bytes, or -1 if it is not cached. */
  private cacheClassOf(usable: number): number {
    if (this.cacheMaxRequest < 0) return -1;
    const cls = this.blockClass(usable);
    // class 0 (less than `align` usable bytes) would serve no request: such blocks are not cached
    return cls > 0 && cls < this.cacheClasses ? cls : -1;
  }

  /** The class whose range holds `usable` (layout.ts: exact below 64 × align, 8 per power of two above). */
  private blockClass(usable: number): number {
    if (usable >>> this.exactLog === 0) return usable >>> this.alignShift;
    const log = 31 - Math.clz32(usable);
    const sub = (usable >>> (log - CACHE_SUBCLASS_LOG)) & ((1 << CACHE_SUBCLASS_LOG) - 1);
    return CACHE_EXACT_CLASSES + ((log - this.exactLog) << CACHE_SUBCLASS_LOG) + sub;
  }

  /** The smallest usable size of class `cls`. */
  private classFloor(cls: number): number {
    if (cls < CACHE_EXACT_CLASSES) return cls << this.alignShift;
    const wide = cls - CACHE_EXACT_CLASSES;
    const log = this.exactLog + (wide >>> CACHE_SUBCLASS_LOG);
    return (1 << log) + ((wide & ((1 << CACHE_SUBCLASS_LOG) - 1)) << (log - CACHE_SUBCLASS_LOG));
  }

  /** The class a request of `size` bytes (at most cacheMaxRequest) takes: the lowest whose every block fits it. */
  private requestClass(size: number): number {
    if (size >>> this.exactLog === 0) return (size + this.alignMask) >>> this.alignShift || 1;
    const cls = this.blockClass(size);
    return this.classFloor(cls) < size ? cls + 1 : cls;
  }

  /** The class a cache hit for `size` bytes looks in: its request class, or where the strategy was seen to put it. */
  private cacheClassFor(size: number): number {
    const asked = this.requestClass(size);
    const seen = this.memory.u8[this.classOfRequest + asked];
    return seen === 0 ? asked : seen;
  }

  /**
   * Learns where the strategy puts a request of `size` bytes: the class of the `usable` bytes it
   * gave, if every block of that class fits every request of the same request class.
   */
  private learnClass(size: number, usable: number): void {
    if (size > this.cacheMaxRequest) return;
    const got = this.blockClass(usable);
    // over unshared memory, the common case reads no byte of the buffer: this class is already the one
    if (
      this.classOfUnits.length > 0 &&
      this.classOfUnits[(size + this.alignMask) >>> this.alignShift] === got
    )
      return;
    const asked = this.requestClass(size);
    if (got < asked || got >= this.cacheClasses) return;
    // several workers may learn at once: any class one writes is one that fits
    const u8 = this.memory.u8;
    const seen = u8[this.classOfRequest + asked];
    if (seen !== 0 && got >= seen) return;
    u8[this.classOfRequest + asked] = got;
    for (let units = 0; units < this.classOfUnits.length; units++) {
      if (this.requestClass(units << this.alignShift) === asked) this.classOfUnits[units] = got;
    }
  }

  /** The usable bytes of the block a cache entry of class `cls` holds. */
  private entryUsable(cls: number, entry: number): number {
    if (cls < CACHE_EXACT_CLASSES) return (cls << this.alignShift) | (entry & this.alignMask);
    return this.engine.usableSize(entry);
  }

  /** A cache entry as the buffer keeps it: an exact class's packs the usable bytes' low bits into the pointer's. */
  private packEntry(cls: number, ptr: Ptr, usable: number): number {
    return cls < CACHE_EXACT_CLASSES ? ptr | (usable & this.alignMask) : ptr;
  }

  /** Pushes a block on its class (which has room). */
  private pushCached(cls: number, ptr: Ptr, usable: number): void {
    const i32 = this.memory.i32;
    const countWord = this.countWord + cls;
    const count = i32[countWord];
    i32[this.entryWord + cls * this.cacheDepth + count] = this.packEntry(cls, ptr, usable);
    i32[countWord] = count + 1;
    i32[this.slotWord + S_CACHED_BYTES] += usable;
  }

  /** True if this worker's cache can take a block of class `cls` and `usable` bytes with no draining. */
  private cacheHasRoom(cls: number, usable: number): boolean {
    const i32 = this.memory.i32;
    return (
      i32[this.countWord + cls] < this.cacheDepth &&
      i32[this.slotWord + S_CACHED_BYTES] + usable <= CACHE_MAX_BYTES
    );
  }

  /**
   * Makes room in this worker's cache for a block of class `cls` and `usable` bytes: the class's
   * older half goes back if the class is full. False if the bytes would pass CACHE_MAX_BYTES: the
   * block goes to the strategy instead (emptying the whole cache there cost W over two workers a
   * third of its speed, its hits with it). The caller holds the heap lock (over shared memory) and
   * this slot's lock.
   */
  private makeCacheRoom(cls: number, usable: number): boolean {
    const i32 = this.memory.i32;
    if (i32[this.countWord + cls] === this.cacheDepth)
      this.drainClass(this.slotWord, cls, this.cacheDepth >> 1);
    return i32[this.slotWord + S_CACHED_BYTES] + usable <= CACHE_MAX_BYTES;
  }

  /**
   * Gives the older `count` blocks of class `cls` of the slot at `slotWord` back to the engine.
   * The caller holds the heap lock (over shared memory) and that slot's lock.
   */
  private drainClass(slotWord: number, cls: number, count: number): void {
    const i32 = this.memory.i32;
    const countWord = slotWord + (S_CACHE_OFFSET >> 2) + cls;
    const first = slotWord + (S_CACHE_OFFSET >> 2) + this.cacheClasses + cls * this.cacheDepth;
    const held = i32[countWord];
    const engine = this.engine;
    let bytes = 0;
    for (let i = 0; i < count; i++) {
      const entry = i32[first + i];
      bytes += this.entryUsable(cls, entry);
      engine.free(entry & ~this.alignMask);
    }
    // a few entries: a loop, not copyWithin, whose call costs more than the move
    for (let i = count; i < held; i++) i32[first + i - count] = i32[first + i];
    i32[countWord] = held - count;
    i32[slotWord + S_CACHED_BYTES] -= bytes;
  }

  /** Gives every block of the slot at `slotWord` back to the engine; returns how many there were. */
  private drainSlot(slotWord: number): number {
    let drained = 0;
    const countBase = slotWord + (S_CACHE_OFFSET >> 2);
    for (let cls = 0; cls < this.cacheClasses; cls++) {
      const held = this.memory.i32[countBase + cls];
      if (held > 0) {
        this.drainClass(slotWord, cls, held);
        drained += held;
      }
    }
    return drained;
  }

  /**
   * A request found no room: give cached blocks back so that the strategy can coalesce them. This
   * worker's first, then (over shared memory) every worker's. Caller holds the heap lock. Returns
   * true if any block went back.
   */
  private flushCachesForRoom(): boolean {
    if (this.cacheMaxRequest < 0) return false;
    let drained = this.drainOwnCache("malloc");
    if (this.threadSafe) {
      const count = this.memory.i32[this.control + C_SLOT_COUNT];
      for (let slot = 0; slot < count; slot++) {
        if (slot === this.slot) continue;
        const word = this.slotWordOf(slot);
        drained += this.withSlotLock(word, "malloc", () => this.drainSlot(word));
      }
    }
    return drained > 0;
  }

  /** Gives this worker's cached blocks back to the strategy. */
  flushCache(): void {
    this.requireAttached("flushCache");
    if (this.cacheMaxRequest < 0) return;
    this.withHeapLock("flushCache", () => this.drainOwnCache("flushCache"));
  }

  // ---------------------------------------------------------------- the strategy's path

  private mallocFromStrategy(size: number): Ptr {
    this.enterHeapLock("malloc");
    let ptr: number;
    try {
      ptr = this.placeLocked(size);
    } finally {
      this.leaveHeapLock();
    }
    if (ptr !== 0 && this.listener !== null) this.listener("malloc", ptr, size, 0);
    return ptr;
  }

  /** A block of `size` bytes from the strategy, marked live, or 0. The caller holds the heap lock. */
  private placeLocked(size: number): Ptr {
    const engine = this.engine;
    let placed = engine.malloc(size);
    if (placed === 0 && this.cacheMaxRequest >= 0) {
      // no room without growing, which extendRegion refuses while this worker's cache holds blocks:
      // give them back (they may make the room) and ask again; then every worker's
      if (this.holdsCachedBlocks()) {
        this.drainOwnCache("malloc");
        placed = engine.malloc(size);
      }
      if (placed === 0 && this.flushCachesForRoom()) placed = engine.malloc(size);
    }
    if (placed === 0) return this.countFailure();
    const usable = engine.lastUsableSize;
    this.markLive(placed, usable);
    if (this.cacheMaxRequest >= 0) this.learnClass(size, usable);
    return placed;
  }

  /**
   * free over unshared memory, this object the owner, `ptr` inside the region; returns the block's
   * usable bytes, or -1 (having changed nothing) if the buffer was replaced or detached.
   */
  private freeLocal(ptr: Ptr): number {
    const i32 = this.memory.i32;
    const unit = ptr >>> this.alignShift;
    const mapIndex = this.mapWord + (unit >>> 5);
    const bit = 1 << (unit & 31);
    const word = i32[mapIndex];
    if ((word & bit) === 0) {
      if (word === undefined) return -1;
      throw this.badPointer("free", ptr);
    }
    i32[mapIndex] = word & ~bit;
    const engine = this.engine;
    let usable: number;
    if (this.localMaxUsable < 0) {
      usable = engine.free(ptr); // no cache: the engine tells the size on the way
    } else {
      usable = engine.usableSize(ptr); // the cache's class comes first
      if (usable > this.localMaxUsable || !this.freeToLocal(ptr, usable)) engine.free(ptr);
    }
    this.countLocalFree(usable);
    return usable;
  }

  /** Gives every block of this worker's cache back to the engine (caller holds the heap lock); returns how many. */
  private drainOwnCache(operation: string): number {
    if (!this.threadSafe) return this.drainLocal();
    return this.withSlotLock(this.slotWord, operation, () => this.drainSlot(this.slotWord));
  }

  // ---------------------------------------------------------------- the front cache over unshared memory

  /** A cached block for a request of `size` bytes (at most cacheMaxRequest), made live; or 0. */
  private takeLocal(size: number): Ptr {
    const cls = this.classOfUnits[(size + this.alignMask) >>> this.alignShift];
    const count = this.localCounts[cls] - 1;
    if (count < 0) return 0;
    const top = cls * this.cacheDepth + count;
    const ptr = this.localPointers[top];
    const i32 = this.memory.i32;
    const unit = ptr >>> this.alignShift;
    const mapIndex = this.mapWord + (unit >>> 5);
    const word = i32[mapIndex];
    if (word === undefined) return 0; // a replaced or detached buffer: the slow path follows it or says so
    i32[mapIndex] = word | (1 << (unit & 31));
    const usable = this.localUsable[top];
    this.localCounts[cls] = count;
    this.localCachedBytes -= usable;
    this.countLocalMalloc(usable);
    return ptr;
  }

  /**
   * Pushes a freed block (its map bit already clear) on its class; false if it is not cacheable or
   * would pass CACHE_MAX_BYTES (it goes to the strategy). A full class first gives its older half back.
   */
  private freeToLocal(ptr: Ptr, usable: number): boolean {
    const cls = usable >>> this.alignShift; // an exact class: usable is at most localMaxUsable
    let count = this.localCounts[cls];
    if (count === this.cacheDepth) count = this.drainLocalClass(cls, count >> 1);
    // (class 0, less than `align` usable bytes, would serve no request)
    if (cls === 0 || this.localCachedBytes + usable > CACHE_MAX_BYTES) return false;
    const top = cls * this.cacheDepth + count;
    this.localPointers[top] = ptr;
    this.localUsable[top] = usable;
    this.localCounts[cls] = count + 1;
    this.localCachedBytes += usable;
    return true;
  }

  /** Gives the older `count` blocks of class `cls` back to the engine; returns how many it still holds. */
  private drainLocalClass(cls: number, count: number): number {
    const first = cls * this.cacheDepth;
    const held = this.localCounts[cls];
    const pointers = this.localPointers;
    const usable = this.localUsable;
    let bytes = 0;
    for (let i = first; i < first + count; i++) {
      bytes += usable[i];
      this.engine.free(pointers[i]);
    }
    // a few entries: a loop, not copyWithin, whose call costs more than the move
    for (let i = first + count; i < first + held; i++) {
      pointers[i - count] = pointers[i];
      usable[i - count] = usable[i];
    }
    this.localCounts[cls] = held - count;
    this.localCachedBytes -= bytes;
    return held - count;
  }

  /** Gives every block of the cache back to the engine; returns how many there were. */
  private drainLocal(): number {
    let drained = 0;
    for (let cls = 1; cls < this.localCounts.length; cls++) {
      const held = this.localCounts[cls];
      if (held > 0) {
        this.drainLocalClass(cls, held);
        drained += held;
      }
    }
    return drained;
  }

  /** Writes the cache to this slot's words of the buffer, in the layout's packed entries (publish). */
  private publishLocalCache(): void {
    const i32 = this.memory.i32;
    const countWord = this.countWord;
    const depth = this.cacheDepth;
    for (let cls = 0; cls < this.localCounts.length; cls++) {
      const count = this.localCounts[cls];
      i32[countWord + cls] = count;
      for (let i = cls * depth; i < cls * depth + count; i++) {
        i32[this.entryWord + i] = this.packEntry(cls, this.localPointers[i], this.localUsable[i]);
      }
    }
    i32[this.slotWord + S_CACHED_BYTES] = this.localCachedBytes;
  }

  /** Reads the cache and the learned classes from the buffer (own: this object takes the heap over). */
  private loadLocalCache(): void {
    const i32 = this.memory.i32;
    const depth = this.cacheDepth;
    for (let cls = 0; cls < this.localCounts.length; cls++) {
      const count = i32[this.countWord + cls];
      this.localCounts[cls] = count;
      for (let i = 0; i < count; i++) {
        const entry = i32[this.entryWord + cls * depth + i];
        this.localPointers[cls * depth + i] = entry & ~this.alignMask;
        this.localUsable[cls * depth + i] = this.entryUsable(cls, entry);
      }
    }
    this.localCachedBytes = i32[this.slotWord + S_CACHED_BYTES];
    for (let units = 0; units < this.classOfUnits.length; units++) {
      this.classOfUnits[units] = this.cacheClassFor(units << this.alignShift);
    }
  }

  private freeShared(ptr: Ptr): void {
    const memory = this.memory;
    const unit = ptr >>> this.alignShift;
    // a plain read (an atomic one costs node 20 some 10 ns): a block handed over by another worker came
    // through something that synchronizes, so its bit shows; two frees racing both see it, and the
    // atomic test below lets only one of them through
    if ((memory.i32[this.mapWord + (unit >>> 5)] & (1 << (unit & 31))) === 0) {
      throw this.badPointer("free", ptr);
    }
    // read before the block is ours: only to choose the path; a block another worker frees meanwhile
    // fails the atomic test below, whatever this read gave
    const usable = this.engine.usableSize(ptr);
    const cls = this.cacheClassOf(usable);
    const i32 = this.memory.i32;
    if (cls >= 0 && this.cacheHasRoom(cls, usable)) {
      this.lockSlot(this.slotWord, "free");
      if (this.cacheHasRoom(cls, usable)) {
        if (!this.takeLiveBit(ptr)) {
          release(i32, this.slotWord + S_LOCK);
          throw this.badPointer("free", ptr);
        }
        this.pushCached(cls, ptr, usable);
        this.countFree(usable);
        release(i32, this.slotWord + S_LOCK);
        if (this.listener !== null) this.listener("free", ptr, usable, 0);
        return;
      }
      release(i32, this.slotWord + S_LOCK);
    }
    this.enterHeapLock("free");
    try {
      if (!this.takeLiveBit(ptr)) throw this.badPointer("free", ptr, true);
      let cached = false;
      if (cls >= 0) {
        this.lockSlot(this.slotWord, "free");
        cached = this.makeCacheRoom(cls, usable);
        if (cached) this.pushCached(cls, ptr, usable);
        release(this.memory.i32, this.slotWord + S_LOCK);
      }
      if (!cached) this.engine.free(ptr);
      this.countFree(usable);
    } finally {
      this.leaveHeapLock();
    }
    if (this.listener !== null) this.listener("free", ptr, usable, 0);
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
    this.memory.sync("view");
    const usable = this.engine.usableSize(ptr);
    if (
      typeof length !== "number" ||
      (length | 0) !== length ||
      length < 0 ||
      length * type.BYTES_PER_ELEMENT > usable
    ) {
      throw new InvalidSizeError(
        "view",
        "length",
        length,
        Math.floor(usable / type.BYTES_PER_ELEMENT),
        `the block at ${ptr} holds ${usable} bytes`,
      );
    }
    return new type(this.memory.buffer, ptr, length);
  }

  // ---------------------------------------------------------------- inspection

  stats(): HeapStats {
    return this.withWholeHeap("stats", () => {
      const engineStats = this.engine.stats();
      const figures = this.sumSlots();
      const peaks = this.memory.f64;
      const heapSize = this.brk - this.regionBase;
      return {
        ...engineStats,
        strategy: this.strategy,
        align: this.align,
        liveBlocks: figures.liveBlocks,
        liveBytes: figures.liveBytes,
        peakLiveBlocks: Math.max(peaks[this.controlFigures + CF_PEAK_LIVE_BLOCKS], figures.liveBlocks),
        peakLiveBytes: Math.max(peaks[this.controlFigures + CF_PEAK_LIVE_BYTES], figures.liveBytes),
        heapSize,
        peakHeapSize: peaks[this.controlFigures + CF_PEAK_BRK] - this.regionBase,
        capacity: this.memory.byteLength,
        heapLimit: this.limit - this.regionBase,
        overheadBytes: heapSize - figures.liveBytes - engineStats.freeBytes - figures.cachedBytes,
        pointerMapBytes: this.memory.i32[this.control + C_MAP_BYTES],
        cachedBlocks: figures.cachedBlocks,
        cachedBytes: figures.cachedBytes,
        attachedWorkers: this.memory.i32[this.control + C_ATTACHED],
        externalFragmentation:
          engineStats.freeBytes === 0 ? 0 : 1 - engineStats.largestFreeBlock / engineStats.freeBytes,
        mallocs: figures.mallocs,
        frees: figures.frees,
        reallocs: figures.reallocs,
        failedAllocations: figures.failed,
      };
    });
  }

  usage(): HeapUsage {
    return this.withWholeHeap("usage", () => {
      const figures = this.sumSlots();
      const engine = this.engine;
      const free =
        engine.freeSpace?.(
          figures.liveBlocks + figures.cachedBlocks,
          figures.liveBytes + figures.cachedBytes,
        ) ?? engine.stats();
      const heapSize = this.brk - this.regionBase;
      return {
        heapSize,
        liveBlocks: figures.liveBlocks,
        liveBytes: figures.liveBytes,
        cachedBytes: figures.cachedBytes,
        freeBytes: free.freeBytes,
        largestFreeBlock: free.largestFreeBlock,
        overheadBytes: heapSize - figures.liveBytes - free.freeBytes - figures.cachedBytes,
        externalFragmentation: free.freeBytes === 0 ? 0 : 1 - free.largestFreeBlock / free.freeBytes,
      };
    });
  }

  /** Every block and metadata area in address order; blocks waiting in a front cache are `cached`. */
  blocks(): IterableIterator<BlockInfo> {
    const list = this.withWholeHeap("blocks", () => {
      const cached = this.cachedPointers();
      const result: BlockInfo[] = [];
      for (const block of this.engine.blocks()) {
        result.push(block.state === "used" && cached.has(block.ptr) ? { ...block, state: "cached" } : block);
      }
      return result;
    });
    return list[Symbol.iterator]();
  }

  /** The strategy's own text report, where it has one. */
  report(): string | undefined {
    return this.withWholeHeap("report", () => this.engine.report?.());
  }

  /**
   * Verifies the engine's invariants, then the heap's own (./layout.ts): the pointer map, the front
   * caches and the figures against the blocks. Over shared memory it holds every lock while it looks.
   */
  check(): void {
    this.withWholeHeap("check", () => this.checkHeap());
  }

  private checkHeap(): void {
    this.engine.check();
    const cached = this.checkCaches();
    let live = 0;
    let liveBytes = 0;
    let cachedBlocks = 0;
    let cachedBytes = 0;
    for (const block of this.engine.blocks()) {
      if (block.state !== "used") continue;
      const isLive = this.isLive(block.ptr);
      const usable = cached.get(block.ptr);
      if (isLive && usable !== undefined) {
        throw new HeapCorruptionError(block.offset, `block ${block.ptr} is both live and in a front cache`);
      }
      if (usable !== undefined) {
        if (usable !== block.payload) {
          throw new HeapCorruptionError(
            block.offset,
            `front-cache entry for ${block.ptr} says ${usable} usable bytes, the block holds ${block.payload}`,
          );
        }
        cachedBlocks++;
        cachedBytes += usable;
        continue;
      }
      if (!isLive) {
        throw new HeapCorruptionError(
          block.offset,
          `used block with payload ${block.ptr} is neither in the pointer map nor in a front cache`,
        );
      }
      live++;
      liveBytes += block.payload;
    }
    if (cachedBlocks !== cached.size) {
      throw new HeapCorruptionError(
        this.base,
        `the front caches hold ${cached.size} entries but only ${cachedBlocks} are used blocks of the strategy`,
      );
    }
    const mapped = this.countMapBits();
    if (mapped !== live) {
      throw new HeapCorruptionError(
        this.base,
        `the pointer map marks ${mapped} live blocks but the heap holds ${live}`,
      );
    }
    const figures = this.sumSlots();
    if (live !== figures.liveBlocks || liveBytes !== figures.liveBytes) {
      throw new HeapCorruptionError(
        this.base,
        `figures say ${figures.liveBlocks} live blocks of ${figures.liveBytes} bytes, the blocks say ${live} of ${liveBytes}`,
      );
    }
    const free = this.engine.freeSpace?.(live + cachedBlocks, liveBytes + cachedBytes);
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

  /** Every front-cache entry of every slot, checked for class and depth: payload pointer → usable bytes. */
  private checkCaches(): Map<number, number> {
    const entries = new Map<number, number>();
    if (this.cacheClasses === 0) return entries;
    const i32 = this.memory.i32;
    const slots = i32[this.control + C_SLOT_COUNT];
    for (let slot = 0; slot < slots; slot++) {
      const slotWord = this.slotWordOf(slot);
      const countBase = slotWord + (S_CACHE_OFFSET >> 2);
      let slotBlocks = 0;
      let slotBytes = 0;
      for (let cls = 0; cls < this.cacheClasses; cls++) {
        const count = i32[countBase + cls];
        if (count < 0 || count > this.cacheDepth) {
          throw new HeapCorruptionError(
            (countBase + cls) << 2,
            `front-cache class ${cls} of slot ${slot} counts ${count}`,
          );
        }
        for (let i = 0; i < count; i++) {
          const entry = i32[countBase + this.cacheClasses + cls * this.cacheDepth + i];
          const ptr = entry & ~this.alignMask;
          const usable = this.entryUsable(cls, entry);
          if (this.blockClass(usable) !== cls) {
            throw new HeapCorruptionError(
              ptr,
              `block ${ptr} of ${usable} usable bytes is in front-cache class ${cls}`,
            );
          }
          if (entries.has(ptr)) {
            throw new HeapCorruptionError(ptr, `block ${ptr} is in the front caches twice`);
          }
          entries.set(ptr, usable);
          slotBlocks++;
          slotBytes += usable;
        }
      }
      const bytesWord = i32[slotWord + S_CACHED_BYTES];
      if (bytesWord !== slotBytes || slotBytes > CACHE_MAX_BYTES) {
        throw new HeapCorruptionError(
          (slotWord + S_CACHED_BYTES) << 2,
          `slot ${slot} says its cache holds ${bytesWord} bytes; its ${slotBlocks} blocks have ${slotBytes} (at most ${CACHE_MAX_BYTES})`,
        );
      }
    }
    return entries;
  }

  private cachedPointers(): Set<number> {
    return new Set(this.checkCaches().keys());
  }

  /** The pointer map's bits set for `[regionBase, brk)` (those at or past the break mean nothing: invariant 1). */
  private countMapBits(): number {
    const brk = this.brk;
    if (brk <= this.regionBase) return 0;
    const i32 = this.memory.i32;
    const first = this.mapWord + ((this.regionBase >>> this.alignShift) >>> 5);
    const last = this.mapWord + (((brk - 1) >>> this.alignShift) >>> 5);
    let mapped = 0;
    for (let word = first; word <= last; word++) {
      const bits = i32[word];
      if (bits !== 0) mapped += popcount(bits);
    }
    return mapped;
  }

  /** Installs a listener called after every operation of this heap object (or removes it with `null`). */
  onEvent(listener: HeapListener | null): void {
    this.listener = listener;
    this.plain = !this.threadSafe && listener === null;
    this.localMaxRequest = this.plain && this.localCounts.length > 0 ? this.cacheMaxRequest : -1;
  }

  /** A copy of the heap's whole state: its memory up to the break, less the pointer map's words past the break. */
  snapshot(): HeapSnapshot {
    return this.withWholeHeap("snapshot", () => {
      const brk = this.brk;
      const u8 = this.memory.u8;
      return {
        strategy: this.strategy,
        head: u8.slice(0, mapEnd(this.mapWord << 2, brk, this.align)),
        region: u8.slice(this.regionBase, brk),
        brk,
      };
    });
  }

  /** Puts the heap back in the state of a snapshot taken from this heap (or one of the same strategy and layout). */
  restore(snapshot: HeapSnapshot): void {
    if (snapshot.strategy !== this.strategy) {
      throw new InvalidPointerError(
        "restore",
        0,
        `the snapshot is of strategy ${snapshot.strategy}, this heap is ${this.strategy}`,
      );
    }
    const head = snapshot.head;
    const saved = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const sameLayout =
      head.length >= this.base + CONTROL_BYTES &&
      snapshot.region.length === snapshot.brk - this.regionBase &&
      LAYOUT_WORDS.every(
        (i) => saved.getInt32(this.base + i * 4, true) === this.memory.i32[this.control + i],
      );
    if (!sameLayout) {
      throw new InvalidSizeError(
        "restore",
        "snapshot",
        snapshot.brk,
        this.limit,
        "the snapshot is of a heap of another layout",
      );
    }
    this.withWholeHeap("restore", () => {
      if (snapshot.brk > this.memory.viewBytes && !this.memory.grow(snapshot.brk)) {
        throw new InvalidSizeError(
          "restore",
          "snapshot",
          snapshot.brk,
          this.memory.maxByteLength,
          "the snapshot does not fit this memory",
        );
      }
      const i32 = this.memory.i32;
      const lock = i32[this.control + C_LOCK];
      const holder = i32[this.control + C_LOCK_HOLDER];
      const slotLock = i32[this.slotWord + S_LOCK];
      const u8 = this.memory.u8;
      // (map words past the snapshot's break mean nothing: invariant 1)
      u8.set(head, 0);
      u8.set(snapshot.region, this.regionBase);
      // the locks are this call's, and this worker keeps its slot
      i32[this.control + C_LOCK] = lock;
      i32[this.control + C_LOCK_HOLDER] = holder;
      i32[this.slotWord + S_LOCK] = slotLock;
      i32[this.slotWord + S_STATE] = SLOT_ATTACHED;
      i32[this.control + C_OWNER] = 0; // the mirror is read again from what was restored
      this.owning = false;
      this.othersEpoch = -1;
    });
  }

  /**
   * Clears the pointer-map bits of `[from, to)`, the part the break is about to pass (invariant 1:
   * bits at or above the break mean nothing). The word holding `from` keeps its lower bits, which
   * other workers may be setting at the same time: an atomic and, over shared memory.
   */
  private clearMapBits(from: number, to: number): void {
    if (to <= from) return;
    const i32 = this.memory.i32;
    const firstUnit = from >>> this.alignShift;
    const first = this.mapWord + (firstUnit >>> 5);
    const last = this.mapWord + (((to - 1) >>> this.alignShift) >>> 5);
    const keep = (1 << (firstUnit & 31)) - 1;
    if (this.threadSafe) Atomics.and(i32, first, keep);
    else i32[first] &= keep;
    if (last > first) i32.fill(0, first + 1, last + 1);
  }

  /**
   * Leaves a shared heap: gives this worker's cached blocks back and frees its slot. The heap
   * object is unusable afterwards (`DetachedMemoryError`); the heap itself, and every block, stays.
   */
  detach(): void {
    if (!this.attached) return;
    this.flushCache();
    this.withHeapLock("detach", () => this.releaseSlot());
    if (!this.threadSafe) this.disown();
    this.attached = false;
    this.cacheMaxRequest = -1;
    this.localMaxRequest = -1;
    this.localMaxUsable = -1;
  }

  // ---------------------------------------------------------------- internals: locks

  /** Runs `body` under the heap lock (over shared memory), after following the memory's length. */
  private withHeapLock<T>(operation: string, body: () => T): T {
    this.enterHeapLock(operation);
    try {
      return body();
    } finally {
      this.leaveHeapLock();
    }
  }

  /**
   * Takes the heap lock (over shared memory) and follows the memory's length; every call into the
   * strategy is between this and {@link leaveHeapLock}, written out where it is hot so that no
   * closure is made per call.
   */
  private enterHeapLock(operation: string): void {
    this.requireAttached(operation);
    if (!this.threadSafe) {
      // the owner check follows a memory that was replaced or detached (see own)
      if (this.memory.i32[this.control + C_OWNER] !== this.token) this.own(operation);
      return;
    }
    const i32 = this.memory.i32;
    if (Atomics.compareExchange(i32, this.control + C_LOCK, 0, 1) !== 0) {
      acquire(i32, this.control + C_LOCK, this.lockTimeout, operation, this.owner);
    }
    Atomics.store(i32, this.control + C_LOCK_HOLDER, this.slot + 1);
    try {
      this.memory.follow(operation, this.currentBrk());
    } catch (error) {
      this.leaveHeapLock();
      throw error;
    }
  }

  /**
   * Unshared memory: makes this object the heap's owner, the one whose mirror holds the break and
   * figures. Another heap object over the same buffer may have been its owner since this one's last
   * call, or the buffer may be a copy (a snapshot restored, a transfer) or gone: the OWNER word tells,
   * since a view of a replaced or detached buffer reads `undefined` there. The mirror is read again
   * from the buffer, which every write goes to.
   */
  private own(operation: string): void {
    this.requireAttached(operation);
    const memory = this.memory;
    let owner = memory.i32[this.control + C_OWNER];
    if (owner === undefined) {
      memory.sync(operation); // a replaced wasm buffer is followed; a detached one throws
      owner = memory.i32[this.control + C_OWNER];
      if (owner === undefined) {
        throw new DetachedMemoryError(operation, "the memory is now smaller than the heap's control block");
      }
    }
    if (owner === this.token || owner === -this.token) {
      // still this object's (the buffer is new: a wasm memory grew), or given back by it at the end of
      // its last task with no other object taking it since: the mirror is still the heap
      memory.i32[this.control + C_OWNER] = this.token;
    } else {
      this.takeOver(operation);
    }
    this.owning = true;
    if (!this.publishPending) {
      this.publishPending = true;
      queueMicrotask(this.publishTask);
    }
  }

  /** own's long way, the heap having been another object's or restored: the mirror is read from the buffer. */
  private takeOver(operation: string): void {
    const memory = this.memory;
    // the heap object that owned the heap (in this realm) writes its figures back first
    const publishers = publishersOf(memory);
    const previous = publishers.get(this.base);
    if (previous !== undefined && previous !== this.handOver) previous();
    const i32 = memory.i32;
    const f64 = memory.f64;
    const brk = i32[this.control + C_BRK];
    memory.follow(operation, brk);
    this.mirrorBrk = brk;
    this.mirrorMallocs = f64[this.slotFigures + SF_MALLOCS];
    this.mirrorFrees = f64[this.slotFigures + SF_FREES];
    this.mirrorReallocs = f64[this.slotFigures + SF_REALLOCS];
    this.mirrorLiveBytes = f64[this.slotFigures + SF_LIVE_BYTES];
    this.mirrorPeakLiveBlocks = f64[this.controlFigures + CF_PEAK_LIVE_BLOCKS];
    this.mirrorPeakLiveBytes = f64[this.controlFigures + CF_PEAK_LIVE_BYTES];
    if (this.localCounts.length > 0) this.loadLocalCache();
    i32[this.control + C_OWNER] = this.token;
    publishers.set(this.base, this.handOver);
  }

  /**
   * Unshared memory, at the end of a task in which this object took the heap (own queues it): writes
   * the mirror back and gives the heap up, −token in the OWNER word. The object's next call takes it
   * again (own, in one word when no other object took it meanwhile) and queues this again: so the calls
   * between need no check of their own that a write-back is queued.
   */
  private publish(): void {
    this.publishPending = false;
    this.writeBack();
    const i32 = this.memory.i32;
    if (i32[this.control + C_OWNER] === this.token) i32[this.control + C_OWNER] = -this.token;
    this.owning = false;
  }

  /**
   * Unshared memory: writes the mirror's figures and the cache to the buffer, if this object still owns
   * the heap there (not if another object took it over, the heap was restored, or the buffer is gone).
   */
  private writeBack(): void {
    const memory = this.memory;
    try {
      memory.sync("publish"); // a wasm memory grown meanwhile has a new buffer
    } catch {
      return; // detached: nothing to write to
    }
    const i32 = memory.i32;
    if (i32[this.control + C_OWNER] !== this.token) return;
    const f64 = memory.f64;
    f64[this.slotFigures + SF_MALLOCS] = this.mirrorMallocs;
    f64[this.slotFigures + SF_FREES] = this.mirrorFrees;
    f64[this.slotFigures + SF_REALLOCS] = this.mirrorReallocs;
    f64[this.slotFigures + SF_LIVE_BYTES] = this.mirrorLiveBytes;
    f64[this.controlFigures + CF_PEAK_LIVE_BLOCKS] = this.mirrorPeakLiveBlocks;
    f64[this.controlFigures + CF_PEAK_LIVE_BYTES] = this.mirrorPeakLiveBytes;
    if (this.localCounts.length > 0) this.publishLocalCache();
  }

  /** Unshared memory: writes the figures back and gives the heap up; this object's next call will take it again. */
  private disown(): void {
    this.writeBack();
    const i32 = this.memory.i32;
    const owner = i32[this.control + C_OWNER];
    if (owner === this.token || owner === -this.token) i32[this.control + C_OWNER] = 0;
    const publishers = publishersOf(this.memory);
    if (publishers.get(this.base) === this.handOver) publishers.delete(this.base);
    this.owning = false;
  }

  private leaveHeapLock(): void {
    if (!this.threadSafe) return;
    const i32 = this.memory.i32;
    Atomics.store(i32, this.control + C_LOCK_HOLDER, 0);
    release(i32, this.control + C_LOCK);
  }

  /** Runs `body` under the heap lock and every slot lock: nothing in the heap moves meanwhile. */
  private withWholeHeap<T>(operation: string, body: () => T): T {
    return this.withHeapLock(operation, () => {
      if (!this.threadSafe) {
        this.writeBack(); // what the body reads of the figures is in the buffer
        return body();
      }
      const slots = this.memory.i32[this.control + C_SLOT_COUNT];
      let locked = 0;
      try {
        for (; locked < slots; locked++) this.lockSlot(this.slotWordOf(locked), operation);
        this.notePeaks();
        return body();
      } finally {
        for (let slot = 0; slot < locked; slot++) this.unlockSlot(this.slotWordOf(slot));
      }
    });
  }

  private withSlotLock<T>(slotWord: number, operation: string, body: () => T): T {
    if (!this.threadSafe) return body();
    this.lockSlot(slotWord, operation);
    try {
      return body();
    } finally {
      this.unlockSlot(slotWord);
    }
  }

  /**
   * Takes the lock of the slot at `slotWord`. Its owner takes it on the fast path and writes nothing
   * more; another worker (stats, check, a flush) records itself in SLOT_LOCK_HOLDER, so that a wait
   * that runs out can name whoever holds it. Release with {@link unlockSlot}.
   */
  private lockSlot(slotWord: number, operation: string): void {
    const i32 = this.memory.i32;
    if (slotWord === this.slotWord) {
      // the fast path: no object is made unless the wait runs out
      if (Atomics.compareExchange(i32, slotWord + S_LOCK, 0, 1) === 0) return;
      acquire(i32, slotWord + S_LOCK, this.lockTimeout, operation, this.slotLockOwner(slotWord));
      return;
    }
    acquire(i32, slotWord + S_LOCK, this.lockTimeout, operation, this.slotLockOwner(slotWord));
    Atomics.store(i32, slotWord + S_LOCK_HOLDER, this.slot + 1);
  }

  /** Who holds the lock of the slot at `slotWord`, for a `LockTimeoutError`. */
  private slotLockOwner(slotWord: number): LockOwnerInfo {
    const slot = (slotWord - this.slotWordOf(0)) / (this.memory.i32[this.control + C_SLOT_BYTES] >> 2);
    return {
      name: `the lock of worker slot ${slot}`,
      holderSlot: () => {
        const other = Atomics.load(this.memory.i32, slotWord + S_LOCK_HOLDER);
        return other === 0 ? slot : other - 1;
      },
      holderThread: (holder) => Atomics.load(this.memory.i32, this.slotWordOf(holder) + S_THREAD),
    };
  }

  private unlockSlot(slotWord: number): void {
    const i32 = this.memory.i32;
    if (slotWord !== this.slotWord) Atomics.store(i32, slotWord + S_LOCK_HOLDER, 0);
    release(i32, slotWord + S_LOCK);
  }

  private requireAttached(operation: string): void {
    if (!this.attached) {
      throw new DetachedMemoryError(
        operation,
        "this heap object was detached from its heap: attach again to use it",
      );
    }
  }

  // ---------------------------------------------------------------- internals: slots and figures

  private slotWordOf(slot: number): number {
    const i32 = this.memory.i32;
    return (i32[this.control + C_SLOTS_OFFSET] >> 2) + slot * (i32[this.control + C_SLOT_BYTES] >> 2);
  }

  /** Takes a worker slot: slot 0 over unshared memory (one thread: nothing to share it with), else a free one. */
  private claimSlot(mode: "create" | "attach", threadId: number): number {
    const i32 = this.memory.i32;
    const slots = i32[this.control + C_SLOT_COUNT];
    let claimed = -1;
    if (!this.threadSafe) {
      claimed = 0;
      if (mode === "create") i32[this.control + C_ATTACHED] = 1;
      i32[this.slotWordOf(0) + S_STATE] = SLOT_ATTACHED;
    } else {
      for (let slot = 0; slot < slots && claimed < 0; slot++) {
        const word = this.slotWordOf(slot) + S_STATE;
        if (Atomics.compareExchange(i32, word, SLOT_FREE, SLOT_ATTACHED) === SLOT_FREE) claimed = slot;
      }
      if (claimed < 0) {
        throw new DetachedMemoryError(
          "attach",
          `all ${slots} worker slots of the heap are taken: detach a worker first, or make the heap with more \`workers\``,
        );
      }
      Atomics.add(i32, this.control + C_ATTACHED, 1);
      Atomics.add(i32, this.control + C_ATTACH_EPOCH, 1);
    }
    Atomics.store(i32, this.slotWordOf(claimed) + S_THREAD, threadId);
    return claimed;
  }

  private releaseSlot(): void {
    if (!this.threadSafe) return;
    const i32 = this.memory.i32;
    Atomics.sub(i32, this.control + C_ATTACHED, 1);
    Atomics.add(i32, this.control + C_ATTACH_EPOCH, 1);
    Atomics.store(i32, this.slotWordOf(this.slot) + S_STATE, SLOT_FREE);
  }

  /** The usable bytes of the blocks in this worker's front cache. */
  private cachedBytesHere(): number {
    return this.threadSafe ? this.memory.i32[this.slotWord + S_CACHED_BYTES] : this.localCachedBytes;
  }

  /** True if this worker's front cache holds any block. */
  private holdsCachedBlocks(): boolean {
    return this.cachedBytesHere() !== 0;
  }

  /** Counts a realloc that changed the live bytes by `liveBytesDelta`, and a new peak (it adds no block). */
  private countRealloc(liveBytesDelta: number): void {
    if (this.threadSafe) {
      this.memory.f64[this.slotFigures + SF_LIVE_BYTES] += liveBytesDelta;
      this.memory.f64[this.slotFigures + SF_REALLOCS]++;
      this.notePeaks();
      return;
    }
    this.mirrorLiveBytes += liveBytesDelta;
    this.mirrorReallocs++;
    if (this.mirrorLiveBytes > this.mirrorPeakLiveBytes) this.mirrorPeakLiveBytes = this.mirrorLiveBytes;
  }

  /** Shared memory: counts a free of a block of `usable` bytes in this worker's slot. */
  private countFree(usable: number): void {
    const f64 = this.memory.f64;
    f64[this.slotFigures + SF_FREES]++;
    f64[this.slotFigures + SF_LIVE_BYTES] -= usable;
  }

  /** Unshared memory: counts a free in the mirror (written back later: see publish); small, for V8 to inline into free. */
  private countLocalFree(usable: number): void {
    this.mirrorFrees++;
    this.mirrorLiveBytes -= usable;
  }

  /** Counts a block of `usable` bytes made live (by the strategy or from the cache), and new peaks. */
  private countMalloc(usable: number): void {
    if (this.threadSafe) {
      const f64 = this.memory.f64;
      f64[this.slotFigures + SF_MALLOCS]++;
      f64[this.slotFigures + SF_LIVE_BYTES] += usable;
      this.notePeaks();
      return;
    }
    this.countLocalMalloc(usable);
  }

  /** Unshared memory: countMalloc in the mirror (written back later: see publish); small, for V8 to inline into malloc. */
  private countLocalMalloc(usable: number): void {
    this.mirrorMallocs++;
    this.mirrorLiveBytes += usable;
    const liveBlocks = this.mirrorMallocs - this.mirrorFrees;
    if (liveBlocks > this.mirrorPeakLiveBlocks) this.mirrorPeakLiveBlocks = liveBlocks;
    if (this.mirrorLiveBytes > this.mirrorPeakLiveBytes) this.mirrorPeakLiveBytes = this.mirrorLiveBytes;
  }

  /** Counts an allocation that found no room (every worker's count: the one word a rejected call writes); 0. */
  private countFailure(): 0 {
    Atomics.add(this.memory.i32, this.control + C_FAILED, 1);
    return 0;
  }

  private markLive(ptr: Ptr, usable: number): void {
    this.setLiveBit(ptr);
    this.countMalloc(usable);
  }

  private setLiveBit(ptr: Ptr): void {
    const unit = ptr >>> this.alignShift;
    if (this.threadSafe) Atomics.or(this.memory.i32, this.mapWord + (unit >>> 5), 1 << (unit & 31));
    else this.memory.i32[this.mapWord + (unit >>> 5)] |= 1 << (unit & 31);
  }

  private clearLiveBit(ptr: Ptr): void {
    const unit = ptr >>> this.alignShift;
    if (this.threadSafe) Atomics.and(this.memory.i32, this.mapWord + (unit >>> 5), ~(1 << (unit & 31)));
    else this.memory.i32[this.mapWord + (unit >>> 5)] &= ~(1 << (unit & 31));
  }

  /** Clears the live bit of `ptr` if it is set, atomically; false if it was not (a double free raced or not). */
  private takeLiveBit(ptr: Ptr): boolean {
    const unit = ptr >>> this.alignShift;
    const bit = 1 << (unit & 31);
    return (Atomics.and(this.memory.i32, this.mapWord + (unit >>> 5), ~bit) & bit) !== 0;
  }

  /**
   * Shared memory: raises the peaks to the live figures now (over unshared memory the mirror's
   * counting does). While this is the only worker attached, the other slots are still and their
   * sums are kept from the last attach or detach, so this is exact; with several workers at once it
   * is called under the heap lock, and the peaks are those seen at each call that reaches the strategy.
   */
  private notePeaks(): void {
    const f64 = this.memory.f64;
    const i32 = this.memory.i32;
    let liveBlocks: number;
    let liveBytes: number;
    const own = this.slotFigures;
    if (i32[this.control + C_ATTACHED] === 1) {
      const epoch = i32[this.control + C_ATTACH_EPOCH];
      if (epoch !== this.othersEpoch) {
        const all = this.sumSlots();
        this.othersLiveBlocks = all.liveBlocks - (f64[own + SF_MALLOCS] - f64[own + SF_FREES]);
        this.othersLiveBytes = all.liveBytes - f64[own + SF_LIVE_BYTES];
        this.othersEpoch = epoch;
      }
      liveBlocks = this.othersLiveBlocks + f64[own + SF_MALLOCS] - f64[own + SF_FREES];
      liveBytes = this.othersLiveBytes + f64[own + SF_LIVE_BYTES];
    } else {
      if (Atomics.load(i32, this.control + C_LOCK_HOLDER) !== this.slot + 1) return;
      const slots = i32[this.control + C_SLOT_COUNT];
      const first = this.slotWordOf(0);
      const stride = i32[this.control + C_SLOT_BYTES] >> 3;
      liveBlocks = 0;
      liveBytes = 0;
      for (let slot = 0, figures = ((first << 2) + SF_OFFSET) >> 3; slot < slots; slot++, figures += stride) {
        liveBlocks += f64[figures + SF_MALLOCS] - f64[figures + SF_FREES];
        liveBytes += f64[figures + SF_LIVE_BYTES];
      }
    }
    const peaks = this.controlFigures;
    if (liveBlocks > f64[peaks + CF_PEAK_LIVE_BLOCKS]) f64[peaks + CF_PEAK_LIVE_BLOCKS] = liveBlocks;
    if (liveBytes > f64[peaks + CF_PEAK_LIVE_BYTES]) f64[peaks + CF_PEAK_LIVE_BYTES] = liveBytes;
  }

  /** The figures of every slot added up, the front caches counted from their entries. */
  private sumSlots(): SlotSums {
    const i32 = this.memory.i32;
    const f64 = this.memory.f64;
    const slots = i32[this.control + C_SLOT_COUNT];
    const sums: SlotSums = {
      mallocs: 0,
      frees: 0,
      reallocs: 0,
      failed: 0,
      liveBlocks: 0,
      liveBytes: 0,
      cachedBlocks: 0,
      cachedBytes: 0,
    };
    for (let slot = 0; slot < slots; slot++) {
      const word = this.slotWordOf(slot);
      const figures = ((word << 2) + SF_OFFSET) >> 3;
      sums.mallocs += f64[figures + SF_MALLOCS];
      sums.frees += f64[figures + SF_FREES];
      sums.reallocs += f64[figures + SF_REALLOCS];
      sums.liveBytes += f64[figures + SF_LIVE_BYTES];
      const countBase = word + (S_CACHE_OFFSET >> 2);
      for (let cls = 1; cls < this.cacheClasses; cls++) {
        const count = i32[countBase + cls];
        if (count === 0) continue;
        sums.cachedBlocks += count;
        const first = countBase + this.cacheClasses + cls * this.cacheDepth;
        for (let i = 0; i < count; i++) sums.cachedBytes += this.entryUsable(cls, i32[first + i]);
      }
    }
    sums.liveBlocks = sums.mallocs - sums.frees;
    sums.failed = i32[this.control + C_FAILED];
    return sums;
  }

  // ---------------------------------------------------------------- internals: errors

  private badSize(operation: string, argument: string, value: unknown): InvalidSizeError {
    let why: string | undefined;
    if (typeof value === "bigint")
      why = `expected a number, got a bigint (${value}n): pass Number(${value}n)`;
    else if (typeof value !== "number") why = `expected a number, got ${typeof value}`;
    else if (Number.isNaN(value)) why = "expected an integer, got NaN";
    else if (!Number.isFinite(value)) why = `expected a finite integer from 0 to ${this.maxRequest}`;
    else if (value < 0) why = `expected a non-negative integer (at most ${this.maxRequest})`;
    else if (!Number.isInteger(value)) why = `expected a whole number of bytes from 0 to ${this.maxRequest}`;
    else why = `the heap's limit allows at most ${this.maxRequest} bytes`;
    return new InvalidSizeError(operation, argument, value, this.maxRequest, why);
  }

  /** The error for a pointer that is not a live block; `locked` says the caller holds the heap lock. */
  private badPointer(operation: string, ptr: Ptr, locked = false): Error {
    if (!this.attached)
      return new DetachedMemoryError(operation, "this heap object was detached from its heap");
    if (this.memory.detached) return new DetachedMemoryError(operation);
    if (typeof ptr !== "number" || !Number.isInteger(ptr)) {
      const what = typeof ptr === "bigint" ? `a bigint (${ptr}n)` : typeof ptr;
      return new InvalidPointerError(
        operation,
        ptr,
        `not a pointer: expected an integer byte offset, got ${what}`,
      );
    }
    if (ptr <= this.regionBase || ptr >= this.brk) {
      return new InvalidPointerError(
        operation,
        ptr,
        `outside the heap: live blocks lie between ${this.regionBase} and ${this.brk} (the break)`,
      );
    }
    if ((ptr & this.alignMask) !== 0) {
      return new InvalidPointerError(
        operation,
        ptr,
        `not aligned to ${this.align}: not the start of any block`,
      );
    }
    const describe = (): Error => {
      if (this.cachedPointers().has(ptr) || this.engine.isFreeBlock(ptr)) {
        return operation === "free" || operation === "realloc"
          ? new DoubleFreeError(operation, ptr)
          : new InvalidPointerError(
              operation,
              ptr,
              `the block at ${ptr} was freed: its memory is not the program's now`,
            );
      }
      // only on this error path do we walk the heap, to say where the pointer points
      for (const block of this.engine.blocks()) {
        if (ptr >= block.offset && ptr < block.offset + block.size) {
          const where =
            block.state === "used"
              ? ptr < block.ptr
                ? `inside the header of the block at ${block.ptr}`
                : `inside the payload of the live block at ${block.ptr} (${block.payload} bytes)`
              : block.state === "free"
                ? `inside a free block at offset ${block.offset} (freed already, or never allocated)`
                : `inside allocator metadata at offset ${block.offset}`;
          return new InvalidPointerError(operation, ptr, `not the start of a live block: ${where}`);
        }
      }
      return new InvalidPointerError(operation, ptr, "not the start of a live block");
    };
    if (locked || !this.threadSafe) {
      this.memory.sync(operation);
      return describe();
    }
    return this.withWholeHeap(operation, describe);
  }

  /** An out-of-memory error with the free space now and the room the heap may still grow into. */
  private outOfMemory(operation: string, size: number, locked = false): OutOfMemoryError {
    const build = () =>
      new OutOfMemoryError(
        size,
        this.engine.stats().freeBytes,
        Math.max(this.engine.largestFreePayload(), 0),
        this.limit - this.regionBase,
        this.limit - this.brk,
      );
    if (locked || !this.threadSafe) return build();
    return this.withHeapLock(operation, build);
  }
}

/** The control words that fix a heap's layout: a snapshot restores only into a heap where they agree. */
const LAYOUT_WORDS = [
  C_MAGIC,
  C_LAYOUT_VERSION,
  C_ALIGN,
  C_FLAGS,
  C_LIMIT,
  C_REGION_BASE,
  C_MAP_OFFSET,
  C_MAP_BYTES,
  C_SLOTS_OFFSET,
  C_SLOT_COUNT,
  C_SLOT_BYTES,
  C_CACHE_CLASSES,
  C_CACHE_DEPTH,
];

interface SlotSums {
  mallocs: number;
  frees: number;
  reallocs: number;
  failed: number;
  liveBlocks: number;
  liveBytes: number;
  cachedBlocks: number;
  cachedBytes: number;
}

function popcount(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
