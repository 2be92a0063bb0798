/**
 * Trace events: what a program did to its heap, in order. Ids name blocks, not addresses, so a
 * trace replays against any allocator.
 *
 * @module
 */

/** A block was allocated: `id` now names a block of `size` bytes. */
export interface AllocEvent {
  /** Event kind. */
  readonly op: "alloc";
  /** The block's id (unique among live blocks). */
  readonly id: number;
  /** Bytes asked for. */
  readonly size: number;
  /** Optional time stamp (any unit the trace chooses). */
  readonly time?: number;
}

/** The block named `id` was freed. */
export interface FreeEvent {
  /** Event kind. */
  readonly op: "free";
  /** The block's id. */
  readonly id: number;
  /** Optional time stamp. */
  readonly time?: number;
}

/** The block named `id` was resized to `size` bytes (it may move; it keeps its id). */
export interface ReallocEvent {
  /** Event kind. */
  readonly op: "realloc";
  /** The block's id. */
  readonly id: number;
  /** The new size in bytes. */
  readonly size: number;
  /** Optional time stamp. */
  readonly time?: number;
}

/** One event of an allocation trace. */
export type TraceEvent = AllocEvent | FreeEvent | ReallocEvent;
