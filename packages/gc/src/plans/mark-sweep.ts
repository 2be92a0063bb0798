/**
 * Plan 2 — mark-sweep: no reference counts. Every object is on one list (the header's next/prev);
 * a collection marks what the roots (handles and root arrays) reach, with an explicit mark stack,
 * then sweeps the list and gives every unmarked object's blocks back to the allocator.
 *
 * ```
 *  mark:   stack ← roots; while stack: p ← pop; for each slot c of p: if !MARK(c): MARK(c), push c
 *  sweep:  for p in all-objects list: MARK(p) ? clear MARK : unlink p, free its item block and p
 * ```
 *
 * Collections run on `collect()`, when an allocation finds no room (then the allocation is retried
 * once), and every `threshold` allocations if one is set.
 *
 * @module
 */
import type { Allocator, Ptr } from "@heapkit/contract";
import * as layout from "../layout.js";
import { ManagedHeap, type ManagedHeapOptions } from "../managed.js";
import type { ObjectType } from "../types.js";

// Module-local copies of the layout constants: some toolchains (vite/vitest) turn every use of an
// imported binding into a property read on a module object, which the hot loops cannot afford.
const { F_ALIVE, F_MARK, W_INFO, W_NEXT } = layout;

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

const H_ALL = 0;

/** Mark-sweep over any allocator: tracing from the roots, an explicit mark stack, sweep to the allocator. */
export class MarkSweep extends ManagedHeap {
  /** The plan's name. */
  readonly plan: "mark-sweep" | "mark-compact" = "mark-sweep";
  /** Allocations between automatic collections (0: none). */
  readonly threshold: number;
  /** @internal */
  protected readonly counters: TracingStats = { collections: 0, freed: 0, objects: 0, moved: 0 };
  private sinceCollect = 0;

  constructor(allocator: Allocator, options: TracingOptions = {}) {
    super(allocator, 1, options);
    this.threshold = options.threshold ?? 0;
  }

  /** Allocates an unrooted object; collects first when the threshold says so, or when nothing fits. */
  allocate(type: ObjectType, capacity = 0): Ptr {
    if (this.types[type.id] !== type)
      throw new TypeError(`allocate: ${type.name} is not a type of this heap`);
    if (this.threshold > 0 && ++this.sinceCollect > this.threshold) this.collect();
    let ptr = this.allocator.tryMalloc(type.size);
    if (ptr === 0) {
      this.collect();
      ptr = this.allocator.malloc(type.size);
    }
    this.initObject(ptr, type, 0, capacity);
    this.listAppend(ptr, this.head(H_ALL));
    // the mark stack holds each object once at most: grown with the objects, not during a collection
    if (++this.counters.objects >= this.stack.length) this.growStack(this.counters.objects + 1);
    return ptr;
  }

  /** @internal */
  retainRef(_ptr: Ptr): void {}
  /** @internal */
  releaseRef(_ptr: Ptr): void {}

  /** Marks from the roots and sweeps; returns the number of objects freed. */
  collect(_generation?: number): number {
    this.sinceCollect = 0;
    this.markFrom(this.jsRoots());
    const freed = this.sweep();
    this.counters.collections++;
    this.counters.freed += freed;
    return freed;
  }

  /** Every object, in allocation order (address order after a compaction). */
  allObjects(): Ptr[] {
    return this.listNodes(this.head(H_ALL));
  }

  /** Collections, objects freed and alive. */
  getStats(): TracingStats {
    return { ...this.counters };
  }

  /** Frees every unmarked object and clears the marks; returns how many it freed. */
  protected sweep(): number {
    const all = this.head(H_ALL);
    let freed = 0;
    let p = this.i32[(all >> 2) + W_NEXT];
    while (p !== all) {
      const i32 = this.i32;
      const w = p >> 2;
      const next = i32[w + W_NEXT];
      if ((i32[w + W_INFO] & F_MARK) !== 0) {
        i32[w + W_INFO] &= ~F_MARK;
      } else {
        this.listRemove(p);
        this.freeItems(p);
        i32[w + W_INFO] &= ~F_ALIVE;
        this.allocator.free(p);
        freed++;
      }
      p = next;
    }
    this.counters.objects -= freed;
    return freed;
  }
}
