/**
 * Reading a trace file in a worker thread, so that reading, gunzip and parsing run on a second core
 * beside the replay instead of between its batches.
 *
 * The worker copies each batch it parses into a ring of batches in shared memory and publishes it
 * with an atomic counter; the replaying thread takes the next one straight from the ring, waiting
 * with `Atomics.wait` if it is not there yet. No message crosses the threads per batch, and the
 * replay never waits for a turn of its event loop to see a batch the worker has long finished (the
 * first attempt posted every batch as a message: 4 alternated runs, 513–535 ms end to end against
 * 412–490 on one thread). The worker runs at most {@link RING_BATCHES} batches ahead, so memory stays
 * flat, and the ring's pages are touched once, by the worker, on its own core.
 *
 * The worker can be started before its job is known ({@link startReadWorker}): the CLI starts it as
 * it loads, so that the thread's own start-up (an empty worker's first message came 72–77 ms after
 * `new Worker` on the 2-core VM measured) overlaps loading the CLI's modules.
 *
 * @module
 */
import { TraceFormatError } from "@heapkit/contract";
import type { EventBatch } from "./batch.js";
import { emptySummary, type TraceFormat, type TraceSummary } from "./parsers.js";
import { ReadWorker } from "./read-thread.js";
import type { BatchSource, ReadTraceOptions } from "./reader.js";
import {
  BATCH_META,
  C_PUBLISHED,
  C_STATE,
  C_TAKEN,
  RING_BATCHES,
  readFirstMeta,
  ringBatch,
  S_CANCELLED,
  S_RUNNING,
} from "./ring.js";

/** Milliseconds the replaying thread blocks at a time waiting for a batch before it lets its event loop turn. */
const WAIT_SLICE_MS = 20;

/** A trace file read by a worker thread; the same events, summary and errors as `readTrace(path)`. */
export class WorkerTraceReader implements BatchSource {
  /** What reading found: the format and header with the first batch, the rest complete at the end. */
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
    /** A thread started ahead (else one is started when reading starts). */
    private readonly thread?: ReadWorker,
  ) {}

  /** The format, once known. */
  get format(): TraceFormat | undefined {
    return this.summary.format;
  }

  /**
   * The events in batches. A batch is a view of the shared ring: valid until the next one is asked
   * for (the worker then fills its place again).
   */
  async *batches(): AsyncGenerator<EventBatch, void, undefined> {
    if (this.started) throw new Error(`the trace ${this.name} is being read already: make a new reader`);
    this.started = true;
    const { format, lenient, batchSize, maxLineBytes } = this.options;
    const request = { path: this.name, options: { format, lenient, batchSize, maxLineBytes } };
    let thread = this.thread;
    if (thread !== undefined && !thread.accepts(request)) {
      thread.stop();
      thread = undefined;
    }
    thread ??= new ReadWorker();
    const job = thread.begin(request);
    thread.ref();
    const capacity = job.options.batchSize;
    const control = new Int32Array(job.control);
    const meta = new Float64Array(job.meta);
    const ring = Array.from({ length: RING_BATCHES }, (_, k) => ringBatch(job.ring, capacity, k));
    try {
      for (let n = 0; ; n++) {
        // wait until the worker has published batch n, or has stopped
        let published = Atomics.load(control, C_PUBLISHED);
        while (published <= n) {
          if (Atomics.load(control, C_STATE) !== S_RUNNING) {
            published = Atomics.load(control, C_PUBLISHED);
            if (published > n) break;
            await this.finish(thread);
            return;
          }
          if (Atomics.wait(control, C_PUBLISHED, published, WAIT_SLICE_MS) === "timed-out") {
            // the thread may have failed to start: let its error event in
            await new Promise<void>((resolve) => setImmediate(resolve));
            const problem = thread.problem(this.name);
            if (problem !== undefined) throw problem;
          }
          published = Atomics.load(control, C_PUBLISHED);
        }
        const k = n % RING_BATCHES;
        const batch = ring[k];
        const m = k * BATCH_META;
        batch.length = meta[m];
        this.bytesRead = meta[m + 1];
        // the format and .rep header, which the replay needs with the first batch (to size its tables)
        if (n === 0) readFirstMeta(meta, m, this.summary);
        yield batch;
        Atomics.store(control, C_TAKEN, n + 1);
        Atomics.notify(control, C_TAKEN);
      }
    } finally {
      Atomics.store(control, C_STATE, S_CANCELLED);
      Atomics.notify(control, C_TAKEN);
      thread.stop();
    }
  }

  /** The worker's last word: the summary at the end, or the error it stopped at. */
  private async finish(thread: ReadWorker): Promise<void> {
    const message = await thread.nextMessage(this.name);
    if (message.kind === "end") {
      Object.assign(this.summary, message.summary);
      this.bytesRead = message.bytesRead;
    } else if (message.kind === "format-error") {
      throw new TraceFormatError(message.file, message.line, message.expected);
    } else {
      throw new Error(message.message);
    }
  }
}
