/**
 * Making a heap: formatting memory as one (`createHeap`, `createSharedHeap`), or attaching to a heap
 * that memory already holds (`attachHeap`: another worker's, or a restored copy's).
 *
 * Formatting writes the control block, the worker slots and an empty pointer map (./layout.ts),
 * then lets the strategy format its region. Attaching reads the control block, checks it, and lets
 * the strategy open its region; it writes nothing but its claim of a worker slot, and only once
 * every check has passed.
 *
 * @module
 */
import {
  type Alignment,
  describeStrategy,
  HeapFormatError,
  InvalidSizeError,
  type Strategy,
  type StrategyDescriptor,
} from "@heapkit/contract";
import { Heap } from "./heap.js";
import {
  C_ALIGN,
  C_BRK,
  C_CACHE_CLASSES,
  C_CACHE_DEPTH,
  C_DESCRIPTOR_BYTES,
  C_FLAGS,
  C_LAYOUT_VERSION,
  C_LIMIT,
  C_MAGIC,
  C_MAP_BYTES,
  C_MAP_OFFSET,
  C_REGION_BASE,
  C_SLOT_BYTES,
  C_SLOT_COUNT,
  C_SLOTS_OFFSET,
  CACHE_DEPTH,
  CACHE_MIN_HEAP_BYTES,
  CF_OFFSET,
  CF_PEAK_BRK,
  CONTROL_BYTES,
  cacheClassCount,
  cacheClassesOf,
  DEFAULT_SHARED_SLOTS,
  DESCRIPTOR_MAX_BYTES,
  DESCRIPTOR_OFFSET,
  FLAG_FRONT_CACHE,
  FLAG_THREAD_SAFE,
  HEAP_MAGIC,
  LAYOUT_VERSION,
  mapBytes,
  mapEnd,
  slotBytes,
} from "./layout.js";
import {
  BufferMemory,
  createMemory,
  isShared,
  MAX_MEMORY_BYTES,
  type MemoryGrowth,
  requireSharedMemory,
} from "./memory.js";

/** Options of {@link createHeap}. */
export interface HeapOptions {
  /** The placement strategy (a plug-in from one of the strategy packages). */
  strategy: Strategy<unknown>;
  /** Initial bytes of a new memory that resizes (`growth: "resize"`; default 64 KiB, or `maxSize` if smaller). Ignored when `memory` is given. */
  size?: number;
  /** The most bytes the heap may grow to (default 256 MiB for a new memory; the memory's own maximum otherwise). */
  maxSize?: number;
  /**
   * How a new memory makes room for growth (ignored when `memory` is given): `"reserve"` one plain
   * buffer of `maxSize` bytes, given memory by the OS page by page as the heap first touches it;
   * `"resize"` a resizable buffer of `size` bytes that grows with the heap, slower to access in V8.
   * Default: `"reserve"` when `maxSize` is at least 32 MiB (`RESERVE_MIN_BYTES`), else `"resize"`.
   * See {@link MemoryGrowth}.
   */
  growth?: MemoryGrowth;
  /** An existing store to manage: ArrayBuffer, resizable ArrayBuffer, SharedArrayBuffer or WebAssembly.Memory. */
  memory?: ArrayBuffer | SharedArrayBuffer | WebAssembly.Memory;
  /** Make the new memory a SharedArrayBuffer (for workers). Ignored when `memory` is given. */
  shared?: boolean;
  /** First byte the heap may use (default 16: offset 0 stays null). Bytes below it are left alone — for wasm data. */
  base?: number;
  /** Payload alignment: 8 (default) or 16. */
  align?: Alignment;
  /** Keep small freed blocks in a per-worker front cache (default: true over shared memory of 1 MiB or more, else false). */
  cache?: boolean;
  /** Worker slots of a heap over shared memory: how many workers may be attached at once (default 16). */
  workers?: number;
  /** Milliseconds a call on a shared heap waits for a lock before `LockTimeoutError` (default 5000). */
  lockTimeout?: number;
  /** Format `memory` even if it holds a heap already (default false: that is a `HeapFormatError`). */
  format?: boolean;
  /** The id this thread attaches with, named when it holds a lock too long (default: worker_threads' threadId in node, else a random one). */
  threadId?: number;
}

