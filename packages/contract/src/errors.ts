/**
 * The errors every heapkit package throws. Each has a stable `code` that programs can test
 * (`err.code === "HEAP_OUT_OF_MEMORY"`) and fields that say what went wrong, where, and what
 * was allowed. A rejected call leaves the heap exactly as it was.
 *
 * @module
 */

/** The stable codes of heapkit's errors. */
export type HeapErrorCode =
  | "HEAP_OUT_OF_MEMORY"
  | "HEAP_INVALID_POINTER"
  | "HEAP_DOUBLE_FREE"
  | "HEAP_INVALID_SIZE"
  | "HEAP_CORRUPTION"
  | "HEAP_USE_AFTER_FREE"
  | "HEAP_FORMAT"
  | "HEAP_DETACHED"
  | "HEAP_LOCK_TIMEOUT"
  | "UNSUPPORTED_PLATFORM"
  | "TRACE_FORMAT";

/** The base class of every heapkit error. */
export abstract class HeapError extends Error {
  /** A stable machine-readable code, one per class. */
  abstract readonly code: HeapErrorCode;
}

function formatBytes(bytes: number): string {
  return `${bytes} byte${bytes === 1 ? "" : "s"}`;
}

/**
 * Nothing fits: the seed program's `MemoryError('Out of memory')`, with the figures that explain it.
 * A request can fail while `freeBytes` exceeds it: the free bytes are split into blocks that are
 * each too small (external fragmentation), which `largestFreeBlock` shows. `growableBytes` is the
 * room the heap could still have grown into: what its strategy could not use for this request.
 */
export class OutOfMemoryError extends HeapError {
  readonly code = "HEAP_OUT_OF_MEMORY" as const;
  /** The size asked for, in bytes. */
  readonly requested: number;
  /** The bytes free in the heap at the time (all free blocks together). */
  readonly freeBytes: number;
  /** The payload of the largest free block at the time. */
  readonly largestFreeBlock: number;
  /** The heap's size limit (the most it may grow to), in bytes. */
  readonly heapLimit: number;
  /** Bytes between the heap's end and its limit: room it may still grow into. */
  readonly growableBytes: number;

  constructor(
    requested: number,
    freeBytes: number,
    largestFreeBlock: number,
    heapLimit: number,
    growableBytes = 0,
  ) {
    super(
      `Out of memory: asked for ${formatBytes(requested)}; ${formatBytes(freeBytes)} free, ` +
        `largest free block ${formatBytes(largestFreeBlock)}` +
        (growableBytes > 0 ? `, ${formatBytes(growableBytes)} more the heap may grow by` : "") +
        `, heap limit ${formatBytes(heapLimit)}`,
    );
    this.name = "OutOfMemoryError";
    this.requested = requested;
    this.freeBytes = freeBytes;
    this.largestFreeBlock = largestFreeBlock;
    this.heapLimit = heapLimit;
    this.growableBytes = growableBytes;
  }
}

/** A pointer that is not the start of a live block: inside a payload, past the end, or never allocated. */
export class InvalidPointerError extends HeapError {
  readonly code = "HEAP_INVALID_POINTER" as const;
  /** The pointer passed. */
  readonly ptr: number;
  /** The call that received it (`free`, `realloc`, `usableSize`, …). */
  readonly operation: string;

  constructor(operation: string, ptr: number, reason: string) {
    super(`${operation}(${ptr}): ${reason}`);
    this.name = "InvalidPointerError";
    this.ptr = ptr;
    this.operation = operation;
  }
}

/** A pointer to a block that was already freed. */
export class DoubleFreeError extends HeapError {
  readonly code = "HEAP_DOUBLE_FREE" as const;
  /** The pointer passed. */
  readonly ptr: number;
  /** The call that received it. */
  readonly operation: string;

  constructor(operation: string, ptr: number) {
    super(`${operation}(${ptr}): the block at ${ptr} was already freed (double free)`);
    this.name = "DoubleFreeError";
    this.ptr = ptr;
    this.operation = operation;
  }
}

/**
 * A size or count that is not a non-negative integer within the allowed range: negative,
 * fractional, NaN, Infinity, not a number, or beyond the heap's limit. Never silently truncated.
 */
export class InvalidSizeError extends HeapError {
  readonly code = "HEAP_INVALID_SIZE" as const;
  /** The value passed (as given). */
  readonly value: unknown;
  /** Which argument it was (`size`, `count`, `alignment`, …). */
  readonly argument: string;
  /** The largest value allowed. */
  readonly max: number;

  constructor(operation: string, argument: string, value: unknown, max: number, why?: string) {
    const shown =
      typeof value === "number" || typeof value === "bigint" ? String(value) : JSON.stringify(value);
    super(
      `${operation}: ${argument} ${shown} is not allowed: ${why ?? `expected an integer from 0 to ${max}`}`,
    );
    this.name = "InvalidSizeError";
    this.value = value;
    this.argument = argument;
    this.max = max;
  }
}

