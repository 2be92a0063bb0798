/**
 * `@heapkit/heap/testing` — instruments for tests and benchmarks, not for programs: they slow every
 * access they watch.
 *
 * @packageDocumentation
 */
export { type WordAccessCounter, watchWordAccess } from "./word-access.js";
