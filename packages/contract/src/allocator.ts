/**
 * The allocator contract: what a heap is made of and what every strategy plugs into.
 *
 * ```
 *   Memory   the backing store: ArrayBuffer, resizable ArrayBuffer, SharedArrayBuffer or
 *            WebAssembly.Memory, with typed-array views and grow()
 *   Region   the part of Memory one allocator manages: [base, brk), grown by sbrk() up to limit
 *   Strategy a plug-in: given a Region, it formats it and returns an AllocatorEngine
 *   Engine   the placement policy and its metadata, all inside the Region's bytes
 *   Allocator what users hold (the heap): validates every call, counts, grows, views, events,
 *            and delegates placement to the engine
 * ```
 *
 * @module
 */

/**
 * A pointer: the byte offset of a payload in the heap's memory, a plain number at run time.
 * `0` is the null pointer; no block ever starts at 0.
 */
export type Ptr = number;

/** The null pointer. */
export const NULL_PTR: Ptr = 0;

/** Payload alignment in bytes. 8 is the default; 16 suits SIMD and CPython's 64-bit pymalloc. */
export type Alignment = 8 | 16;

/** The kinds of backing store a {@link Memory} can wrap. */
export type MemoryKind = "array-buffer" | "resizable-array-buffer" | "shared-array-buffer" | "wasm-memory";

/**
 * The backing store of a heap. Its views cover the whole buffer; after {@link Memory.grow} they may be
 * new objects (a `WebAssembly.Memory` detaches its old buffer), so code that caches a view re-reads it
 * after any call that can grow the heap.
 */
export interface Memory {
  /** What the store is. */
  readonly kind: MemoryKind;
  /** The current buffer. */
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  /** Bytes the buffer holds now. */
  readonly byteLength: number;
  /** The most bytes the buffer can ever hold. */
  readonly maxByteLength: number;
  /** Bytes, over the whole buffer. */
  readonly u8: Uint8Array;
  /** Signed 32-bit words, over the whole buffer. */
  readonly i32: Int32Array;
  /** Unsigned 32-bit words, over the whole buffer. */
  readonly u32: Uint32Array;
  /** 64-bit floats, over the whole buffer. */
  readonly f64: Float64Array;
  /** A DataView over the whole buffer. */
  readonly view: DataView;
  /** Grows the buffer to at least `minByteLength` bytes. Returns false (changing nothing) if it cannot. */
  grow(minByteLength: number): boolean;
}

/**
 * The part of a {@link Memory} that one allocator engine manages, like a process's heap segment:
 * `[base, brk)` is in use, and {@link Region.sbrk} moves `brk` up, never past `limit`.
 */
export interface Region {
  /** The memory the region lives in. */
  readonly memory: Memory;
  /** The first byte the engine may use; a multiple of 16 and never 0. */
  readonly base: number;
  /** The current end of the region (exclusive). */
  readonly brk: number;
  /** The region can never grow past this offset. */
  readonly limit: number;
  /** Payload alignment every engine must honour. */
  readonly align: Alignment;
  /**
   * Extends the region by `increment` bytes (a multiple of `align`), like `sbrk(2)`.
   * Returns the old break, or -1 if the limit or the memory does not allow it (nothing changes).
   */
  sbrk(increment: number): number;
}

/**
 * What a region of the heap holds. `cached` is a block the strategy counts as used but that sits in
 * a worker's front cache, freed by the program and waiting to be handed out again: neither live nor free.
 */
export type BlockState = "used" | "free" | "meta" | "cached";

/** One block (or metadata area) of a heap, as {@link AllocatorEngine.blocks} walks them by address. */
export interface BlockInfo {
  /** The first byte of the block, header included. */
  readonly offset: number;
  /** The block's whole size in bytes, header included. */
  readonly size: number;
  /** Used, free, cached, or allocator metadata (tables, pool headers, alignment padding). */
  readonly state: BlockState;
  /** The payload pointer of a used or cached block; 0 for free and metadata blocks. */
  readonly ptr: Ptr;
  /** Usable payload bytes of a used or cached block; 0 otherwise. */
  readonly payload: number;
}

/** Figures an engine reports about its free space and metadata; the heap adds its own counters. */
export interface EngineStats {
  /** Number of free blocks. */
  freeBlocks: number;
  /** Bytes in free blocks (whole blocks). */
  freeBytes: number;
  /** Size of the largest free block (whole block). */
  largestFreeBlock: number;
  /** Strategy-specific figures (size classes, pools, bitmap words, …). */
  details: Record<string, number | string>;
}

/** The free-space figures of {@link EngineStats} that an engine can give without walking every free block. */
export interface FreeSpace {
  /** Bytes in free blocks (whole blocks). */
  freeBytes: number;
  /** Size of the largest free block (whole block). */
  largestFreeBlock: number;
}

