/**
 * What the tracing plans share: objects carry the {@link TRACED_HEADER} (no reference count) and
 * sit on one list; a collection is marking from the roots (handles and root arrays), then sweeping
 * that list. Collections run on `collect()`, when an allocation finds no room (then the allocation is
 * retried once), and every `threshold` allocations if one is set.
 *
 * @module
 */
import type { Allocator, Ptr } from "@heapkit/contract";
import { TRACED_HEADER } from "../layout.js";
import { listAppend } from "../lists.js";
import { ManagedHeap, type ManagedHeapOptions } from "../managed.js";
import { markFrom } from "../policies/marking.js";
import { sweep } from "../policies/sweeping.js";
import type { ObjectType } from "../types.js";

/** Options of the tracing plans. */
export interface TracingOptions extends ManagedHeapOptions {
  /** Collect automatically every this many allocations (default 0: only on `collect()` or when memory runs out). */
  threshold?: number;
}

/** Figures of a tracing plan. */
export interface TracingStats {
  /** Collections run. */
  collections: number;
  /** Objects freed by them. */
  freed: number;
  /** Objects alive now. */
  objects: number;
  /** Objects moved by compactions (mark-compact). */
  moved: number;
}

/** The list head every object of a tracing plan is on. */
const H_ALL = 0;

/** Marking and sweeping over the objects of one list: the base of the tracing plans. */
export abstract class TracingPlan extends ManagedHeap {
  /** Allocations between automatic collections (0: none). */
  readonly threshold: number;
  /** @internal */
  protected readonly counters: TracingStats = { collections: 0, freed: 0, objects: 0, moved: 0 };
  private sinceCollect = 0;

  protected constructor(allocator: Allocator, options: TracingOptions) {
    super(allocator, TRACED_HEADER, 1, options);
    this.threshold = options.threshold ?? 0;
  }

  /** Allocates an unrooted object; collects first when the threshold says so, or when nothing fits. */
  allocate(type: ObjectType, capacity = 0): Ptr {
    if (this.types[type.id] !== type)
      throw new TypeError(`allocate: ${type.name} is not a type of this heap`);
    this.checkCapacity(capacity);
    if (this.threshold > 0 && ++this.sinceCollect > this.threshold) this.collect();
    let ptr = this.allocator.tryMalloc(type.size);
    if (ptr === 0) {
      this.collect();
      ptr = this.allocator.malloc(type.size);
    }
    try {
      this.initObject(ptr, type, 0, capacity);
    } catch (error) {
      this.allocator.free(ptr);
      throw error;
    }
    listAppend(this.i32, ptr, this.head(H_ALL));
    // the mark stack holds each object once at most: grown with the objects, not during a collection
    if (++this.counters.objects >= this.stack.length) this.growStack(this.counters.objects + 1);
    return ptr;
  }

  /** Marks from the roots and sweeps; returns the number of objects freed. */
  collect(_generation?: number): number {
    this.sinceCollect = 0;
    markFrom(this, this.jsRoots());
    const freed = sweep(this, this.head(H_ALL));
    this.counters.objects -= freed;
    this.counters.collections++;
    this.counters.freed += freed;
    return freed;
  }

  /** Every object, in allocation order (address order after a compaction). */
  allObjects(): Ptr[] {
    return this.listNodes(H_ALL);
  }

  /** Collections, objects freed and alive. */
  getStats(): TracingStats {
    return { ...this.counters };
  }

  /** The head of the list every object is on. @internal */
  protected get allHead(): Ptr {
    return this.head(H_ALL);
  }
}