/** Options of {@link attachHeap}. */
export interface AttachOptions {
  /**
   * The strategy that formatted the heap, or a function that makes it from the descriptor the heap
   * keeps (the registry's `strategyFromDescriptor` of `@heapkit/strategies`).
   */
  strategy: Strategy<unknown> | ((descriptor: StrategyDescriptor) => Strategy<unknown>);
  /** Where the heap's control block is (default 16: the `base` it was made with). */
  base?: number;
  /** Milliseconds a call waits for a lock before `LockTimeoutError` (default 5000). */
  lockTimeout?: number;
  /** The id this thread attaches with, named when it holds a lock too long (default: worker_threads' threadId in node, else a random one). */
  threadId?: number;
}

const DEFAULT_SIZE = 64 * 1024;
const DEFAULT_MAX_SIZE = 256 * 1024 * 1024;
const DEFAULT_BASE = 16;
const DEFAULT_LOCK_TIMEOUT = 5000;
const MAX_SLOTS = 1024;

/**
 * Creates a heap of the given strategy over a new or given memory. Over a `SharedArrayBuffer` or a
 * shared `WebAssembly.Memory` the heap is thread-safe and other workers may {@link attachHeap} to it.
 */
export function createHeap(options: HeapOptions): Heap {
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
  const lockTimeout = checkTimeout("createHeap", options.lockTimeout);
  let memory: BufferMemory;
  let fresh = false;
  if (options.memory !== undefined) {
    memory = new BufferMemory(options.memory, options.maxSize);
  } else {
    const maxSize = options.maxSize ?? DEFAULT_MAX_SIZE;
    checkLength("maxSize", maxSize, 256);
    const size = Math.min(options.size ?? DEFAULT_SIZE, maxSize);
    checkLength("size", size, 0);
    memory = createMemory({ size, maxSize, shared: options.shared ?? false, growth: options.growth });
    fresh = true;
  }
  const threadSafe = isShared(memory.buffer);
  const slots = threadSafe ? (options.workers ?? DEFAULT_SHARED_SLOTS) : 1;
  if (!Number.isInteger(slots) || slots < 1 || slots > MAX_SLOTS) {
    throw new InvalidSizeError(
      "createHeap",
      "workers",
      options.workers,
      MAX_SLOTS,
      `expected an integer from 1 to ${MAX_SLOTS}`,
    );
  }
  const wantedLimit =
    memory.kind === "wasm-memory" && options.maxSize === undefined
      ? wasmLimit(memory.byteLength, base, slots, align)
      : Math.min(memory.maxByteLength, options.maxSize ?? memory.maxByteLength);
  const limit = wantedLimit & ~(align - 1);
  // on by default where it wins: over shared memory, where a cache hit takes no heap lock. One
  // thread's heap gains speed on small-block churn but loses utilization on workload W (bench
  // cells: tlsf 0.929 without, 0.904 with), so there it is the caller's choice
  const cache = options.cache ?? (threadSafe && limit >= CACHE_MIN_HEAP_BYTES);
  const classes = cache ? cacheClassesOf(align, threadSafe) : 0;
  const depth = cache ? CACHE_DEPTH : 0;
  const { slotsOffset, mapOffset, map, regionBase, oneSlot } = headLayout(
    base,
    slots,
    classes,
    depth,
    limit,
    align,
  );
  if (regionBase + 64 > limit) {
    throw new InvalidSizeError(
      "createHeap",
      "maxSize",
      limit,
      MAX_MEMORY_BYTES,
      `the heap needs more than ${regionBase + 64} bytes: ${regionBase - base} for its control block, ` +
        `${slots} worker slot${slots === 1 ? "" : "s"} and a pointer map of ${map} bytes, and room for blocks`,
    );
  }
  const descriptor = encodeDescriptor(options.strategy);
  if (memory.byteLength >= base + 4 && !options.format) {
    const found = memory.i32[base >> 2];
    if (found === HEAP_MAGIC) {
      throw new HeapFormatError(
        base,
        "this memory holds a heap already: attach to it with attachHeap, or pass format: true to erase it",
      );
    }
  }
  if (regionBase > memory.byteLength && !memory.grow(regionBase)) {
    throw new InvalidSizeError(
      "createHeap",
      "memory",
      memory.byteLength,
      MAX_MEMORY_BYTES,
      `the memory cannot hold the heap's own ${regionBase - base} bytes (control block, worker slots, pointer map)`,
    );
  }
  const i32 = memory.i32;
  // a new memory is zero already; other memory is cleared where the heap reads before it writes:
  // its own words, and the pointer map's below the region (the region's growth clears the rest)
  if (!fresh) memory.u8.fill(0, base, mapEnd(mapOffset, regionBase, align));
  const control = base >> 2;
  i32[control + C_LAYOUT_VERSION] = LAYOUT_VERSION;
  i32[control + C_ALIGN] = align;
  i32[control + C_FLAGS] = (threadSafe ? FLAG_THREAD_SAFE : 0) | (cache ? FLAG_FRONT_CACHE : 0);
  i32[control + C_LIMIT] = limit;
  i32[control + C_REGION_BASE] = regionBase;
  i32[control + C_BRK] = regionBase;
  i32[control + C_MAP_OFFSET] = mapOffset;
  i32[control + C_MAP_BYTES] = map;
  i32[control + C_SLOTS_OFFSET] = slotsOffset;
  i32[control + C_SLOT_COUNT] = slots;
  i32[control + C_SLOT_BYTES] = oneSlot;
  i32[control + C_CACHE_CLASSES] = classes;
  i32[control + C_CACHE_DEPTH] = depth;
  i32[control + C_DESCRIPTOR_BYTES] = descriptor.length;
  memory.u8.set(descriptor, base + DESCRIPTOR_OFFSET);
  memory.f64[((base + CF_OFFSET) >> 3) + CF_PEAK_BRK] = regionBase;
  try {
    const heap = new Heap({
      memory,
      base,
      strategy: options.strategy,
      mode: "create",
      lockTimeout,
      threadId: options.threadId ?? threadIdFor(threadSafe),
    });
    // written last: until the strategy has formatted its region, this memory is no heap to attach to
    Atomics.store(memory.i32, control + C_MAGIC, HEAP_MAGIC);
    return heap;
  } catch (error) {
    memory.i32[control + C_MAGIC] = 0;
    throw error;
  }
}

