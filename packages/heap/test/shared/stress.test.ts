/**
 * Four worker_threads (more than this machine's two cores, on purpose) on one shared heap, for
 * every strategy of the registry (and tlsf over a shared WebAssembly.Memory): random malloc/calloc/memalign/realloc/free, every payload
 * patterned and verified before it is freed, a quarter of the frees handed to another worker
 * through a ring in a SharedArrayBuffer. At quiescent points every worker stops at a barrier and
 * reports what it holds; the test thread then checks the heap, that the live blocks are exactly
 * the ones the workers hold (nothing lost, nothing extra), and that no two of them overlap.
 *
 * Ops per strategy: HEAPKIT_STRESS_OPS if set, else 1 M over all strategies with
 * HEAPKIT_STRESS=full, else a default sized for the README's test command. HEAPKIT_SEED repeats a
 * run (every failure names its seed).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSharedHeap } from "../../src/index.js";
import { bundleWorker, runWorkers, type WorkerBundle } from "./harness.js";
import { Barrier, Gate, HandoffRing } from "./protocol.js";
import { strategyByName, strategyNames } from "./registry.js";
import type { HeldReport, StressData, StressSummary } from "./worker.js";

const WORKERS = 4;
const PHASES = 4;
const FULL_TOTAL_OPS = 1_000_000;
const DEFAULT_OPS_PER_STRATEGY = 100_000;
const RING_CAPACITY = 4096;
const TIMEOUT_MS = 45_000;

const opsPerStrategy =
  Number(process.env.HEAPKIT_STRESS_OPS) ||
  (process.env.HEAPKIT_STRESS === "full"
    ? Math.ceil(FULL_TOTAL_OPS / strategyNames.length)
    : DEFAULT_OPS_PER_STRATEGY);
const seed = Number(process.env.HEAPKIT_SEED) || (Math.random() * 2 ** 31) >>> 0;

/** Checks what the workers hold against the heap, from the test thread, while they wait. */
function checkQuiescent(
  heap: ReturnType<typeof createSharedHeap>,
  reports: HeldReport[],
  where: string,
): void {
  heap.check();
  const held = new Map<number, number>();
  for (const report of reports) {
    for (let i = 0; i < report.ptrs.length; i++) {
      if (held.has(report.ptrs[i])) throw new Error(`${where}: ${report.ptrs[i]} is held by two workers`);
      held.set(report.ptrs[i], report.sizes[i]);
    }
  }
  const stats = heap.stats();
  expect(stats.liveBlocks, `${where}: live blocks against blocks the workers hold`).toBe(held.size);
  let end = 0;
  const used = new Set<number>();
  for (const block of heap.blocks()) {
    if (block.offset < end) throw new Error(`${where}: block at ${block.offset} overlaps the one before`);
    end = block.offset + block.size;
    if (block.state !== "used") continue;
    const size = held.get(block.ptr);
    if (size === undefined) throw new Error(`${where}: used block ${block.ptr} is held by no worker`);
    if (block.payload < size)
      throw new Error(`${where}: block ${block.ptr} has ${block.payload} < ${size} bytes`);
    used.add(block.ptr);
  }
  for (const ptr of held.keys()) {
    if (!used.has(ptr)) throw new Error(`${where}: held block ${ptr} is not a used block of the heap`);
  }
}

let bundle: WorkerBundle;
beforeAll(async () => {
  bundle = await bundleWorker();
}, 60_000);
afterAll(() => bundle?.dispose());

