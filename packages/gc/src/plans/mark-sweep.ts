/**
 * Plan 2 — mark-sweep: no reference counts. It composes marking and sweeping (see ./tracing.ts):
 *
 * ```
 *  collect:  markFrom(handles, root arrays)  →  sweep(all-objects list)
 * ```
 *
 * @module
 */
import type { Allocator } from "@heapkit/contract";
import type { PlanCapabilities } from "../capabilities.js";
import { type TracingOptions, TracingPlan } from "./tracing.js";

export type { TracingOptions, TracingStats } from "./tracing.js";

/** Mark-sweep over any allocator: tracing from the roots, an explicit mark stack, sweep to the allocator. */
export class MarkSweep extends TracingPlan {
  /** The plan's name. */
  readonly plan = "mark-sweep" as const;
  /** No counts, no generations, no weak references, no moves. */
  readonly capabilities: PlanCapabilities = Object.freeze({
    refcounts: null,
    generations: null,
    weakrefs: null,
    compaction: null,
  });

  constructor(allocator: Allocator, options: TracingOptions = {}) {
    super(allocator, options);
  }
}
