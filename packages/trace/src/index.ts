/**
 * `@heapkit/trace` — allocation traces: streaming readers for CS:APP malloc-lab `.rep`, glibc
 * `mtrace` and heapkit JSON Lines (`.gz` transparently), a replay engine that drives any `Allocator`
 * of the contract, checks every payload and measures utilization, fragmentation and speed, the
 * malloc-lab score, and the least fragmentation any allocator can reach on a trace.
 *
 * This entry runs anywhere (it imports no `node:` module): it reads in-memory text and bytes, chunks
 * and `ReadableStream`s. Reading files by path and the writers are in `@heapkit/trace/node`.
 *
 * @packageDocumentation
 */
export { BATCH_EVENTS, createBatch, type EventBatch, Op } from "./batch.js";
export { type Gunzip, GzipProblem, type OpenedTraceFile, type TraceFiles, webGunzip } from "./bytes.js";
export {
  blockWithHeader,
  blockWithoutHeader,
  type FragmentationFloor,
  type FragmentationFloorOptions,
  fragmentationFloor,
} from "./floor.js";
export type { RepHeader, TraceFormat, TraceSummary } from "./parsers.js";
export {
  type BatchSource,
  eventAt,
  formatFromName,
  MAX_LINE_BYTES,
  type ReadTraceOptions,
  readTrace,
  type TraceData,
  TraceReader,
  type TraceSource,
} from "./reader.js";
export {
  type AllocatorInput,
  ReplayError,
  type ReplayInput,
  type ReplayOptions,
  type ReplayResult,
  type ReplaySeries,
  replay,
  replayFile,
} from "./replay.js";
export { type MalLabScore, malLabScore, UTIL_WEIGHT } from "./score.js";
