/**
 * Reading a trace ahead of its replay: the reader thread of `WorkerTraceReader`, and a file prefetched
 * (read and inflated) on libuv's thread pool. Apart from the reader so that a program can start either
 * as early as it likes while loading little: this module imports only node's modules and the ring's
 * layout.
 *
 * @module
 */
import { readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import type { Worker } from "node:worker_threads";
import { gunzip } from "node:zlib";
import { inflateAtOnceOptions } from "./gzip-at-once.js";
import {
  BATCH_META,
  CONTROL_WORDS,
  type ReadJob,
  type ReadMessage,
  RING_BATCHES,
  type RingOptions,
  ringBytes,
} from "./ring.js";

/** The compiled worker script beside this module (absent when running from the TypeScript sources). */
const workerScript = import.meta.url.endsWith(".js")
  ? new URL("./read-worker.js", import.meta.url)
  : undefined;

/** Whether this build can read in a worker thread. */
export const canReadInWorker = workerScript !== undefined;

/**
 * node:worker_threads, loaded when a first thread starts rather than with this module, which every
 * replay through the Node entry loads: loading it took ~3.5 ms of each `heapkit replay` (node 20).
 */
function workerThreads(): typeof import("node:worker_threads") {
  return createRequire(import.meta.url)("node:worker_threads");
}

/**
 * Events per batch of a reader thread, unless `batchSize` says otherwise: a quarter of the reader's
 * default, so that the first batch is ready sooner (the thread parses it while still cold: 16 384
 * events took it 20–30 ms) while batches stay few enough that handing them over is a small cost.
 */
const DEFAULT_BATCH = 4096;

/** A trace and the options it is read with, as a reader thread's job names them. */
export interface ReadRequest {
  /** The file. */
  readonly path: string;
  /** What `ReadTraceOptions` are read with. */
  readonly options?: RingOptions;
}

function normalized(options: RingOptions = {}): ReadJob["options"] {
  return {
    format: options.format,
    lenient: options.lenient === true,
    batchSize: options.batchSize ?? DEFAULT_BATCH,
    maxLineBytes: options.maxLineBytes,
  };
}

/**
 * A reader thread: hand it to `replay` as `readInWorker` (it reads one trace, then stops). Started
 * with a request, it begins reading at once and fills its ring while the program gets ready; without
 * one it waits for its job. Unreferenced until a replay takes it, so one left unused does not keep
 * the process alive; {@link ReadWorker.stop} ends it.
 */
export class ReadWorker {
  private readonly worker: Worker;
  private readonly messages: ReadMessage[] = [];
  private failure: Error | undefined;
  private exited = false;
  private wake: (() => void) | undefined;
  /** The job sent, once sent. */
  job: ReadJob | undefined;
  /** `performance.now()` when the thread was started: a replay's end-to-end clock starts here (see `readStartedAt`). */
  readonly startedAt = performance.now();

  constructor(request?: ReadRequest) {
    if (workerScript === undefined) throw new Error("reading in a worker needs the compiled package");
    // none of the process's flags: the reader thread needs none, and some break it (`--input-type`, or
    // export conditions that point packages at TypeScript sources, as a test runner's do)
    this.worker = new (workerThreads().Worker)(workerScript, { execArgv: [] });
    this.worker.unref();
    this.worker.on("message", (message: ReadMessage) => {
      this.messages.push(message);
      this.wake?.();
    });
    this.worker.on("error", (error) => {
      this.failure = error;
      this.wake?.();
    });
    this.worker.on("exit", () => {
      this.exited = true;
      this.wake?.();
    });
    if (request !== undefined) this.begin(request);
  }

  /** Whether this thread reads `request` (or may still be given it). */
  accepts(request: ReadRequest): boolean {
    const job = this.job;
    if (job === undefined) return true;
    const wanted = normalized(request.options);
    const options = job.options;
    return (
      job.path === request.path &&
      options.format === wanted.format &&
      options.lenient === wanted.lenient &&
      options.batchSize === wanted.batchSize &&
      options.maxLineBytes === wanted.maxLineBytes
    );
  }

  /** The job reading `request`: the one already sent if it {@link ReadWorker.accepts} it, else a new one sent now. */
  begin(request: ReadRequest): ReadJob {
    if (this.job !== undefined) {
      if (!this.accepts(request))
        throw new Error(`this reader thread reads ${this.job.path}, not ${request.path}`);
      return this.job;
    }
    const options = normalized(request.options);
    const job: ReadJob = {
      path: request.path,
      options,
      ring: new SharedArrayBuffer(ringBytes(options.batchSize)),
      control: new SharedArrayBuffer(CONTROL_WORDS * 4),
      meta: new SharedArrayBuffer(RING_BATCHES * BATCH_META * 8),
    };
    this.job = job;
    this.worker.postMessage(job);
    return job;
  }

  /** Keeps the process alive while the thread reads for a replay. */
  ref(): void {
    this.worker.ref();
  }

  /** The thread's error or unexpected end, if any. */
  problem(name: string): Error | undefined {
    if (this.failure !== undefined) return this.failure;
    if (this.exited) return new Error(`cannot read the trace ${name}: its reader thread stopped`);
    return undefined;
  }

  /** The next message the thread posts (its end or its error), waiting on the event loop for it. */
  async nextMessage(name: string): Promise<ReadMessage> {
    for (;;) {
      const message = this.messages.shift();
      if (message !== undefined) return message;
      const problem = this.problem(name);
      if (problem !== undefined) throw problem;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }

  /** Ends the thread (it may be waiting for its job, reading, or done). */
  stop(): void {
    this.worker.terminate().catch(() => {});
  }
}

/**
 * Starts a reader thread (see {@link ReadWorker}): with a request, reading that trace at once, ahead of
 * the replay that will take it.
 */
export function startReadWorker(request?: ReadRequest): ReadWorker {
  return new ReadWorker(request);
}

/** Files up to this size are prefetched; larger ones are read streaming, in bounded memory. */
const MAX_PREFETCH_FILE = 64 << 20;

/**
 * A trace file read, and inflated if it is gzip, on libuv's thread pool while the program does other
 * things (see {@link prefetchTrace}).
 */
export interface PrefetchedTrace {
  /** The file. */
  readonly path: string;
  /** `performance.now()` when the prefetch began: a replay's end-to-end clock starts here (see `readStartedAt`). */
  readonly startedAt: number;
  /**
   * Its text, or its bytes as they are on disk where inflating it at once failed or was not tried;
   * undefined where the file is to be read as usual (it is larger than 64 MiB, or could not be read:
   * reading it reports why).
   */
  readonly bytes: Promise<Uint8Array | undefined>;
}

/**
 * Starts reading a trace file in the background: the file is read now (synchronously: one copy from
 * the page cache), then a gzip file of at most 16 MiB whose content is at most 64 MiB is inflated by
 * one `zlib.gunzip` into an output buffer of the trailer's size, on libuv's thread pool (no thread of
 * its own to start, no event loop turn per chunk). The replay's
 * thread meanwhile loads code and makes its heap; `replay(path, heap, { prefetched })` then parses
 * the text without waiting for gunzip. Input that does not inflate at once is handed on as it is on
 * disk, and the reader inflates it and reports it as it would reading the file.
 */
export function prefetchTrace(path: string): PrefetchedTrace {
  const startedAt = performance.now();
  let raw: Uint8Array;
  try {
    if (statSync(path).size > MAX_PREFETCH_FILE)
      return { path, startedAt, bytes: Promise.resolve(undefined) };
    // one synchronous read from the page cache (in a fresh process, load ~3: 10–15 ms for python-json's
    // 3.0 MB, 15–21 ms for python-json-10k's 4.5 MB); fs.promises.readFile reads in pieces, each
    // waiting for a turn of an event loop busy loading code (25–70 ms for the 3 MB, see the README)
    raw = readFileSync(path);
  } catch {
    return { path, startedAt, bytes: Promise.resolve(undefined) };
  }
  return { path, startedAt, bytes: inflatedInBackground(raw) };
}

/** The text of `raw` if it is gzip that inflates at once within the limits, else `raw` itself. */
function inflatedInBackground(raw: Uint8Array): Promise<Uint8Array> {
  const options = inflateAtOnceOptions(raw);
  if (options === undefined) return Promise.resolve(raw);
  return new Promise<Uint8Array>((resolve) => {
    gunzip(raw, options, (error, text) => resolve(error === null ? text : raw));
  });
}
