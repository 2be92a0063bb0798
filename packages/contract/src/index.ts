/**
 * `@heapkit/contract` — the shared typed allocator contract: pointers, memory, regions, strategies,
 * engines, the allocator users hold, its statistics, errors with stable codes, and trace events.
 * Every other heapkit package depends on this one and on nothing that depends on it.
 *
 * @packageDocumentation
 */
export type {
  Alignment,
  Allocator,
  AllocatorEngine,
  BlockInfo,
  BlockState,
  EngineStats,
  FreeSpace,
  HeapEventKind,
  HeapListener,
  HeapStats,
  HeapUsage,
  Memory,
  MemoryKind,
  Ptr,
  Region,
  Strategy,
  StrategyDescriptor,
} from "./allocator.js";
export { NULL_PTR } from "./allocator.js";
export {
  DetachedMemoryError,
  DoubleFreeError,
  HeapCorruptionError,
  HeapError,
  type HeapErrorCode,
  HeapFormatError,
  InvalidPointerError,
  InvalidSizeError,
  LockTimeoutError,
  OutOfMemoryError,
  TraceFormatError,
  UnsupportedPlatformError,
  UseAfterFreeError,
} from "./errors.js";
export { alignUp, describeStrategy, isPowerOfTwo, isStrategy, reallocByMoving } from "./helpers.js";
export type { AllocEvent, FreeEvent, ReallocEvent, TraceEvent } from "./trace.js";
