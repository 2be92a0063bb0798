/**
 * Object types: declared once, then every object of the type has the same layout. A type says how
 * many reference slots its objects hold (a fixed number, or `"list"`: a growable array of references
 * in a block of its own, as CPython's `list` keeps `ob_item`), how many raw bytes follow, and how the
 * collectors treat it (tracked or not, finalizer, legacy finalizer, free list).
 *
 * @module
 */

/** A managed object's own finalizer (Python's `__del__`): runs at most once, may resurrect the object. */
export type Finalizer = (obj: number) => void;

/** What a type is made of; given to `defineType`. */
export interface TypeSpec {
  /** A name for messages, `getObjects` filters and the CLI. */
  name: string;
  /** Reference slots: a fixed number, or `"list"` for a growable array of references (append/removeAt). */
  refs: number | "list";
  /** Raw bytes after the slots (default 0), reached through `bytesOf`/typed views. */
  bytes?: number;
  /**
   * Whether the cycle collector tracks objects of this type and counts their allocations (CPython's
   * GC-capable types). Default: true when the type can hold references.
   */
  tracked?: boolean;
  /** A finalizer (PEP 442 `tp_finalize`): runs once, before the object is cleared; may resurrect it. */
  finalizer?: Finalizer;
  /**
   * A legacy finalizer (CPython's C-level `tp_del`): cyclic garbage holding such an object is
   * uncollectable and goes to `garbage` instead of being freed.
   */
  legacyFinalizer?: boolean;
  /**
   * Freed objects kept for reuse (CPython keeps up to 80 lists): allocation from it and release into it
   * change no counts. Default 0 (every free goes to the allocator).
   */
  freeList?: number;
}

/** A declared type. */
export interface ObjectType {
  /** Index in the registry; stored in every object's header. */
  readonly id: number;
  /** The type's name. */
  readonly name: string;
  /** Fixed reference slots (0 for list types). */
  readonly refs: number;
  /** True for a growable list of references. */
  readonly isList: boolean;
  /** Raw bytes per object. */
  readonly bytes: number;
  /** Offset of the raw bytes from the object's address. */
  readonly bytesOffset: number;
  /** Bytes asked of the allocator for one object. */
  readonly size: number;
  /** Tracked by the cycle collector, counted in generation 0's count. */
  readonly tracked: boolean;
  /** The finalizer, or null. */
  readonly finalizer: Finalizer | null;
  /** True if the type has a legacy (uncollectable) finalizer. */
  readonly legacyFinalizer: boolean;
  /** Free-list capacity. */
  readonly freeList: number;
}

/** The most types a heap can declare (the id has 16 bits). */
export const MAX_TYPES = 0xffff;

/** Checks a spec and works out the layout of its objects behind a header of `headerBytes`. */
export function makeType(id: number, spec: TypeSpec, headerBytes: number): ObjectType {
  if (typeof spec.name !== "string" || spec.name.length === 0) {
    throw new TypeError("defineType: a type needs a non-empty name");
  }
  const isList = spec.refs === "list";
  const refs = isList ? 0 : (spec.refs as number);
  if (!isList && (!Number.isInteger(refs) || refs < 0 || refs > 1 << 20)) {
    throw new RangeError(`defineType(${spec.name}): refs must be "list" or an integer from 0 to 2^20`);
  }
  const bytes = spec.bytes ?? 0;
  if (!Number.isInteger(bytes) || bytes < 0 || bytes > 1 << 30) {
    throw new RangeError(`defineType(${spec.name}): bytes must be an integer from 0 to 2^30`);
  }
  const freeList = spec.freeList ?? 0;
  if (!Number.isInteger(freeList) || freeList < 0) {
    throw new RangeError(`defineType(${spec.name}): freeList must be a non-negative integer`);
  }
  const bytesOffset = (headerBytes + refs * 4 + 7) & ~7;
  return Object.freeze({
    id,
    name: spec.name,
    refs,
    isList,
    bytes,
    bytesOffset,
    size: bytesOffset + bytes,
    tracked: spec.tracked ?? (isList || refs > 0),
    finalizer: spec.finalizer ?? null,
    legacyFinalizer: spec.legacyFinalizer ?? false,
    freeList,
  });
}
