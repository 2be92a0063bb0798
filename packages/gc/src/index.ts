/**
 * `@heapkit/gc` — managed objects over any `Allocator` of the contract, and collectors as plans that
 * compose policies (the MMTk cut):
 *
 * - {@link RefcountCycles}: reference counting plus CPython 3.11's generational cycle collector, with
 *   the `gc` module's surface; its `cpython` profile matches CPython's counts number for number;
 * - {@link MarkSweep}: tracing from the roots, an explicit mark stack, sweep to the allocator;
 * - {@link MarkCompact}: mark-sweep, then the survivors slide together (handles follow them).
 *
 * The object model (types, headers in the heap, reference slots, lists, raw bytes, handles, root
 * arrays) is shared: see {@link ManagedHeap}. What a plan can do beyond it is in its
 * {@link PlanCapabilities}. {@link replayScenario} runs the CPython oracle's scenarios. The benchmark
 * harness (timing.py's graph) is `@heapkit/gc/testing`.
 *
 * @packageDocumentation
 */
export type {
  CollectionCallback,
  CollectionInfo,
  CompactionCapability,
  CompactionReport,
  GenerationsCapability,
  PlanCapabilities,
  RefcountCapability,
  WeakrefCallback,
  WeakrefCapability,
} from "./capabilities.js";
export * as layout from "./layout.js";
export {
  Handle,
  MAX_LIST_CAPACITY,
  ManagedHeap,
  type ManagedHeapOptions,
  type PlanName,
  type ReferenceCounter,
  ReleasedRootError,
  RootArray,
} from "./managed.js";
export { createPlan, type PlanOptions, planNames } from "./plans/create-plan.js";
export { type CompactOptions, MarkCompact } from "./plans/mark-compact.js";
export { MarkSweep, type TracingOptions, type TracingStats } from "./plans/mark-sweep.js";
export {
  CPYTHON_LIST_FREELIST,
  DEBUG_SAVEALL,
  type GenerationStats,
  NUM_GENERATIONS,
  RefcountCycles,
  type RefcountCyclesOptions,
} from "./plans/refcount-cycles.js";
export {
  reportUnraisable,
  type UnraisableEvent,
  type UnraisableHook,
  type UnraisableKind,
} from "./policies/finalization.js";
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