describe(`4 workers on one shared heap (${opsPerStrategy} ops per strategy, seed ${seed})`, () => {
  const cases: [string, string][] = [
    ...strategyNames.map((name): [string, string] => [name, "a growable SharedArrayBuffer"]),
    ["tlsf", "a reserved SharedArrayBuffer (the default)"],
    ["tlsf", "a shared WebAssembly.Memory"],
  ];
  it.each(cases)(
    "%s over %s: nothing lost, nothing overlapping, every payload intact, a quarter of the frees cross workers",
    async (name, kind) => {
      const wasm =
        kind === "a shared WebAssembly.Memory"
          ? new WebAssembly.Memory({ initial: 16, maximum: 2048, shared: true })
          : null;
      const growth = kind === "a growable SharedArrayBuffer" ? "resize" : "reserve";
      const heap =
        wasm === null
          ? createSharedHeap({ strategy: strategyByName(name), size: 1 << 20, maxSize: 128 << 20, growth })
          : createSharedHeap({ strategy: strategyByName(name), memory: wasm, maxSize: 2048 * 65536 });
      const rings = Array.from(
        { length: WORKERS },
        () => new SharedArrayBuffer(HandoffRing.bytesFor(RING_CAPACITY)),
      );
      const barrier = new SharedArrayBuffer(Barrier.bytes);
      const gateBuffer = new SharedArrayBuffer(Gate.bytes);
      const gate = new Gate(gateBuffer);
      const progress = new Int32Array(new SharedArrayBuffer(WORKERS * 2 * 4));
      const datas: StressData[] = Array.from({ length: WORKERS }, (_, index) => ({
        scenario: "stress",
        memory: wasm ?? (heap.memory.buffer as SharedArrayBuffer),
        strategy: name,
        lockTimeout: 10_000,
        index,
        workers: WORKERS,
        seed,
        ops: Math.ceil(opsPerStrategy / WORKERS),
        phases: PHASES,
        maxHeld: 1500,
        rings,
        barrier,
        gate: gateBuffer,
        progress: progress.buffer as SharedArrayBuffer,
        waitMs: TIMEOUT_MS,
      }));
      const byPhase = new Map<number, HeldReport[]>();
      const started = performance.now();
      const messages = await runWorkers(bundle, datas, {
        timeoutMs: TIMEOUT_MS,
        describeHang: () =>
          `seed ${seed}; ops done, phase per worker: ${Array.from({ length: WORKERS }, (_, i) => `${progress[2 * i]}/${progress[2 * i + 1]}`).join(", ")}`,
        onMessage: (message) => {
          const report = message as HeldReport;
          if (report.type !== "held") return;
          const reports = byPhase.get(report.phase) ?? [];
          reports.push(report);
          byPhase.set(report.phase, reports);
          if (reports.length === WORKERS) {
            checkQuiescent(heap, reports, `${name}, seed ${seed}, phase ${report.phase}`);
            gate.open(report.phase);
          }
        },
      });
      const seconds = (performance.now() - started) / 1000;
      expect([...byPhase.keys()]).toEqual(Array.from({ length: PHASES }, (_, i) => i + 1));
      const summaries = messages
        .flat()
        .filter((m) => (m as StressSummary).type === "done") as StressSummary[];
      expect(summaries).toHaveLength(WORKERS);
      const ops = summaries.reduce((sum, s) => sum + s.ops, 0);
      const frees = summaries.reduce((sum, s) => sum + s.frees, 0);
      const handed = summaries.reduce((sum, s) => sum + s.handedOff, 0);
      expect(summaries.reduce((sum, s) => sum + s.received, 0)).toBe(handed);
      expect(ops).toBeGreaterThanOrEqual(opsPerStrategy);
      expect(handed / frees, "share of frees made by another worker than the allocating one").toBeGreaterThan(
        0.2,
      );
      // every worker freed what it held and detached: the heap is empty and whole
      heap.check();
      const stats = heap.stats();
      expect(stats.liveBlocks).toBe(0);
      expect(stats.liveBytes).toBe(0);
      expect(stats.attachedWorkers).toBe(1);
      expect(stats.cachedBlocks, "the detached workers' caches were flushed").toBe(0);
      console.log(
        `${name} over ${kind}: ${ops} ops by ${WORKERS} workers in ${seconds.toFixed(2)} s ` +
          `(${Math.round(ops / seconds / 1000)} k ops/s with payload checks), ` +
          `${((100 * handed) / frees).toFixed(1)} % of frees cross-worker, heap ${stats.heapSize} bytes`,
      );
    },
    TIMEOUT_MS + 15_000,
  );
});
