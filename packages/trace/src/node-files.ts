/**
 * Trace files through node:fs and gunzip through node:zlib: the Node half of reading, which the main
 * entry leaves out so that it runs in browsers. Kept apart from the rest of the Node entry so that a
 * reader thread loads only what reading needs.
 *
 * @module
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { createGunzip, gunzipSync } from "node:zlib";
import {
  type Gunzip,
  GZIP_BLOCK_BYTES,
  GzipProblem,
  type OpenedTraceFile,
  type TraceFiles,
} from "./bytes.js";
import { inflateAtOnceOptions, MAX_GZIP_AT_ONCE } from "./gzip-at-once.js";
import { type ReadTraceOptions, TraceReader, type TraceSource } from "./reader.js";

/**
 * Bytes read from a file at a time, and the size of gunzip's output chunks. Below glibc's threshold
 * for mapping an allocation on its own (128 KiB), so a chunk's memory comes from the heap that freed
 * chunks go back to, not from fresh pages: fresh pages cost a fault each on first touch (about 10 µs
 * on the VMs measured), and 256 KiB chunks made ~1 300 more of them reading python-json.rep.gz.
 */
const CHUNK_BYTES = 1 << 16;

/** Opens a trace file: its size now (a missing file or a directory is an error naming it), its chunks as read. */
export function openFile(path: string): OpenedTraceFile {
  let size: number;
  try {
    const stats = statSync(path);
    if (stats.isDirectory()) throw new Error("it is a directory, not a file");
    size = stats.size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : (error as Error).message;
    throw new Error(`cannot read the trace ${path}: ${why}`, { cause: error });
  }
  return { chunks: fileChunks(path), totalBytes: size };
}

/** Buffers a file is read into in turn (see {@link fileChunks}). */
const READ_BUFFERS = 3;

/**
 * The file's chunks, read synchronously: a read from the page cache is a copy of a few µs, while a
 * stream's read goes through libuv's pool and back through the event loop for each chunk (reading
 * python-json.rep, 11 MB, through `createReadStream` cost 60–90 ms more than parsing it from memory).
 * The chunks are read into a few buffers in turn rather than fresh ones, whose pages the kernel would
 * fault in as it copies (each fault ~10 µs here). A chunk stays valid until two more have been read:
 * the line splitter is done with one before it asks for the next, and gunzip holds at most the last
 * block of the chunk before (it waits for each block before it takes the one after next).
 */
async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const buffers: Buffer[] = [];
    for (let turn = 0; ; turn = (turn + 1) % READ_BUFFERS) {
      if (buffers.length === turn) buffers.push(Buffer.allocUnsafeSlow(CHUNK_BYTES));
      const chunk = buffers[turn];
      const length = readSync(fd, chunk, 0, CHUNK_BYTES, null);
      if (length === 0) return;
      yield length < CHUNK_BYTES ? chunk.subarray(0, length) : chunk;
    }
  } catch (error) {
    throw new Error(`cannot read the trace ${path}: ${(error as Error).message}`, { cause: error });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Gunzip by node:zlib: input of at most 16 MiB whose content is at most 64 MiB (as its gzip trailer
 * says) is inflated at once, on this thread, into one buffer that is handed on in 64 KiB views;
 * anything else — larger, truncated, corrupt, or a bomb — goes through {@link streamingGunzip}, which
 * reads it or reports it as it always did. The stream waits for each next block on the event loop,
 * which a replay turns only between batches: replaying python-json.rep.gz (2026-12-05, the machine
 * shared), 7 alternated runs each, 676 ms end to end streaming against 554 ms inflated at once.
 */
const nodeGunzip: Gunzip = async function* (blocks) {
  const iterator = blocks[Symbol.asyncIterator]();
  try {
    let input = new Uint8Array(1 << 20);
    let length = 0;
    let ended = false;
    while (length < MAX_GZIP_AT_ONCE) {
      const next = await iterator.next();
      if (next.done) {
        ended = true;
        break;
      }
      if (length + next.value.length > input.length) {
        const larger = new Uint8Array(input.length * 2);
        larger.set(input.subarray(0, length));
        input = larger;
      }
      input.set(next.value, length);
      length += next.value.length;
    }
    const gathered = input.subarray(0, length);
    const whole = ended ? inflatedAtOnce(gathered) : undefined;
    if (whole !== undefined) {
      for (let at = 0; at < whole.length; at += CHUNK_BYTES) yield whole.subarray(at, at + CHUNK_BYTES);
      return;
    }
    // the gathered input is whole blocks of the reader's fixed size, followed by the rest as it comes
    yield* streamingGunzip(
      (async function* () {
        for (let at = 0; at < length; at += GZIP_BLOCK_BYTES)
          yield gathered.subarray(at, at + GZIP_BLOCK_BYTES);
        for (
          let next = ended ? undefined : await iterator.next();
          next && !next.done;
          next = await iterator.next()
        ) {
          yield next.value;
        }
      })(),
    );
  } finally {
    // a reader left early closes the file
    await iterator.return?.();
  }
};

/** The content of a whole gzip input, or undefined where {@link streamingGunzip} must read it. */
function inflatedAtOnce(input: Uint8Array): Buffer | undefined {
  const options = inflateAtOnceOptions(input);
  if (options === undefined) return undefined;
  try {
    return gunzipSync(input, options);
  } catch {
    return undefined;
  }
}

/**
 * Gunzip by node:zlib's stream, on libuv's pool. One block is in the inflater while the output of the
 * one before is parsed; every byte zlib produced before an error is handed on, so a truncated stream
 * yields the same lines however its input was cut (the reader feeds blocks of one fixed size).
 */
export const streamingGunzip: Gunzip = async function* (blocks) {
  const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
  let output: Uint8Array[] = [];
  let failure: (Error & { code?: string }) | undefined;
  gunzip.on("data", (chunk: Buffer) => output.push(chunk));
  // a listener that stays: an error after the first (a write cut short by destroy) must not go unhandled
  const failed = new Promise<void>((resolve) =>
    gunzip.on("error", (error) => {
      failure ??= error;
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
 * File access through node:fs and gunzip by node:zlib's stream only, never at once: for a reader
 * thread, whose event loop is free to take each inflated block as soon as it is ready, so its first
 * batch comes after the first block instead of after the whole file.
 */
export const streamingNodeFiles: TraceFiles = { open: openFile, gunzip: streamingGunzip };

/** A reader of a file path or in-memory data, with node:fs and node:zlib. */
export function readTraceWithFiles(source: TraceSource, options?: ReadTraceOptions): TraceReader {
  return new TraceReader(source, options, nodeFiles);
}
