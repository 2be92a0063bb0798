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
 * each too small (external fragmentation), which `largestFreeBlock` shows.
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

  constructor(requested: number, freeBytes: number, largestFreeBlock: number, heapLimit: number) {
    super(
      `Out of memory: asked for ${formatBytes(requested)}; ${formatBytes(freeBytes)} free, ` +
        `largest free block ${formatBytes(largestFreeBlock)}, heap limit ${formatBytes(heapLimit)}`,
    );
    this.name = "OutOfMemoryError";
    this.requested = requested;
    this.freeBytes = freeBytes;
    this.largestFreeBlock = largestFreeBlock;
    this.heapLimit = heapLimit;
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