/**
 * Creates a heap over a new `SharedArrayBuffer` (reserved at `maxSize`, or growable with `growth: "resize"`): hand `heap.memory.buffer` to workers, which
 * {@link attachHeap} to it. Every call is thread-safe.
 */
export function createSharedHeap(options: Omit<HeapOptions, "shared">): Heap {
  requireSharedMemory(false); // (a growable one, if asked for, is createMemory's to require)
  if (options.memory !== undefined) {
    const shared =
      isShared(options.memory) ||
      (options.memory instanceof WebAssembly.Memory && isShared(options.memory.buffer));
    if (!shared) {
      throw new HeapFormatError(
        options.base ?? DEFAULT_BASE,
        "createSharedHeap needs a SharedArrayBuffer or a shared WebAssembly.Memory ({ shared: true, maximum })",
      );
    }
  }
  return createHeap({ ...options, shared: true });
}

/**
 * Attaches to the heap a memory holds: in a worker, the one another thread made; anywhere, a copy of
 * one (a restored snapshot). Throws `HeapFormatError`, writing nothing, if the memory holds no heap
 * of this layout, or one of another strategy than the one given.
 */
export function attachHeap(
  store: ArrayBuffer | SharedArrayBuffer | WebAssembly.Memory,
  options: AttachOptions,
): Heap {
  const base = options.base ?? DEFAULT_BASE;
  const lockTimeout = checkTimeout("attachHeap", options.lockTimeout);
  const memory = new BufferMemory(store);
  if (!Number.isInteger(base) || base < 16 || base % 16 !== 0 || base + CONTROL_BYTES > memory.byteLength) {
    throw new HeapFormatError(
      base,
      `no room for a heap's control block in a memory of ${memory.byteLength} bytes`,
    );
  }
  const i32 = memory.i32;
  const control = base >> 2;
  const magic = Atomics.load(i32, control + C_MAGIC);
  if (magic !== HEAP_MAGIC) {
    throw new HeapFormatError(
      base,
      `found 0x${(magic >>> 0).toString(16)} where a heap keeps its magic number 0x${HEAP_MAGIC.toString(16)}: not a heap`,
    );
  }
  const version = i32[control + C_LAYOUT_VERSION];
  if (version !== LAYOUT_VERSION) {
    throw new HeapFormatError(
      base,
      `a heap of layout version ${version}; this heapkit reads version ${LAYOUT_VERSION}`,
    );
  }
  const threadSafe = (i32[control + C_FLAGS] & FLAG_THREAD_SAFE) !== 0;
  if (threadSafe !== isShared(memory.buffer)) {
    throw new HeapFormatError(
      base,
      threadSafe
        ? "the heap was made over shared memory but this is a copy of it in an unshared buffer"
        : "the heap was made over unshared memory: it is not safe to use from several threads",
    );
  }
  const limit = i32[control + C_LIMIT];
  if (limit > memory.maxByteLength) {
    throw new HeapFormatError(
      base,
      `the heap may grow to ${limit} bytes but this memory only to ${memory.maxByteLength}`,
    );
  }
  const descriptor = readDescriptor(memory, base);
  const strategy = typeof options.strategy === "function" ? options.strategy(descriptor) : options.strategy;
  const given = describeStrategy(strategy);
  if (JSON.stringify(given) !== JSON.stringify(descriptor)) {
    throw new HeapFormatError(
      base,
      `the heap was made with strategy ${JSON.stringify(descriptor)}, not ${JSON.stringify(given)}`,
    );
  }
  return new Heap({
    memory,
    base,
    strategy,
    mode: "attach",
    lockTimeout,
    threadId: options.threadId ?? threadIdFor(threadSafe),
  });
}

