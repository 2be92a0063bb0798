/**
 * Plan 3 — mark-compact: marking and sweeping (see ./tracing.ts), then compaction
 * (../policies/compaction.ts: evacuate, forward, update) when enough has been freed since the last:
 *
 * ```
 *  collect:  markFrom(roots) → sweep → [freed since last compaction ≥ compactRatio × live]
 *            evacuate(live, in address order) → forward(re-allocate each) → update(every reference)
 * ```
 *
 * @module
 */
import type { Allocator } from "@heapkit/contract";
import type { CompactionCapability, CompactionReport, PlanCapabilities } from "../capabilities.js";
import { evacuate, forward, update } from "../policies/compaction.js";
import { type TracingOptions, TracingPlan } from "./tracing.js";

export type { CompactionReport } from "../capabilities.js";

/** Options of {@link MarkCompact}. */
export interface CompactOptions extends TracingOptions {
  /**
   * Compact when the objects freed since the last compaction are at least this fraction of the live
   * objects (default 0.25; 0 compacts after every collection that freed something). `compact()`
   * compacts at once.
   */
  compactRatio?: number;
}

/** Mark-compact over any allocator: mark, sweep, then slide the survivors together. */
export class MarkCompact extends TracingPlan implements CompactionCapability {
  /** The plan's name. */
  readonly plan = "mark-compact" as const;
  /** Objects move: handles and root arrays follow them. */
  readonly capabilities: PlanCapabilities;
  /** What the last compaction did. */
  lastCompaction: CompactionReport = { moved: 0, bytes: 0 };
  /** Compact when the objects freed since the last compaction reach this fraction of the live ones. */
  readonly compactRatio: number;
  private freedSinceCompaction = 0;

  constructor(allocator: Allocator, options: CompactOptions = {}) {
    super(allocator, options);
    this.compactRatio = options.compactRatio ?? 0.25;
    this.capabilities = Object.freeze({
      refcounts: null,
      generations: null,
      weakrefs: null,
      compaction: this,
    });
  }

  /**
   * Marks and sweeps; then compacts if enough has been freed since the last compaction (see
   * {@link CompactOptions.compactRatio}). Returns the number of objects freed.
   */
  override collect(generation?: number): number {
    const freed = super.collect(generation);
    this.freedSinceCompaction += freed;
    if (
      this.freedSinceCompaction > 0 &&
      this.freedSinceCompaction >= this.compactRatio * this.counters.objects
    ) {
      this.compact();
    }
    return freed;
  }

  /** Slides every live object (and its item block) to the lowest addresses the allocator offers. */
  compact(): CompactionReport {
    this.freedSinceCompaction = 0;
    const objects = this.allObjects().sort((a, b) => a - b);
    const evacuation = evacuate(this, objects);
    const moved = forward(this, evacuation);
    const changed = update(this, evacuation, moved, this.allHead);
    this.counters.moved += changed;
    this.lastCompaction = { moved: changed, bytes: evacuation.bytes };
    return this.lastCompaction;
  }

  /** Objects moved by every compaction so far. */
  movedObjects(): number {
    return this.counters.moved;
  }
}
