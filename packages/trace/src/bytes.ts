/**
 * Byte sources for the reader, with no Node-only module: in-memory text, bytes, iterables of chunks and
 * web `ReadableStream`s, cut into blocks, and gunzipped through the web platform's
 * `DecompressionStream` when they start with the gzip magic. `@heapkit/trace/node` plugs node:fs and
 * node:zlib into the same {@link TraceFiles} hooks.
 *
 * @module
 */

/** An in-memory or streamed trace: a name for messages and its content (gzipped or not). */
export interface TraceData {
  /** The name errors give (like a file name; its extension picks the format). */
  readonly name: string;
  /** The trace's content, or its chunks. */
  readonly data:
    | string
    | Uint8Array
    | Iterable<Uint8Array>
    | AsyncIterable<Uint8Array>
    | ReadableStream<Uint8Array>;
}

/** The gzip input stopped early or is not gzip; the reader turns it into a `TraceFormatError`. */
export class GzipProblem extends Error {
  constructor(
    /** True when the compressed input ended before its end; false when it is corrupt. */
    readonly truncated: boolean,
    detail: string,
  ) {
    super(detail);
    this.name = "GzipProblem";
  }
}

/** Gunzips a sequence of compressed blocks; throws {@link GzipProblem} on truncated or corrupt input. */
export type Gunzip = (blocks: AsyncIterable<Uint8Array>) => AsyncIterable<Uint8Array>;

/** A file opened for reading. */
export interface OpenedTraceFile {
  /** Its content, chunk by chunk, read as they are asked for. */
  readonly chunks: AsyncIterable<Uint8Array>;
  /** Its size in bytes. */
  readonly totalBytes: number;
}

/** How a reader opens named files and gunzips: the platform's part of reading. */
export interface TraceFiles {
  /** Opens the file at `path`. Throws an `Error` naming the path if it cannot be read. */
  open(path: string): OpenedTraceFile;
  /** The gunzip to use. */
  gunzip: Gunzip;
}

/** Bytes handed to the gunzip per write: a fixed size, so what a truncated stream yields never depends on how the input was cut. */
export const GZIP_BLOCK_BYTES = 1 << 14;

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

const encoder = new TextEncoder();

/** The bytes of in-memory data, or undefined for streamed data. */
export function wholeBytes(data: TraceData["data"]): Uint8Array | undefined {
  if (typeof data === "string") return encoder.encode(data);
  // isView rather than instanceof: bytes made in another realm (a frame, a worker's copy) count too
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

/** The chunks of a {@link TraceData}'s content, as they come. */
export async function* chunksOf(data: TraceData["data"]): AsyncGenerator<Uint8Array> {
  const whole = wholeBytes(data);
  if (whole !== undefined) {
    yield whole;
    return;
  }
  if (typeof ReadableStream !== "undefined" && data instanceof ReadableStream) {
    const reader = (data as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const next = await reader.read();
        if (next.done) return;
        yield next.value;
      }
    } finally {
      reader.releaseLock();
    }
  }
  yield* data as Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
}

/**
 * Cuts chunks into blocks of exactly `size` bytes (the last may be shorter): whole blocks of a large
 * chunk are passed as views, only the pieces that straddle chunks are copied.
 */
export async function* fixedBlocks(
  chunks: AsyncIterable<Uint8Array>,
  size: number,
): AsyncGenerator<Uint8Array> {
  const pending = new Uint8Array(size);
  let filled = 0;
  for await (const chunk of chunks) {
    let at = 0;
    if (filled > 0) {
      const taken = Math.min(size - filled, chunk.length);
      pending.set(chunk.subarray(0, taken), filled);
      filled += taken;
      at = taken;
      if (filled < size) continue;
      yield pending.slice();
      filled = 0;
    }
    while (chunk.length - at >= size) {
      yield chunk.subarray(at, at + size);
      at += size;
    }
    if (at < chunk.length) {
      pending.set(chunk.subarray(at), 0);
      filled = chunk.length - at;
    }
  }
  if (filled > 0) yield pending.slice(0, filled);
}

/**
 * The chunks as they are, or gunzipped when the input starts with the gzip magic (whatever the name
 * says, and however few bytes the first chunk holds).
 */
export async function* gunzipIfNeeded(
  chunks: AsyncIterable<Uint8Array>,
  gunzip: Gunzip,
): AsyncGenerator<Uint8Array> {
  const iterator = chunks[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let headBytes = 0;
  let done = false;
  while (headBytes < 2) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    if (next.value.length === 0) continue;
    head.push(next.value);
    headBytes += next.value.length;
  }
  if (headBytes === 0) return;
  const first = head[0];
  const second = first.length > 1 ? first[1] : head[1]?.[0];
  const all = (async function* () {
    yield* head;
    if (done) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  })();
  if (first[0] !== GZIP_MAGIC_0 || second !== GZIP_MAGIC_1) {
    yield* all;
    return;
  }
  yield* gunzip(fixedBlocks(all, GZIP_BLOCK_BYTES));
}

/**
 * Gunzip through the web platform's `DecompressionStream` (browsers, Deno, Node ≥ 18). Blocks are
 * written one at a time as the output is read, so memory stays bounded however well the input packs.
 */
export const webGunzip: Gunzip = async function* (blocks) {
  if (typeof DecompressionStream === "undefined") {
    throw new GzipProblem(false, "this platform has no DecompressionStream to gunzip with");
  }
  const stream = new DecompressionStream("gzip");
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  let writeFailure: unknown;
  const feeding = (async () => {
    try {
      for await (const block of blocks) await writer.write(block as Uint8Array<ArrayBuffer>);
      await writer.close();
    } catch (error) {
      writeFailure = error;
      await writer.abort(error).catch(() => {});
    }
  })();
  try {
    for (;;) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (error) {
        if (writeFailure !== undefined && !isDecompressionError(writeFailure)) throw writeFailure;
        throw gzipProblemOf(error);
      }
      if (next.done) break;
      yield next.value;
    }
    await feeding;
    if (writeFailure !== undefined) {
      throw isDecompressionError(writeFailure) ? gzipProblemOf(writeFailure) : writeFailure;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
};

function isDecompressionError(error: unknown): boolean {
  return error instanceof TypeError || (error as { code?: string } | null)?.code?.startsWith("Z_") === true;
}

function gzipProblemOf(error: unknown): GzipProblem {
  const message = error instanceof Error ? error.message : String(error);
  const truncated = /truncat|unexpected end|end of file/i.test(message);
  return new GzipProblem(truncated, message);
}

/** Text of `bytes[start, end)` read as Latin-1 (for messages; one char per byte, never throws). */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  let text = "";
  for (let i = start; i < end; i += 4096) {
    text += String.fromCharCode.apply(
      null,
      bytes.subarray(i, Math.min(end, i + 4096)) as unknown as number[],
    );
  }
  return text;
}
