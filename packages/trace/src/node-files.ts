/**
 * Trace files through node:fs and gunzip through node:zlib: the Node half of reading, which the main
 * entry leaves out so that it runs in browsers. Kept apart from the rest of the Node entry so that a
 * reader thread loads only what reading needs.
 *
 * @module
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { createGunzip, gunzipSync, constants as zlibConstants } from "node:zlib";
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
 * The zlib handle under a node:zlib stream, as node's own `gunzipSync` drives it (`_handle.writeSync`
 * and the `_writeState` it reports into: internal, and the same in node 12 to 24). Undefined where a
 * node lacks them; reading then falls back to {@link gatheredGunzip}.
 */
interface ZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inputOffset: number,
    inputLength: number,
    output: Uint8Array,
    outputOffset: number,
    outputLength: number,
  ): void;
  onerror: (message: string, errno: number, code: string) => void;
  close(): void;
}

function syncInflater(): { handle: ZlibHandle; state: Uint32Array; stream: { close(): void } } | undefined {
  const stream = createGunzip() as unknown as {
    _handle?: Partial<ZlibHandle>;
    _writeState?: unknown;
    close(): void;
  };
  const handle = stream._handle;
  const state = stream._writeState;
  if (typeof handle?.writeSync !== "function" || !(state instanceof Uint32Array) || state.length < 2) {
    stream.close();
    return undefined;
  }
  return { handle: handle as ZlibHandle, state, stream };
}

const NO_INPUT = new Uint8Array(0);

/**
 * Gunzip by node:zlib on this thread, streaming and synchronous: each block of input is inflated at
 * once (no turn of the event loop, which a replay takes only between batches) into one window of
 * {@link CHUNK_BYTES} (64 KiB, gunzip's output chunk), reused: handed on whenever it fills and then
 * filled again. So the content never lands in memory whole: no fresh page is touched for it (a
 * first touch costs 11 µs on the VM measured, and inflating python-json-10k's 17.8 MB into one buffer
 * made 4 350 of them, plus 2 700 for gathering its 4.5 MB of input in a buffer that doubled), and a
 * gzip bomb is bounded by the window. Inflating python-json-10k.rep.gz alone in a fresh process
 * (2026-12-05, 3 runs each): 28–40 ms into the window against 102–114 ms at once into one buffer of
 * the trailer's size, 2 650 page faults in all against 7 930. Every byte zlib produced before an
 * error is handed on, then the error, as with the stream: the same lines from a truncated file
 * whatever the cut.
 */
export const syncGunzip: Gunzip = async function* (blocks) {
  const inflater = syncInflater();
  if (inflater === undefined) {
    yield* gatheredGunzip(blocks);
    return;
  }
  const { handle, state, stream } = inflater;
  let failure: { message: string; code: string } | undefined;
  handle.onerror = (message, _errno, code) => {
    failure ??= { message, code };
  };
  const window = new Uint8Array(CHUNK_BYTES);
  let filled = 0;
  /** Inflates `bytes` into the window, handing the window on each time it fills. */
  const inflate = function* (bytes: Uint8Array, flush: number): Generator<Uint8Array> {
    let at = 0;
    let left = bytes.length;
    for (;;) {
      const room = CHUNK_BYTES - filled;
      handle.writeSync(flush, bytes, at, left, window, filled, room);
      if (failure !== undefined) return;
      const roomAfter = state[0];
      const leftAfter = state[1];
      filled += room - roomAfter;
      at += left - leftAfter;
      left = leftAfter;
      // a window not filled: zlib took all it could of this input (or, finishing, reached the end)
      if (roomAfter > 0) return;
      yield window;
      filled = 0;
    }
  };
  try {
    for await (const block of blocks) {
      yield* inflate(block, zlibConstants.Z_NO_FLUSH);
      if (failure !== undefined) break;
    }
    if (failure === undefined) yield* inflate(NO_INPUT, zlibConstants.Z_FINISH);
    if (filled > 0) yield window.subarray(0, filled);
    if (failure !== undefined) throw zlibProblem(failure);
  } finally {
    stream.close();
  }
};

/**
 * Gunzip by node:zlib's public API, where {@link syncGunzip} cannot reach zlib's handle: input of at
 * most 16 MiB whose content is at most 64 MiB (as its gzip trailer says) is inflated at once, on this
 * thread, into one buffer that is handed on in 64 KiB views; anything else — larger, truncated,
 * corrupt, or a bomb — goes through {@link streamingGunzip}, which reads it or reports it as it
 * always did. The stream waits for each next block on the event loop, which a replay turns only
 * between batches: replaying python-json.rep.gz (2026-12-05, the machine shared), 7 alternated runs
 * each, 676 ms end to end streaming against 554 ms inflated at once.
 */
export const gatheredGunzip: Gunzip = async function* (blocks) {
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
    if (failure !== undefined) throw zlibProblem(failure);
  } finally {
    gunzip.destroy();
  }
};

/** zlib's error as a {@link GzipProblem}: truncated (input ended inside the stream) or corrupt. */
function zlibProblem(failure: { message: string; code?: string }): GzipProblem {
  const truncated = failure.code === "Z_BUF_ERROR" || /unexpected end/i.test(failure.message);
  return new GzipProblem(truncated, failure.message);
}

/** File access and gunzip through node:fs and node:zlib. */
export const nodeFiles: TraceFiles = { open: openFile, gunzip: syncGunzip };

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
