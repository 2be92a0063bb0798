/**
 * `@heapkit/heap` — the core heap: `createHeap({ strategy, size, maxSize, memory, align })` returns a
 * {@link Heap} with malloc/tryMalloc/calloc/realloc/free/memalign, typed views, stats, a block walk,
 * invariant checks, snapshots and an event hook, over an ArrayBuffer, resizable ArrayBuffer,
 * SharedArrayBuffer or WebAssembly.Memory. The heap keeps all of its state in its memory:
 * `createSharedHeap` makes one that workers share, each through `attachHeap`.
 *
 * @packageDocumentation
 */

/** The descriptor a heap stores of its strategy (from @heapkit/contract, where strategies share it). */
export { describeStrategy } from "@heapkit/contract";
export {
  type AttachOptions,
  attachHeap,
  createHeap,
  createSharedHeap,
  type HeadOptions,
  type HeapOptions,
  memoryBytesFor,
} from "./create.js";
export { Heap, type HeapBinding, type HeapSnapshot } from "./heap.js";
export {
  CACHE_DEPTH,
  CACHE_EXACT_CLASSES,
  CACHE_TOP_BYTES,
  cacheClassCount,
  FAILED_COUNT_OFFSET,
  HEAP_MAGIC,
  LAYOUT_VERSION,
} from "./layout.js";
export {
  BufferMemory,
  createMemory,
  MAX_MEMORY_BYTES,
  type MemoryGrowth,
  type MemoryOptions,
  RESERVE_MIN_BYTES,
  WASM_PAGE_BYTES,
} from "./memory.js";
