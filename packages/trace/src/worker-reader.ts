/**
 * Reading a trace file in a worker thread, so that gunzip and parsing can run on a second core beside
 * the replay instead of between its batches. Batches cross threads by transfer (their columns are
 * moved, not copied), and the worker runs at most a few batches ahead, so memory stays flat.
 *
 * @module
 */
import { Worker } from "node:worker_threads";
import { TraceFormatError } from "@heapkit/contract";
import type { EventBatch } from "./batch.js";
import { emptySummary, type TraceFormat, type TraceSummary } from "./parsers.js";
import type { ReadJob, ReadMessage } from "./read-worker.js";
import type { BatchSource, ReadTraceOptions } from "./reader.js";

/** Batches the worker may have read ahead of the replay. */
const BATCHES_AHEAD = 4;

/** The compiled worker script beside this module (absent when running from the TypeScript sources). */
const workerScript = import.meta.url.endsWith(".js")
  ? new URL("./read-worker.js", import.meta.url)
  : undefined;

/** Whether this build can read in a worker thread. */
export const canReadInWorker = workerScript !== undefined;

/** A trace file read by a worker thread; the same events, summary and errors as `readTrace(path)`. */
export class WorkerTraceReader implements BatchSource {
  /** What reading found, as the worker last reported it; complete at the end. */
  readonly summary: TraceSummary = emptySummary();
  /** Bytes of the file read so far. */
  bytesRead = 0;
  private started = false;

  constructor(
    /** The file. */
    readonly name: string,
    /** Its size in bytes. */
    readonly totalBytes: number,
    private readonly options: ReadTraceOptions = {},
  ) {}

  /** The format, once known. */
  get format(): TraceFormat | undefined {
    return this.summary.format;
  }

  /** The events in batches, each a fresh set of columns moved from the worker. */
  async *batches(): AsyncGenerator<EventBatch, void, undefined> {
    if (workerScript === undefined) throw new Error("reading in a worker needs the compiled package");
    if (this.started) throw new Error(`the trace ${this.name} is being read already: make a new reader`);
    this.started = true;
    const { format, lenient, batchSize, maxLineBytes } = this.options;
    const job: ReadJob = {
      path: this.name,
      options: { format, lenient, batchSize, maxLineBytes },
      ahead: BATCHES_AHEAD,
    };
    // none of the process's flags: the reader thread needs none, and some break it (`--input-type`, or
    // export conditions that point packages at TypeScript sources, as a test runner's do)
    const worker = new Worker(workerScript, { workerData: job, execArgv: [] });
    const queue: ReadMessage[] = [];
    let failure: Error | undefined;
    let exited = false;
    let wake: (() => void) | undefined;
    worker.on("message", (message: ReadMessage) => {
      queue.push(message);
      wake?.();
    });
    worker.on("error", (error) => {
      failure = error;
      wake?.();
    });
    worker.on("exit", () => {
      exited = true;
      wake?.();
    });
    try {
      for (let next = 0; ; next++) {
        while (next >= queue.length) {
          if (failure !== undefined) throw failure;
          if (exited) throw new Error(`cannot read the trace ${this.name}: its reader thread stopped`);
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
        const message = queue[next];
        queue[next] = undefined as unknown as ReadMessage;
        if (message.kind === "batch" || message.kind === "end") {
          Object.assign(this.summary, message.summary);
          this.bytesRead = message.bytesRead;
          if (message.kind === "end") return;
          yield message.batch;
          worker.postMessage(1);
        } else if (message.kind === "format-error") {
          throw new TraceFormatError(message.file, message.line, message.expected);
        } else {
          throw new Error(message.message);
        }
      }
    } finally {
      await worker.terminate();
    }
  }
}
