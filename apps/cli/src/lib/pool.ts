/**
 * Runs independent replay jobs on worker threads, one per core (at most `jobs`), in the order given.
 * Under the tests the CLI runs from TypeScript source, which a worker thread cannot load: there, and
 * when asked for one job at a time, the jobs run in this thread instead.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { type JobResult, type ReplayJob, runJob } from "./jobs.js";
import type { WorkerMessage } from "./pool-worker.js";

/** The worker's file next to this module, or undefined when it cannot run in a worker (TypeScript source). */
export function workerFile(): string | undefined {
  if (!import.meta.url.endsWith(".js")) return undefined;
  const file = fileURLToPath(new URL("./pool-worker.js", import.meta.url));
  return existsSync(file) ? file : undefined;
}

/** How the jobs ran. */
export interface PoolRun {
  /** Results in the order of the jobs. */
  results: JobResult[];
  /** Worker threads used (0: in this thread). */
  threads: number;
}

/**
 * Runs the jobs with up to `threads` workers (default: the cores), calling `onProgress(index, fraction)`.
 * The first failure rejects, naming the job.
 */
export async function runPool(
  jobs: readonly ReplayJob[],
  onProgress: (index: number, fraction: number) => void,
  threads = availableParallelism(),
): Promise<PoolRun> {
  const file = workerFile();
  const count = Math.min(threads, jobs.length);
  if (file === undefined || count <= 1) {
    const results: JobResult[] = [];
    for (const [index, job] of jobs.entries()) {
      results.push(
        await runJob(job, (fraction) => onProgress(index, fraction)).catch((error) => failed(job, error)),
      );
    }
    return { results, threads: 0 };
  }
  const results = new Array<JobResult>(jobs.length);
  let next = 0;
  const workers: Worker[] = [];
  try {
    await Promise.all(
      Array.from({ length: count }, () => {
        const worker = new Worker(file);
        workers.push(worker);
        return new Promise<void>((resolve, reject) => {
          let current = -1;
          const take = () => {
            if (next >= jobs.length) {
              resolve();
              return;
            }
            current = next++;
            worker.postMessage(jobs[current]);
          };
          worker.on("message", (message: WorkerMessage) => {
            if (message.kind === "progress") onProgress(current, message.fraction);
            else if (message.kind === "done") {
              results[current] = message.result;
              onProgress(current, 1);
              take();
            } else reject(failed(jobs[current], new Error(message.message)));
          });
          worker.on("error", (error) => reject(failed(jobs[current], error)));
          take();
        });
      }),
    );
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  return { results, threads: count };
}

function failed(job: ReplayJob, error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  throw new Error(`${job.strategy} on ${job.trace}: ${message}`);
}
