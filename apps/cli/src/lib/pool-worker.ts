/**
 * The worker thread of the job pool (`heapkit compare`): runs replay jobs it is sent, one at a time, and posts back
 * each result (or the error's message) with progress messages in between.
 *
 * @module
 */
import { parentPort } from "node:worker_threads";
import { type ReplayJob, runJob } from "./jobs.js";

/** A message from a worker. */
export type WorkerMessage =
  | { kind: "progress"; fraction: number }
  | { kind: "done"; result: Awaited<ReturnType<typeof runJob>> }
  | { kind: "failed"; message: string };

const port = parentPort;
if (port !== null) {
  port.on("message", async (job: ReplayJob) => {
    let last = 0;
    try {
      const result = await runJob(job, (fraction) => {
        const now = performance.now();
        if (now - last > 100) {
          last = now;
          port.postMessage({ kind: "progress", fraction } satisfies WorkerMessage);
        }
      });
      port.postMessage({ kind: "done", result } satisfies WorkerMessage);
    } catch (error) {
      port.postMessage({
        kind: "failed",
        message: error instanceof Error ? error.message : String(error),
      } satisfies WorkerMessage);
    }
  });
}
