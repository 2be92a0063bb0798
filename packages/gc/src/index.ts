/**
 * `@heapkit/gc` — managed objects over any `Allocator` of the contract, and collectors as plans:
 *
 * - {@link RefcountCycles}: reference counting plus CPython 3.11's generational cycle collector, with
 *   the `gc` module's surface; its `cpython` profile matches CPython's counts number for number;
 * - {@link MarkSweep}: tracing from the roots, an explicit mark stack, sweep to the allocator;
 * - {@link MarkCompact}: mark-sweep, then the survivors slide together (handles follow them).
 *
 * The object model (types, headers in the heap, reference slots, lists, raw bytes, handles, root
 * arrays) is shared: see {@link ManagedHeap}. {@link replayScenario} runs the CPython oracle's
 * scenarios; {@link buildBenchmarkGraph} builds timing.py's graph.
 *
 * @packageDocumentation
 */
export {
  type BenchmarkGraph,
  type BenchmarkGraphOptions,
  buildBenchmarkGraph,
  type CollectTiming,
  pythonRandom,
  timeCollect,
} from "./bench.js";
export * as layout from "./layout.js";
export { Handle, ManagedHeap, type ManagedHeapOptions, type PlanName, RootArray } from "./managed.js";
export { type CompactionReport, type CompactOptions, MarkCompact } from "./plans/mark-compact.js";
export { MarkSweep, type TracingOptions, type TracingStats } from "./plans/mark-sweep.js";
export {
  type CollectionCallback,
  type CollectionInfo,
  CPYTHON_LIST_FREELIST,
  DEBUG_SAVEALL,
  type GenerationStats,
  NUM_GENERATIONS,
  RefcountCycles,
  type RefcountCyclesOptions,
  type WeakrefCallback,
} from "./plans/refcount-cycles.js";
export {
  parseScenario,
  type RecordedState,
  type ReplayCollection,
  type ReplayOptions,
  type ReplayResult,
  type ReplayState,
  replayScenario,
  type Scenario,
  type ScenarioMeta,
  type ScenarioOp,
  ScenarioReader,
  type ScenarioStep,
} from "./scenario.js";
export { type Finalizer, MAX_TYPES, type ObjectType, type TypeSpec } from "./types.js";

import type { Allocator } from "@heapkit/contract";
import type { PlanName } from "./managed.js";
import { type CompactOptions, MarkCompact } from "./plans/mark-compact.js";
import { MarkSweep } from "./plans/mark-sweep.js";
import { RefcountCycles, type RefcountCyclesOptions } from "./plans/refcount-cycles.js";

/** The plans by name. */
export const planNames: readonly PlanName[] = ["refcount+cycles", "mark-sweep", "mark-compact"];

/** Makes a plan by name over `allocator`. */
export function createPlan(
  plan: PlanName,
  allocator: Allocator,
  options: RefcountCyclesOptions & CompactOptions = {},
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