/** An invariant of the heap is broken: names the block and the invariant. */
export class HeapCorruptionError extends HeapError {
  readonly code = "HEAP_CORRUPTION" as const;
  /** The offset of the block (or metadata word) where the broken invariant was found. */
  readonly offset: number;
  /** The invariant that does not hold, in words. */
  readonly invariant: string;

  constructor(offset: number, invariant: string) {
    super(`heap corruption at offset ${offset}: ${invariant}`);
    this.name = "HeapCorruptionError";
    this.offset = offset;
    this.invariant = invariant;
  }
}

/** Use of a managed object after it was freed (reported by checked modes of the collectors). */
export class UseAfterFreeError extends HeapError {
  readonly code = "HEAP_USE_AFTER_FREE" as const;
  /** The object's address. */
  readonly ptr: number;

  constructor(ptr: number, operation: string) {
    super(`${operation}: the object at ${ptr} is dead (use after free)`);
    this.name = "UseAfterFreeError";
    this.ptr = ptr;
  }
}

/** A trace line that cannot be read: names the file, the 1-based line, and what was expected. */
export class TraceFormatError extends HeapError {
  readonly code = "TRACE_FORMAT" as const;
  /** The file (or stream name) being read. */
  readonly file: string;
  /** The 1-based line number. */
  readonly line: number;
  /** What was expected there. */
  readonly expected: string;

  constructor(file: string, line: number, expected: string) {
    super(`${file}:${line}: ${expected}`);
    this.name = "TraceFormatError";
    this.file = file;
    this.line = line;
    this.expected = expected;
  }
}

/**
 * Memory that is not a heap of this layout: attaching to a buffer that holds no heap (or one of
 * another layout version, strategy or alignment), or formatting a buffer that already holds a live
 * heap without asking to. Nothing is written to the memory.
 */
export class HeapFormatError extends HeapError {
  readonly code = "HEAP_FORMAT" as const;
  /** The byte offset where the heap's control block was expected. */
  readonly offset: number;
  /** What was found instead, in words. */
  readonly reason: string;

  constructor(offset: number, reason: string) {
    super(`no usable heap at offset ${offset}: ${reason}`);
    this.name = "HeapFormatError";
    this.offset = offset;
    this.reason = reason;
  }
}

/**
 * The heap's memory is gone from this thread: its buffer was transferred (to a worker, say) or
 * detached, or this heap object was detached from a shared heap with `detach()`.
 */
export class DetachedMemoryError extends HeapError {
  readonly code = "HEAP_DETACHED" as const;
  /** The call that found it. */
  readonly operation: string;

  constructor(
    operation: string,
    reason = "the heap's memory was detached (its buffer was transferred away): attach to it where it lives now",
  ) {
    super(`${operation}: ${reason}`);
    this.name = "DetachedMemoryError";
    this.operation = operation;
  }
}

/**
 * A shared heap's lock was held longer than the caller may wait: the worker that holds it is stuck,
 * or died while it held it. Names that worker. The heap may be mid-update: treat it as lost.
 */
export class LockTimeoutError extends HeapError {
  readonly code = "HEAP_LOCK_TIMEOUT" as const;
  /** The call that waited. */
  readonly operation: string;
  /** How long it waited, in milliseconds. */
  readonly waitedMs: number;
  /** The worker slot that held the lock (-1 if the lock does not record its holder). */
  readonly holderSlot: number;
  /** The thread id that worker attached with (worker_threads' threadId in node by default). */
  readonly holderThread: number;

  constructor(
    operation: string,
    waitedMs: number,
    holderSlot: number,
    holderThread: number,
    lock = "the heap lock",
  ) {
    super(
      holderSlot >= 0
        ? `${operation}: waited ${waitedMs} ms for ${lock}, held by worker slot ${holderSlot} ` +
            `(thread ${holderThread}); that worker is stuck or died while holding it`
        : `${operation}: waited ${waitedMs} ms for ${lock}; the worker holding it is stuck or died while holding it`,
    );
    this.name = "LockTimeoutError";
    this.operation = operation;
    this.waitedMs = waitedMs;
    this.holderSlot = holderSlot;
    this.holderThread = holderThread;
  }
}

/** The JavaScript platform lacks something a heap needs (resizable ArrayBuffer, Atomics, …); says what. */
export class UnsupportedPlatformError extends HeapError {
  readonly code = "UNSUPPORTED_PLATFORM" as const;
  /** What is missing. */
  readonly feature: string;

  constructor(feature: string, remedy: string) {
    super(`this JavaScript platform lacks ${feature}: ${remedy}`);
    this.name = "UnsupportedPlatformError";
    this.feature = feature;
  }
}
