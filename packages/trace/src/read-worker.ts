/**
 * The worker side of `WorkerTraceReader`: waits for its job, reads the trace file (gunzip, split,
 * parse) and copies each batch into the shared ring, at most `RING_BATCHES` ahead of the replay.
 *
 * @module
 */
import { parentPort } from "node:worker_threads";
import { TraceFormatError } from "@heapkit/contract";
import type { EventBatch } from "./batch.js";
import { streamingNodeFiles } from "./node-files.js";
import { TraceReader } from "./reader.js";
import {
  BATCH_META,
  C_PUBLISHED,
  C_STATE,
  C_TAKEN,
  type ReadJob,
  type ReadMessage,
  RING_BATCHES,
  ringBatch,
  S_CANCELLED,
  S_DONE,
  writeFirstMeta,
} from "./ring.js";

function run(port: NonNullable<typeof parentPort>, job: ReadJob): void {
  const control = new Int32Array(job.control);
  const meta = new Float64Array(job.meta);
  const capacity = job.options.batchSize as number;
  const ring = Array.from({ length: RING_BATCHES }, (_, k) => ringBatch(job.ring, capacity, k));
  let reader: TraceReader | undefined;
  const done = (message: ReadMessage) => {
    port.postMessage(message);
    Atomics.store(control, C_STATE, S_DONE);
    Atomics.notify(control, C_PUBLISHED);
  };
  const read = async () => {
    reader = new TraceReader(job.path, job.options, streamingNodeFiles);
    let n = 0;
    for await (const batch of reader.batches({ recycle: true })) {
      // wait for the place of batch n in the ring
      for (let taken = Atomics.load(control, C_TAKEN); n - taken >= RING_BATCHES; ) {
        if (Atomics.load(control, C_STATE) === S_CANCELLED) return false;
        Atomics.wait(control, C_TAKEN, taken, 100);
        taken = Atomics.load(control, C_TAKEN);
      }
      if (Atomics.load(control, C_STATE) === S_CANCELLED) return false;
      const k = n % RING_BATCHES;
      copyBatch(batch, ring[k]);
      const m = k * BATCH_META;
      meta[m] = batch.length;
      meta[m + 1] = reader.bytesRead;
      if (n === 0) writeFirstMeta(meta, m, reader.summary);
      n++;
      Atomics.store(control, C_PUBLISHED, n);
      Atomics.notify(control, C_PUBLISHED);
    }
    return true;
  };
  read().then(
    (whole) => {
      if (whole && reader !== undefined) {
        done({ kind: "end", bytesRead: reader.bytesRead, summary: reader.summary });
      }
    },
    (error: unknown) => {
      done(
        error instanceof TraceFormatError
          ? { kind: "format-error", file: error.file, line: error.line, expected: error.expected }
          : { kind: "error", message: error instanceof Error ? error.message : String(error) },
      );
    },
  );
}

function copyBatch(from: EventBatch, to: EventBatch): void {
  const n = from.length;
  to.op.set(from.op.subarray(0, n));
  to.slot.set(from.slot.subarray(0, n));
  to.id.set(from.id.subarray(0, n));
  to.size.set(from.size.subarray(0, n));
  to.line.set(from.line.subarray(0, n));
  to.time.set(from.time.subarray(0, n));
  to.length = n;
}

const port = parentPort;
if (port !== null) port.once("message", (job: ReadJob) => run(port, job));
