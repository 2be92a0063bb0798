/**
 * One way to make any plan by name: what the CLI, the scenarios and the benchmarks use.
 *
 * @module
 */
import type { Allocator } from "@heapkit/contract";
import type { PlanName } from "../managed.js";
import { type CompactOptions, MarkCompact } from "./mark-compact.js";
import { MarkSweep } from "./mark-sweep.js";
import { RefcountCycles, type RefcountCyclesOptions } from "./refcount-cycles.js";

/** The plans by name. */
export const planNames: readonly PlanName[] = ["refcount+cycles", "mark-sweep", "mark-compact"];

/** Options any plan accepts: each plan reads its own and ignores the rest. */
export type PlanOptions = RefcountCyclesOptions & CompactOptions;

/** Makes a plan by name over `allocator`. */
export function createPlan(
  plan: PlanName,
  allocator: Allocator,
  options: PlanOptions = {},
): RefcountCycles | MarkSweep | MarkCompact {
  switch (plan) {
    case "refcount+cycles":
      return new RefcountCycles(allocator, options);
    case "mark-sweep":
      return new MarkSweep(allocator, options);
    case "mark-compact":
      return new MarkCompact(allocator, options);
    default:
      throw new RangeError(`unknown plan "${String(plan)}": choose one of ${planNames.join(", ")}`);
  }
}