/** What decides the size of a heap's own parts (its control block, worker slots and pointer map). */
export interface HeadOptions {
  /** As for `createHeap` (default 16). */
  base?: number;
  /** As for `createHeap` (default 8). */
  align?: Alignment;
  /** Over shared memory (default false): then `workers` slots. */
  shared?: boolean;
  /** Worker slots of a shared heap (default 16). */
  workers?: number;
  /** The front cache, as for `createHeap` (default: on for a heap of 1 MiB or more). */
  cache?: boolean;
}

/**
 * The bytes of memory a heap needs so that its strategy's region can reach `regionBytes` bytes: the
 * heap's own parts (control block, worker slots, pointer map) come first, and the map grows with the
 * memory. Make the heap with `size` and `maxSize` equal to this to give every strategy the same room.
 */
export function memoryBytesFor(regionBytes: number, options: HeadOptions = {}): number {
  const base = options.base ?? DEFAULT_BASE;
  const align = options.align ?? 8;
  const slots = options.shared ? (options.workers ?? DEFAULT_SHARED_SLOTS) : 1;
  let total = base + regionBytes;
  for (;;) {
    const cache = options.cache ?? (options.shared === true && total >= CACHE_MIN_HEAP_BYTES);
    const classes = cache ? cacheClassesOf(align, options.shared === true) : 0;
    const depth = cache ? CACHE_DEPTH : 0;
    const need = (headLayout(base, slots, classes, depth, total, align).regionBase + regionBytes + 15) & ~15;
    if (need <= total) return total;
    total = need;
  }
}