/**
 * The placement engine a {@link Strategy} returns. The heap validates every argument before it
 * calls the engine: sizes are integers in range, pointers are live blocks. An engine keeps all its
 * state inside the region's bytes, so a copy of the buffer is a copy of the heap.
 */
export interface AllocatorEngine {
  /** The strategy's name. */
  readonly strategy: string;
  /**
   * Allocates at least `size` bytes (0 means the smallest block); returns 0 if nothing fits even after
   * growing. On success {@link AllocatorEngine.lastUsableSize} holds the block's usable bytes.
   */
  malloc(size: number): Ptr;
  /**
   * Frees a live block; returns its usable payload bytes (what `usableSize` said of it), which the
   * engine knows on the way and the heap counts, so that a free needs no second look-up. Leaves
   * {@link AllocatorEngine.lastUsableSize} as it was.
   */
  free(ptr: Ptr): number;
  /**
   * Resizes a live block to at least `size` bytes, in place where it can, otherwise by moving the
   * payload. Returns the new pointer, or 0 if that is impossible (the old block is then untouched).
   * On success {@link AllocatorEngine.lastUsableSize} holds the usable bytes of the block returned.
   */
  realloc(ptr: Ptr, size: number): Ptr;
  /**
   * Allocates `size` bytes at a multiple of `alignment` (a power of two ≥ the heap's alignment); 0 if
   * impossible. On success {@link AllocatorEngine.lastUsableSize} holds the block's usable bytes.
   */
  memalign(alignment: number, size: number): Ptr;
  /**
   * Usable payload bytes of the block the last successful `malloc`, `realloc` or `memalign` returned:
   * what `usableSize` would say of it, without a second look-up. The heap counts every allocation's
   * usable bytes, and on the hot path that look-up cost as much as the allocation (pymalloc's finds
   * the pool header again); the heap's `check()` compares the count with a walk of the blocks.
   */
  readonly lastUsableSize: number;
  /** Usable payload bytes of a live block (≥ the size asked). */
  usableSize(ptr: Ptr): number;
  /** True if `ptr` is the payload of a block that is free now: used to tell a double free from a bad pointer. */
  isFreeBlock(ptr: Ptr): boolean;
  /** The largest allocation that could succeed now without growing the region, in payload bytes. */
  largestFreePayload(): number;
  /** Walks every block and metadata area in address order. */
  blocks(): IterableIterator<BlockInfo>;
  /** Verifies every invariant; throws `HeapCorruptionError` naming the block and the invariant. */
  check(): void;
  /** Free-space figures and the strategy's own section. */
  stats(): EngineStats;
  /**
   * `freeBytes` and `largestFreeBlock` as `stats()` gives them, without a walk of every free block,
   * from the heap's count of live blocks and their usable bytes. Optional: the heap asks `stats()`
   * of an engine without it.
   */
  freeSpace?(liveBlocks: number, liveBytes: number): FreeSpace;
  /** The strategy's own text report, where it has one (pymalloc's reads like `sys._debugmallocstats()`). */
  report?(): string;
}

/**
 * A strategy as data: its name and options, with any strategy among the options (pymalloc's
 * fallback) itself a descriptor. A shared heap keeps one in its memory so that another worker can
 * make the same strategy again when it attaches.
 */
export interface StrategyDescriptor {
  /** The strategy's name. */
  readonly name: string;
  /** Its options, as JSON can hold them. */
  readonly options: Readonly<Record<string, unknown>>;
}

/**
 * A placement strategy: the plug-in that decides where blocks go. It depends only on this contract.
 *
 * @typeParam Options - the strategy's own options
 */
export interface Strategy<Options = Record<string, unknown>> {
  /** A short unique name, as the CLI spells it (`tlsf`, `first-fit`, …). */
  readonly name: string;
  /** One line on what it does. */
  readonly description: string;
  /** The options it was made with. */
  readonly options: Readonly<Options>;
  /** Formats an empty region (writing its metadata at `region.base`) and returns its engine. */
  create(region: Region): AllocatorEngine;
  /** Opens a region this strategy formatted before (a restored snapshot, a buffer shared by another thread). */
  attach(region: Region): AllocatorEngine;
}

