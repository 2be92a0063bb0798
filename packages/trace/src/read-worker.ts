/**
 * The worker side of {@link WorkerTraceReader}: reads a trace file (gunzip, split, parse) and posts
 * each batch's columns to the thread that replays, a few batches ahead of it.
 *
 * @module
 */
import { parentPort, workerData } from "node:worker_threads";
import { TraceFormatError } from "@heapkit/contract";
import type { EventBatch } from "./batch.js";
import { readTraceWithFiles } from "./node-files.js";
import type { ReadTraceOptions } from "./reader.js";

/** What the replaying thread sends: the file and the read options. */
export interface ReadJob {
  readonly path: string;
  readonly options: ReadTraceOptions;
  /** Batches posted and not yet taken that the worker may run ahead by. */
  readonly ahead: number;
}

/** What the worker posts. */
export type ReadMessage =
  | { kind: "batch"; batch: EventBatch; bytesRead: number; summary: unknown }
  | { kind: "end"; bytesRead: number; summary: unknown }
  | { kind: "format-error"; file: string; line: number; expected: string }
  | { kind: "error"; message: string };

async function run(port: NonNullable<typeof parentPort>, job: ReadJob): Promise<void> {
  let credit = job.ahead;
  let wake: (() => void) | undefined;
  port.on("message", () => {
    credit++;
    wake?.();
  });
  const reader = readTraceWithFiles(job.path, job.options);
  try {
    for await (const batch of reader.batches()) {
      if (credit === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      credit--;
      const columns = [batch.op, batch.id, batch.slot, batch.size, batch.line, batch.time];
      const message: ReadMessage = {
        kind: "batch",
        batch,
        bytesRead: reader.bytesRead,
        summary: reader.summary,
      };
      port.postMessage(
        message,
        columns.map((column) => column.buffer as ArrayBuffer),
      );
    }
    port.postMessage({
      kind: "end",
      bytesRead: reader.bytesRead,
      summary: reader.summary,
    } satisfies ReadMessage);
  } catch (error) {
    const message: ReadMessage =
      error instanceof TraceFormatError
        ? { kind: "format-error", file: error.file, line: error.line, expected: error.expected }
        : { kind: "error", message: error instanceof Error ? error.message : String(error) };
    port.postMessage(message);
  }
  port.close();
}

if (parentPort !== null) void run(parentPort, workerData as ReadJob);
