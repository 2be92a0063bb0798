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
import { PrefetchedTraceReader } from "./prefetched-reader.js";
import { canReadInWorker, type PrefetchedTrace, type ReadWorker } from "./read-thread.js";
import type { BatchSource, ReadTraceOptions, TraceReader, TraceSource } from "./reader.js";
import {
  type AllocatorInput,
  isTraceSource,
  type ReplayInput,
  type ReplayOptions,
  type ReplayResult,
  replay as replayInput,
} from "./replay.js";
import { WorkerTraceReader } from "./worker-reader.js";

export * from "./index.js";
export {
  canReadInWorker,
  type PrefetchedTrace,
  prefetchTrace,
  type ReadRequest,
  ReadWorker,
  startReadWorker,
} from "./read-thread.js";
export { createTraceWriter, TraceWriter, type WriteTraceOptions, writeTrace } from "./writer.js";

/** Options of the Node entry's {@link replay}. */
export interface NodeReplayOptions extends ReplayOptions {
  /**
   * Read a trace file in a worker thread, beside the replay (default false); or a {@link ReadWorker}
   * started ahead with `startReadWorker()` to read it in. The events, figures and errors are the same
   * either way. It pays where a second core is free and the trace is not tiny (an empty thread posted
   * its first message 72–77 ms after it was made, see the README's performance section).
   */
  readInWorker?: boolean | ReadWorker;
  /**
   * The trace file as `prefetchTrace(path)` started reading it (read and inflated on libuv's thread
   * pool while the program got ready): parsed here, with the same events, summary and errors as the
   * file. Used when its path is the trace's and `readInWorker` is off.
   */
  prefetched?: PrefetchedTrace;
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
  if (!isTraceSource(input)) return replayInput(input, allocator, options);
  const { reader, startedAt } = readerFor(input, options);
  // reading begun before this call (a prefetch, a reader thread started ahead) is on the end-to-end clock
  const readStartedAt = Math.min(options.readStartedAt ?? Number.POSITIVE_INFINITY, startedAt);
  return replayInput(reader, allocator, {
    ...options,
    ...(Number.isFinite(readStartedAt) ? { readStartedAt } : {}),
  });
}

/** The reader of a trace source, and when its reading began if that was before now (else +∞). */
function readerFor(
  source: TraceSource,
  options: NodeReplayOptions,
): { reader: BatchSource; startedAt: number } {
  const thread = options.readInWorker;
  const inWorker = typeof source === "string" && canReadInWorker && thread !== undefined && thread !== false;
  const prefetched = options.prefetched;
  if (typeof source === "string" && prefetched?.path === source && !inWorker) {
    return {
      reader: new PrefetchedTraceReader(source, prefetched, options),
      startedAt: prefetched.startedAt,
    };
  }
  if (inWorker) {
    const started = thread === true ? undefined : thread;
    return {
      reader: new WorkerTraceReader(source, openFile(source).totalBytes, options, started),
      startedAt: started?.startedAt ?? Number.POSITIVE_INFINITY,
    };
  }
  return { reader: readTrace(source, options), startedAt: Number.POSITIVE_INFINITY };
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
