/**
 * `@heapkit/conformance` — the suite every heapkit strategy passes, for use from vitest:
 * `describeStrategy(name, make)` registers properties over random operation sequences, bad-input,
 * out-of-memory, growth, WebAssembly.Memory, snapshot and corruption tests for one strategy.
 *
 * @packageDocumentation
 */
export {
  describeStrategy,
  expectSameHeap,
  HeapModel,
  type Operation,
  operationArbitrary,
  type SuiteOptions,
} from "./suite.js";