function encodeDescriptor(strategy: Strategy<unknown>): Uint8Array {
  const bytes = new TextEncoder().encode(JSON.stringify(describeStrategy(strategy)));
  if (bytes.length > DESCRIPTOR_MAX_BYTES) {
    throw new InvalidSizeError(
      "createHeap",
      "strategy options",
      bytes.length,
      DESCRIPTOR_MAX_BYTES,
      "the strategy's name and options take too many bytes to keep in the heap",
    );
  }
  return bytes;
}

function readDescriptor(memory: BufferMemory, base: number): StrategyDescriptor {
  const length = memory.i32[(base >> 2) + C_DESCRIPTOR_BYTES];
  if (!(length > 0 && length <= DESCRIPTOR_MAX_BYTES)) {
    throw new HeapFormatError(base, `the strategy descriptor's length ${length} is out of range`);
  }
  // copied first: TextDecoder does not read shared memory
  const text = new TextDecoder().decode(
    memory.u8.slice(base + DESCRIPTOR_OFFSET, base + DESCRIPTOR_OFFSET + length),
  );
  try {
    return JSON.parse(text) as StrategyDescriptor;
  } catch {
    throw new HeapFormatError(base, `the strategy descriptor is not JSON: ${text.slice(0, 80)}`);
  }
}

/** Where the heap's own parts go for a heap of `limit` bytes. */
function headLayout(
  base: number,
  slots: number,
  classes: number,
  depth: number,
  limit: number,
  align: number,
) {
  const oneSlot = slotBytes(classes, depth);
  // slots start on a cache line, so that no two workers' slots share one
  const slotsOffset = (base + CONTROL_BYTES + 63) & ~63;
  const mapOffset = slotsOffset + slots * oneSlot;
  const map = mapBytes(limit, align);
  const regionBase = (mapOffset + map + 15) & ~15;
  return { slotsOffset, mapOffset, map, regionBase, oneSlot };
}

/**
 * The limit of a heap over a `WebAssembly.Memory` given without `maxSize`. JavaScript cannot read a
 * memory's maximum, and the pointer map is sized for the limit, so take the largest limit up to the
 * default whose map fits the memory as it is (never growing it just for the map), and never less
 * than the memory holds now. Pass `maxSize` to say the real maximum.
 */
function wasmLimit(byteLength: number, base: number, slots: number, align: number): number {
  let limit = DEFAULT_MAX_SIZE;
  const slotWithCache = slotBytes(cacheClassCount(align), CACHE_DEPTH);
  while (
    limit > byteLength &&
    headLayout(base, slots, cacheClassCount(align), CACHE_DEPTH, limit, align).regionBase + slotWithCache >
      byteLength
  ) {
    limit >>>= 1;
  }
  return Math.min(Math.max(limit, byteLength), MAX_MEMORY_BYTES);
}

/**
 * The id a thread attaches with, which only a shared heap's lock errors name: worker_threads'
 * `threadId` in node (0 on the main thread), else a random id. One thread's heap takes 0 and does
 * not load worker_threads (3–12 ms in a fresh node 20 process, 5 runs).
 */
function threadIdFor(threadSafe: boolean): number {
  if (!threadSafe) return 0;
  const node = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } }).process;
  const workers = node?.getBuiltinModule?.("node:worker_threads") as { threadId?: number } | undefined;
  if (typeof workers?.threadId === "number") return workers.threadId;
  return 1 + Math.floor(Math.random() * 0x7fff_fffe);
}

function checkTimeout(operation: string, timeout: number | undefined): number {
  const value = timeout ?? DEFAULT_LOCK_TIMEOUT;
  if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value)) {
    throw new InvalidSizeError(
      operation,
      "lockTimeout",
      timeout,
      2 ** 31,
      "expected a positive number of milliseconds",
    );
  }
  return value;
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