/** The counters and figures of a heap. */
export interface HeapStats extends EngineStats {
  /** The strategy's name. */
  strategy: string;
  /** Payload alignment. */
  align: Alignment;
  /** Live (allocated, not yet freed) blocks. */
  liveBlocks: number;
  /** Usable payload bytes of the live blocks. */
  liveBytes: number;
  /** The most live blocks at any time. */
  peakLiveBlocks: number;
  /** The most live payload bytes at any time. */
  peakLiveBytes: number;
  /** Bytes between the region's base and its break: the heap as `sbrk` sees it. */
  heapSize: number;
  /** The largest `heapSize` reached (the high-water mark). */
  peakHeapSize: number;
  /** Bytes the backing memory holds now. */
  capacity: number;
  /** The most the heap may grow to, from its base. */
  heapLimit: number;
  /** `heapSize − liveBytes − freeBytes − cachedBytes`: headers, tables, padding. */
  overheadBytes: number;
  /** Bytes of the heap's map of live pointers (in the buffer, before the region; what makes pointer checks O(1)). */
  pointerMapBytes: number;
  /** Blocks freed by the program and held in the workers' front caches (neither live nor free). */
  cachedBlocks: number;
  /** Usable payload bytes of the cached blocks. */
  cachedBytes: number;
  /** Workers attached to the heap now (1 for a heap used by one thread). */
  attachedWorkers: number;
  /** `1 − largestFreeBlock / freeBytes`: 0 when all free space is one block. */
  externalFragmentation: number;
  /** Successful allocations (malloc, calloc, memalign, and realloc of null). */
  mallocs: number;
  /** Frees (free, and realloc to 0). */
  frees: number;
  /** Successful reallocs of a live block. */
  reallocs: number;
  /** Allocations that found no room. */
  failedAllocations: number;
}

/** The figures of {@link HeapStats} that change with every call, for sampling a heap as it runs. */
export interface HeapUsage extends FreeSpace {
  /** Bytes between the region's base and its break. */
  heapSize: number;
  /** Live blocks. */
  liveBlocks: number;
  /** Usable payload bytes of the live blocks. */
  liveBytes: number;
  /** Usable payload bytes of the blocks held in front caches. */
  cachedBytes: number;
  /** `heapSize − liveBytes − freeBytes − cachedBytes`: headers, tables, padding. */
  overheadBytes: number;
  /** `1 − largestFreeBlock / freeBytes`: 0 when all free space is one block. */
  externalFragmentation: number;
}

/** What the heap reports to a listener: `malloc`, `free`, `realloc` or `grow`. */
export type HeapEventKind = "malloc" | "free" | "realloc" | "grow";

/**
 * Called after every successful operation while installed (no object is allocated per call).
 * For `malloc`: `ptr` and `size` asked. For `free`: `ptr`, `size` = usable size freed.
 * For `realloc`: new `ptr`, `size` asked, `oldPtr`. For `grow`: `ptr` = old break, `size` = new break.
 */
export type HeapListener = (kind: HeapEventKind, ptr: Ptr, size: number, oldPtr: Ptr) => void;

/**
 * What users (and the collectors and the trace replayer) hold: a heap of one strategy over one memory.
 * Every argument is checked: bad sizes throw `InvalidSizeError`, pointers that are not live blocks
 * throw `InvalidPointerError` or `DoubleFreeError` (found in O(1)), and a rejected call changes nothing.
 */
export interface Allocator {
  /** The strategy's name. */
  readonly strategy: string;
  /** Payload alignment. */
  readonly align: Alignment;
  /** The backing memory (its views are current after any call that can grow the heap). */
  readonly memory: Memory;
  /** Allocates `size` bytes; throws `OutOfMemoryError` if nothing fits. */
  malloc(size: number): Ptr;
  /** Like `malloc`, but returns 0 when nothing fits: for hot paths. */
  tryMalloc(size: number): Ptr;
  /** Allocates `count × size` bytes, zeroed. */
  calloc(count: number, size: number): Ptr;
  /** C's realloc: `realloc(0, n)` allocates, `realloc(p, 0)` frees and returns 0, otherwise resizes (may move). */
  realloc(ptr: Ptr, size: number): Ptr;
  /** Frees a live block; `free(0)` does nothing. */
  free(ptr: Ptr): void;
  /** Allocates `size` bytes at a multiple of `alignment` (a power of two). */
  memalign(alignment: number, size: number): Ptr;
  /** Usable payload bytes of a live block. */
  usableSize(ptr: Ptr): number;
  /** True if `ptr` is the start of a live block (O(1)). */
  isLive(ptr: Ptr): boolean;
  /** Counters and figures. */
  stats(): HeapStats;
  /**
   * The sizes and free space of `stats()` without its strategy details, and without walking the free
   * blocks where the strategy can say its free bytes and largest free block otherwise: for sampling
   * while a program runs (a trace replay calls it at each sample of its series).
   */
  usage(): HeapUsage;
  /** Every block and metadata area in address order. */
  blocks(): IterableIterator<BlockInfo>;
  /** Verifies every invariant of the heap and its strategy; throws `HeapCorruptionError`. */
  check(): void;
  /**
   * Gives the blocks this thread's front cache holds back to the strategy, which coalesces them:
   * for callers that need the strategy's own placement next (a compacting collector). Optional: an
   * allocator without a cache has nothing to give back.
   */
  flushCache?(): void;
}
