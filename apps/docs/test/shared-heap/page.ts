/**
 * The page of the browser test: makes a shared heap over a growable SharedArrayBuffer, starts two
 * Web Workers on it, swaps the blocks each still holds so that each frees the other's, then checks
 * the heap and reports on `window.sharedHeapResult` and in the page's text.
 */
import { createSharedHeap } from "@heapkit/heap";
import { tlsf } from "@heapkit/strategies";
import type { FreeRequest, RunRequest, WorkerMessage } from "./messages.js";

/** What the page reports when it is done. */
export interface SharedHeapResult {
  crossOriginIsolated: boolean;
  ok: boolean;
  error: string | null;
  ops: number;
  handedOver: number;
  liveBlocks: number;
  heapSize: number;
  initialHeapSize: number;
  attachedWorkers: number;
  /** From making the heap to the last check. */
  elapsedMs: number;
}

declare global {
  interface Window {
    sharedHeapResult?: SharedHeapResult;
  }
}

const params = new URLSearchParams(location.search);
const ops = Number(params.get("ops") ?? 20_000);
const seed = Number(params.get("seed") ?? 1);

async function main(): Promise<SharedHeapResult> {
  const started = performance.now();
  const heap = createSharedHeap({ strategy: tlsf(), size: 64 << 10, maxSize: 32 << 20 });
  const initialHeapSize = heap.stats().heapSize;
  const workers = [0, 1].map(() => new Worker("./worker.js", { type: "module" }));
  const next = (worker: Worker): Promise<WorkerMessage> =>
    new Promise((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
        const message = event.data;
        if (message.type === "failure") reject(new Error(`worker ${message.index}: ${message.message}`));
        else resolve(message);
      };
      worker.onerror = (event) => reject(new Error(`a worker failed to load or threw: ${event.message}`));
    });
  const held = workers.map(next);
  workers.forEach((worker, index) => {
    const request: RunRequest = {
      type: "run",
      memory: heap.memory.buffer as SharedArrayBuffer,
      index,
      ops,
      seed,
    };
    worker.postMessage(request);
  });
  const blocks = (await Promise.all(held)).map((message) => {
    if (message.type !== "held") throw new Error(`expected held blocks, got ${message.type}`);
    return message.blocks;
  });
  const liveWhileHeld = heap.stats().liveBlocks;
  const handedOver = (blocks[0].length + blocks[1].length) / 3;
  if (liveWhileHeld !== handedOver) {
    throw new Error(`${liveWhileHeld} live blocks, but the workers hold ${handedOver}`);
  }
  heap.check();
  const done = workers.map(next);
  workers.forEach((worker, index) => {
    const request: FreeRequest = { type: "free", blocks: blocks[1 - index] };
    worker.postMessage(request);
  });
  await Promise.all(done);
  heap.check();
  const stats = heap.stats();
  for (const worker of workers) worker.terminate();
  return {
    crossOriginIsolated,
    ok: stats.liveBlocks === 0,
    error: null,
    ops: ops * 2,
    handedOver,
    liveBlocks: stats.liveBlocks,
    heapSize: stats.heapSize,
    initialHeapSize,
    attachedWorkers: stats.attachedWorkers,
    elapsedMs: performance.now() - started,
  };
}

main()
  .catch(
    (error: unknown): SharedHeapResult => ({
      crossOriginIsolated,
      ok: false,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      ops: 0,
      handedOver: 0,
      liveBlocks: -1,
      heapSize: 0,
      initialHeapSize: 0,
      attachedWorkers: 0,
      elapsedMs: 0,
    }),
  )
  .then((result) => {
    window.sharedHeapResult = result;
    document.body.textContent = result.ok ? "check() ok" : `failed: ${result.error}`;
  });
