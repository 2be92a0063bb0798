/**
 * `@heapkit/trace/node` — everything of `@heapkit/trace`, plus what needs Node: trace files read by
 * path (gunzipped by node:zlib on libuv's thread pool, so it overlaps with parsing), and the streaming
 * writers. In Node, `@heapkit/trace` resolves here too (the `node` export condition); browsers and
 * bundlers for the browser get the main entry, which imports no `node:` module.
 *
 * @packageDocumentation
 */
import { createReadStream, statSync } from "node:fs";
import { createGunzip } from "node:zlib";
import type { Allocator } from "@heapkit/contract";
import { type Gunzip, GzipProblem, type TraceFiles } from "./bytes.js";
import { type FragmentationFloor, type FragmentationFloorOptions, floorOf } from "./floor.js";
import { type ReadTraceOptions, TraceReader, type TraceSource } from "./reader.js";
import {
  type AllocatorInput,
  isTraceSource,
  type ReplayInput,
  type ReplayOptions,
  type ReplayResult,
  replay as replayInput,
} from "./replay.js";

export * from "./index.js";
export { createTraceWriter, TraceWriter, type WriteTraceOptions, writeTrace } from "./writer.js";

/** Bytes read from a file at a time, and gunzipped at a time. */
const CHUNK_BYTES = 1 << 18;

function openFile(path: string): { chunks: AsyncIterable<Uint8Array>; totalBytes: number } {
  let size: number;
  try {
    const stats = statSync(path);
    if (stats.isDirectory()) throw new Error("it is a directory, not a file");
    size = stats.size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      `cannot read the trace ${path}: ${code === "ENOENT" ? "no such file" : (error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  return { chunks: fileChunks(path), totalBytes: size };
}

async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES })) yield chunk as Buffer;
  } catch (error) {
    throw new Error(`cannot read the trace ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Gunzip by node:zlib. One block is in the inflater while the output of the one before is parsed;
 * every byte zlib produced before an error is handed on, so a truncated stream yields the same lines
 * however its input was cut (the reader feeds blocks of one fixed size).
 */
const nodeGunzip: Gunzip = async function* (blocks) {
  const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
  let output: Uint8Array[] = [];
  let failure: (Error & { code?: string }) | undefined;
  gunzip.on("data", (chunk: Buffer) => output.push(chunk));
  const failed = new Promise<void>((resolve) =>
    gunzip.once("error", (error) => {
      failure = error;
      resolve();
    }),
  );
  const ended = new Promise<void>((resolve) => gunzip.once("end", resolve));
  const write = (block: Uint8Array) =>
    Promise.race([new Promise<void>((resolve) => gunzip.write(block, () => resolve())), failed]);
  try {
    let previous: Promise<void> | undefined;
    for await (const block of blocks) {
      const current = write(block);
      if (previous !== undefined) {
        await previous;
        const ready = output;
        output = [];
        yield* ready;
      }
      previous = current;
      if (failure !== undefined) break;
    }
    if (previous !== undefined) await previous;
    if (failure === undefined) {
      gunzip.end();
      await Promise.race([ended, failed]);
    }
    yield* output;
    output = [];
    if (failure !== undefined) {
      const truncated = failure.code === "Z_BUF_ERROR" || /unexpected end/i.test(failure.message);
      throw new GzipProblem(truncated, failure.message);
    }
  } finally {
    gunzip.destroy();
  }
};

/** File access and gunzip through node:fs and node:zlib. */
export const nodeFiles: TraceFiles = { open: openFile, gunzip: nodeGunzip };

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
  return new TraceReader(source, options, nodeFiles);
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
  options: ReplayOptions = {},
): Promise<ReplayResult> {
  return replayInput(isTraceSource(input) ? readTrace(input, options) : input, allocator, options);
}

/** Replays a trace file against a fresh allocator from `makeAllocator` (so several runs never share a heap). */
export function replayFile(
  file: TraceSource,
  makeAllocator: () => Allocator,
  options?: ReplayOptions,
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
