/**
 * What a caller may ask of a plan beyond the object model. A plan declares the capabilities it has
 * in {@link PlanCapabilities}; a capability it lacks is `null`, so code that works with any plan asks
 * `heap.capabilities.generations` instead of testing which class the plan is.
 *
 * @module
 */
import type { Ptr } from "@heapkit/contract";
import type { ObjectType } from "./types.js";

/** What a collection callback receives (CPython's `info` dict). */
export interface CollectionInfo {
  /** The generation being collected. */
  generation: number;
  /** Objects collected (0 at "start"). */
  collected: number;
  /** Uncollectable objects found (0 at "start"). */
  uncollectable: number;
}

/** A `gc.callbacks` entry: called with "start" before and "stop" after every collection. */
export type CollectionCallback = (phase: "start" | "stop", info: CollectionInfo) => void;

/** A weak reference's callback: receives the weakref object, whose referent is already cleared. */
export type WeakrefCallback = (weakref: Ptr) => void;

/** What one compaction did. */
export interface CompactionReport {
  /** Objects moved. */
  moved: number;
  /** Bytes of objects and item blocks re-placed. */
  bytes: number;
}

/** Reference counts: every object carries one, and a count reaching zero frees the object. */
export interface RefcountCapability {
  /** The reference count of a live object. */
  refcount(obj: Ptr): number;
  /** Adds a reference to `obj`. */
  incref(obj: Ptr): void;
  /** Drops a reference to `obj`, freeing it (and what only it held) when the count reaches zero. */
  decref(obj: Ptr): void;
}

/** Generations, as CPython's `gc` module shows them. */
export interface GenerationsCapability {
  /** `gc.callbacks`: called around every collection, automatic or not. */
  readonly callbacks: CollectionCallback[];
  /** `gc.get_count()`. */
  getCount(): [number, number, number];
  /** Tracked objects in each generation. */
  generationSizes(): [number, number, number];
  /** `[long_lived_pending, long_lived_total]`: the state of the 25 % rule. */
  longLived(): [number, number];
  /** Objects on `type`'s free list. */
  freeListLength(type: ObjectType): number;
}

/** Weak references with callbacks. */
export interface WeakrefCapability {
  /** A new weak reference to `target` (an owned reference to the weakref object). */
  weakref(target: Ptr, callback?: WeakrefCallback): Ptr;
  /** The object a weakref points to, or 0 once it was cleared. */
  deref(weakref: Ptr): Ptr;
}

/** A moving plan: objects change address when it compacts (handles and root arrays follow them). */
export interface CompactionCapability {
  /** Slides every live object together now. */
  compact(): CompactionReport;
  /** Objects moved by every compaction so far: when it changes, addresses read earlier are stale. */
  movedObjects(): number;
}

/** The capabilities a plan declares; `null` for one it does not have. */
export interface PlanCapabilities {
  /** Reference counts (refcount+cycles). */
  readonly refcounts: RefcountCapability | null;
  /** Generations, counts, thresholds, callbacks (refcount+cycles). */
  readonly generations: GenerationsCapability | null;
  /** Weak references (refcount+cycles). */
  readonly weakrefs: WeakrefCapability | null;
  /** Moving objects (mark-compact). */
  readonly compaction: CompactionCapability | null;
}
