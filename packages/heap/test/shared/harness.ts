/**
 * The test-thread side of the shared-heap tests: the worker bundle, workers that fail a test
 * instead of hanging it, and an RPC client for the `rpc` scenario of worker.ts.
 *
 * Why a bundle: vitest runs TypeScript from source through the "@heapkit/source" condition, but a
 * worker_threads Worker is plain node, and node 20 runs no TypeScript. esbuild bundles worker.ts
 * with that condition into one ES module in a temporary directory, once per test file: no build
 * of the packages first, no loader hooks in worker threads (whose behaviour differs between node
 * versions), and each worker starts by loading one plain file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { build } from "esbuild";
import type { ErrorReport, RpcCommand, RpcData, RpcReply } from "./worker.js";

/** A worker's stack traces name the TypeScript sources' lines (through the bundle's inline source map). */
const SOURCE_MAPS = ["--enable-source-maps"];

/** The bundled worker script and the directory that holds it. */
export interface WorkerBundle {
  readonly file: string;
  dispose(): void;
}

/** Bundles worker.ts from the TypeScript sources (see the module comment). */
export async function bundleWorker(): Promise<WorkerBundle> {
  const dir = mkdtempSync(join(tmpdir(), "heapkit-shared-"));
  const file = join(dir, "worker.mjs");
  await build({
    entryPoints: [fileURLToPath(new URL("./worker.ts", import.meta.url))],
    outfile: file,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    conditions: ["@heapkit/source"],
    sourcemap: "inline",
    logLevel: "silent",
  });
  return { file, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A worker's message that says it failed. */
interface FailureMessage {
  type: "failure";
  error: ErrorReport;
}

function isFailure(message: unknown): message is FailureMessage {
  return typeof message === "object" && message !== null && (message as FailureMessage).type === "failure";
}

/**
 * Runs workers to their end: resolves with every message they posted once each has exited, and
 * rejects — terminating them all — as soon as one fails or exits early, or when `timeoutMs` passes
 * (a hang fails the test; `describeHang` says where each worker was).
 */
export function runWorkers(
  bundle: WorkerBundle,
  datas: object[],
  options: {
    timeoutMs: number;
    onMessage?: (message: unknown, index: number) => void;
    describeHang?: () => string;
  },
): Promise<unknown[][]> {
  const workers = datas.map((workerData) => new Worker(bundle.file, { workerData, execArgv: SOURCE_MAPS }));
  const messages: unknown[][] = datas.map(() => []);
  return new Promise((resolve, reject) => {
    let exited = 0;
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      Promise.all(workers.map((worker) => worker.terminate())).finally(() => reject(error));
    };
    const timer = setTimeout(() => {
      const where = options.describeHang?.() ?? "";
      fail(
        new Error(`workers still running after ${options.timeoutMs} ms (a hang)${where ? `: ${where}` : ""}`),
      );
    }, options.timeoutMs);
    workers.forEach((worker, index) => {
      worker.on("message", (message: unknown) => {
        if (isFailure(message)) {
          fail(new Error(`worker ${index}: ${message.error.name}: ${message.error.message}`));
          return;
        }
        messages[index].push(message);
        try {
          options.onMessage?.(message, index);
        } catch (error) {
          fail(error as Error);
        }
      });
      worker.on("error", (error) => fail(new Error(`worker ${index} threw: ${error.message}`)));
      worker.on("exit", (code) => {
        if (code !== 0) {
          fail(new Error(`worker ${index} exited with code ${code}`));
          return;
        }
        exited++;
        if (exited === workers.length && !settled) {
          settled = true;
          clearTimeout(timer);
          resolve(messages);
        }
      });
    });
  });
}

/** The result of an RPC call: the value, or the error the worker caught. */
export type RpcResult = { ok: true; value: unknown } | { ok: false; error: ErrorReport };

/**
 * A worker that runs heap calls on request (the `rpc` scenario). Every call has a deadline, so a
 * worker stuck in the heap fails the test instead of hanging it.
 */
export class RpcWorker {
  readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, (reply: RpcReply) => void>();
  private readonly ready: Promise<void>;

  constructor(bundle: WorkerBundle, data: Omit<RpcData, "scenario">) {
    this.worker = new Worker(bundle.file, {
      workerData: { ...data, scenario: "rpc" },
      execArgv: SOURCE_MAPS,
    });
    this.ready = new Promise((resolve, reject) => {
      this.worker.once("error", reject);
      this.pending.set(0, () => resolve());
    });
    this.worker.on("message", (reply: RpcReply) => {
      const settle = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      settle?.(reply);
    });
  }

  get threadId(): number {
    return this.worker.threadId;
  }

  /** Sends one request; resolves with the worker's answer, rejects after `timeoutMs`. */
  async send(request: RpcCommand, timeoutMs = 20_000): Promise<RpcResult> {
    await this.ready;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`rpc ${JSON.stringify(request)}: no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply.ok ? { ok: true, value: reply.value } : { ok: false, error: reply.error });
      });
      this.worker.postMessage({ ...request, id });
    });
  }

  /** Posts a request whose answer is never awaited (a call meant to block). */
  post(request: RpcCommand): void {
    this.worker.postMessage({ ...request, id: this.nextId++ });
  }

  /** Calls a heap method in the worker; rejects if it throws there. */
  async call(method: string, ...args: unknown[]): Promise<unknown> {
    const result = await this.send({ op: "call", method, args });
    if (!result.ok) throw new Error(`${method}(${args.join(", ")}) in worker: ${result.error.message}`);
    return result.value;
  }

  /** Calls a heap method in the worker that must throw; resolves with the error it threw. */
  async callFailing(method: string, ...args: unknown[]): Promise<ErrorReport> {
    const result = await this.send({ op: "call", method, args });
    if (result.ok)
      throw new Error(`${method}(${args.join(", ")}) in worker returned ${String(result.value)}`);
    return result.error;
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}
