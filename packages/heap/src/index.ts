/**
 * `@heapkit/heap` — the core heap: `createHeap({ strategy, size, maxSize, memory, align })` returns a
 * {@link Heap} with malloc/tryMalloc/calloc/realloc/free/memalign, typed views, stats, a block walk,
 * invariant checks, snapshots and an event hook, over an ArrayBuffer, resizable ArrayBuffer,
 * SharedArrayBuffer or WebAssembly.Memory.
 *
 * @packageDocumentation
 */
export { createHeap, Heap, type HeapOptions, type HeapSnapshot } from "./heap.js";
export {
  BufferMemory,
  createMemory,
  MAX_MEMORY_BYTES,
  type MemoryOptions,
  WASM_PAGE_BYTES,
} from "./memory.js";
export { type WordAccessCounter, watchWordAccess } from "./word-access.js";
