/**
 * `@heapkit/trace/node` — everything of `@heapkit/trace`, plus what needs Node: trace files read by
 * path (gunzipped by node:zlib on libuv's thread pool, so it overlaps with parsing), and the streaming
 * writers. In Node, `@heapkit/trace` resolves here too (the `node` export condition); browsers and
 * bundlers for the browser get the main entry, which imports no `node:` module.
 *
 * @packageDocumentation
 */
import type { Allocator } from "@heapkit/contract";
import { type FragmentationFloor, type FragmentationFloorOptions, floorOf } from "./floor.js";
import { openFile, readTraceWithFiles } from "./node-files.js";
import type { BatchSource, ReadTraceOptions, TraceReader, TraceSource } from "./reader.js";
import {
  type AllocatorInput,
  isTraceSource,
  type ReplayInput,
  type ReplayOptions,
  type ReplayResult,
  replay as replayInput,
} from "./replay.js";
import { canReadInWorker, WorkerTraceReader } from "./worker-reader.js";

export * from "./index.js";
export { createTraceWriter, TraceWriter, type WriteTraceOptions, writeTrace } from "./writer.js";

/** Options of the Node entry's {@link replay}. */
export interface NodeReplayOptions extends ReplayOptions {
  /**
   * Read a trace file in a worker thread, beside the replay (default false). The events, figures and
   * errors are the same either way. It pays where a second core is free: on a machine whose cores are
   * all busy the two threads contend and the replay is slower (see the README's performance section).
   */
  readInWorker?: boolean;
}

/**
 * Opens a trace for streaming: a file path (`.gz` read transparently, whatever its name) or in-memory
 * data. The format comes from `options.format`, else the name's extension, else the first line.
 * Malformed input throws `TraceFormatError` naming the file, the line and what was expected, unless
 * `options.lenient`.
 *
 * @example
 * ```ts
 * for await (const event of readTrace("gcc-as.rep.gz")) console.log(event.op, event.id);
 * ```
 */
export function readTrace(source: TraceSource, options?: ReadTraceOptions): TraceReader {
  return readTraceWithFiles(source, options);
}

/**
 * Replays a trace — a file path, in-memory data, a reader, or events — against an allocator and
 * measures it (see the main entry's `replay`).
 *
 * @example
 * ```ts
 * const result = await replay("gcc-as.rep.gz", createHeap({ strategy: tlsf(), maxSize: 1 << 30 }));
 * console.log(result.utilization, result.opsPerSecond);
 * ```
 */
export function replay(
  input: ReplayInput,
  allocator: AllocatorInput,
  options: NodeReplayOptions = {},
): Promise<ReplayResult> {
  return replayInput(isTraceSource(input) ? readerFor(input, options) : input, allocator, options);
}

function readerFor(source: TraceSource, options: NodeReplayOptions): BatchSource {
  if (typeof source === "string" && canReadInWorker && options.readInWorker === true) {
    return new WorkerTraceReader(source, openFile(source).totalBytes, options);
  }
  return readTrace(source, options);
}

/** Replays a trace file against a fresh allocator from `makeAllocator` (so several runs never share a heap). */
export function replayFile(
  file: TraceSource,
  makeAllocator: () => Allocator,
  options?: NodeReplayOptions,
): Promise<ReplayResult> {
  return replay(file, makeAllocator, options);
}

/** The fragmentation floors of a trace file or in-memory trace (see the main entry's `fragmentationFloor`). */
export function fragmentationFloor(
  source: TraceSource,
  options: FragmentationFloorOptions = {},
): Promise<FragmentationFloor> {
  return floorOf(source, options, readTrace);
}
