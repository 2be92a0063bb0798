/**
 * One cell of the multi-worker family, in a child process of its own
 * (`node --expose-gc dist/multi-worker-cell.js SPEC`): one implementation on W split over N
 * `worker_threads` (worker-split.ts), all on one shared heap. It prints one JSON {@link CellResult}.
 *
 * Implementations: a strategy name is heapkit's shared heap with its per-worker front caches
 * (`createSharedHeap`, the default), `strategy/global-lock` the same heap with `cache: false` (every
 * call takes the one heap lock: the naive way), and `shared-memory-objects` the peer of that name,
 * bundled by the bench from its source (shared-memory-objects.ts).
 *
 * The cell's own thread makes the heap and stays attached to it, as an application's main thread
 * would: with one worker, two threads are attached.
 *
 * Protocol: the workers start once and stay for the cell. Each run, the heap is made afresh over
 * the same memory (heapkit: `format: true` over one SharedArrayBuffer, reserved as `createSharedHeap` makes it by default, so its pages are
 * touched once, as in the single-thread cells; shared-memory-objects: its heap of preallocated
 * buffers, emptied by every run), every worker attaches (untimed), then the clock runs from the start
 * signal until the last worker has replayed its share and freed every block handed to it. Two
 * warm-up runs under the time budget find the prefix of each share that fits (all of it for a fast
 * implementation); then `runs` timed runs. Total ops/s = operations of all shares / wall time.
 *
 * @module
 */
import { once } from "node:events";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { createMemory, createSharedHeap, type Heap } from "@heapkit/heap";
import { strategyByName } from "@heapkit/strategies";
import type { CellResult } from "./cell.js";
import {
  type AllocatorKind,
  CONTROL,
  type RanMessage,
  RING_HEAD,
  RING_TAIL,
  RING_WORDS,
  type RunMessage,
  type WorkerSetup,
} from "./multi-worker-protocol.js";
import { GLOBAL_LOCK, SHARED_MEMORY_OBJECTS } from "./stats.js";
import { OP_HAND_OFF, readSplitWorkload, type SplitWorkload } from "./worker-split.js";

/** What the parent asks a multi-worker cell to measure. */
export interface MultiWorkerCellSpec {
  /** A strategy name, `strategy/global-lock`, or `shared-memory-objects`. */
  impl: string;
  /** The workload's name in the results (`Wx2`). */
  workload: string;
  /** The split workload file (worker-split.ts). */
  file: string;
  /** Timed runs after the warm-up. */
  runs: number;
  /** Time budget of one run in ms: a run that would take longer is cut to the prefix of each share that fits. */
  budgetMs: number;
  /** The esbuild bundle of shared-memory-objects (impl `shared-memory-objects`). */
  bundle?: string;
}

/** The most bytes a heapkit cell's shared memory may grow to. */
const MAX_HEAP_BYTES = 1 << 30;
/** shared-memory-objects' buffers: the largest its 20-bit offsets allow, and enough of them for W. */
const SMO_BUFFER_BYTES = 1 << 20;
const SMO_BUFFERS = 512;
/** How long a worker may take to attach, or a run to end after the budget, before the cell gives up. */
const STALL_MS = 120_000;

const threadJs = join(dirname(fileURLToPath(import.meta.url)), "multi-worker-thread.js");

/** The shared heap of one cell: made afresh (or emptied) each run, and its high-water mark. */
interface SharedTarget {
  /** The allocator as the workers open it. */
  kind: AllocatorKind;
  /** A fresh heap for the next run; returns the memory to send to the workers. */
  fresh(): RunMessage["memory"];
  /** Bytes of memory taken at the peak of the last run. */
  highWater(): number;
  /** The most payload bytes live at once in the last run, as the heap counts them, or null if it does not. */
  peakLive(): number | null;
  /** Throws unless the heap is whole and empty after a run (every block freed, every cache flushed). */
  verify(): void;
}

interface SmoBufferInternals {
  stats(): { top: number };
}
interface SmoModule {
  MemoryHeap: new (config: {
    bufferSize: number;
    initialBuffers: number;
  }) => { buffers: SmoBufferInternals[]; getSharedMemory(): { buffers: SharedArrayBuffer[] } };
}

async function openTarget(spec: MultiWorkerCellSpec, workers: number): Promise<SharedTarget> {
  if (spec.impl === SHARED_MEMORY_OBJECTS) {
    if (spec.bundle === undefined) throw new Error("the shared-memory-objects cell needs its bundle");
    const smo = (await import(spec.bundle)) as SmoModule;
    const heap = new smo.MemoryHeap({ bufferSize: SMO_BUFFER_BYTES, initialBuffers: SMO_BUFFERS });
    const initialTops = heap.buffers.map((b) => b.stats().top);
    const buffers = heap.getSharedMemory().buffers;
    return {
      kind: { kind: "shared-memory-objects", bundle: spec.bundle },
      fresh: () => buffers,
      // like @thi.ng/malloc's: each buffer's top only rises, so their sum is the memory ever taken
      highWater: () => heap.buffers.reduce((sum, b, i) => sum + b.stats().top - initialTops[i], 0),
      peakLive: () => null,
      verify() {},
    };
  }
  const globalLock = spec.impl.endsWith(GLOBAL_LOCK);
  const strategy = globalLock ? spec.impl.slice(0, -GLOBAL_LOCK.length) : spec.impl;
  const memory = createMemory({ size: 64 * 1024, maxSize: MAX_HEAP_BYTES, shared: true })
    .buffer as SharedArrayBuffer;
  let heap: Heap | undefined;
  return {
    kind: { kind: "heapkit", strategy },
    fresh() {
      heap = createSharedHeap({
        strategy: strategyByName(strategy),
        memory,
        format: true,
        cache: !globalLock,
        workers: workers + 1,
      });
      return memory;
    },
    highWater: () => heap?.stats().peakHeapSize ?? 0,
    peakLive: () => heap?.stats().peakLiveBytes ?? null,
    verify() {
      heap?.check();
      const live = heap?.stats().liveBlocks;
      if (live !== 0)
        throw new Error(`${spec.impl}: ${live} blocks still live after a run that freed them all`);
    },
  };
}

function waitFor(control: Int32Array, index: number, count: number, what: string): void {
  const until = Date.now() + STALL_MS;
  for (let seen = Atomics.load(control, index); seen < count; seen = Atomics.load(control, index)) {
    if (Date.now() > until)
      throw new Error(`${what}: ${seen} of ${count} workers after ${STALL_MS / 1000} s`);
    Atomics.wait(control, index, seen, 1000);
  }
}

/** The cell's workers, their control block and rings, and the heap they share; one run at a time. */
class WorkerPool {
  private readonly control: Int32Array;
  private readonly rings: Int32Array;
  private readonly workers: Worker[];
  private readonly failures: string[] = [];

  constructor(
    private readonly spec: MultiWorkerCellSpec,
    private readonly target: SharedTarget,
    split: SplitWorkload,
  ) {
    const n = split.shares.length;
    this.control = new Int32Array(new SharedArrayBuffer(CONTROL.words(n) * 4));
    this.rings = new Int32Array(new SharedArrayBuffer(n * RING_WORDS * 4));
    this.workers = split.shares.map((share, index) => {
      const setup: WorkerSetup = {
        index,
        workers: n,
        allocator: target.kind,
        control: this.control.buffer as SharedArrayBuffer,
        rings: this.rings.buffer as SharedArrayBuffer,
        share,
      };
      const worker = new Worker(threadJs, { workerData: setup });
      worker.on("error", (e) => this.failures.push(String(e.stack ?? e)));
      return worker;
    });
  }

  /** One run of each worker's first `limits[k]` operations; stops them when `budgetMs` is over. */
  async run(
    limits: readonly number[],
    budgetMs: number | null,
  ): Promise<{ seconds: number; progress: number[] }> {
    const { control, rings, workers } = this;
    const n = workers.length;
    for (const i of [CONTROL.READY, CONTROL.DONE, CONTROL.STOP, CONTROL.FAILED]) Atomics.store(control, i, 0);
    for (let k = 0; k < n; k++) {
      Atomics.store(control, CONTROL.FINISHED + k, 0);
      Atomics.store(rings, k * RING_WORDS + RING_HEAD, 0);
      Atomics.store(rings, k * RING_WORDS + RING_TAIL, 0);
    }
    const memory = this.target.fresh();
    const answers = workers.map((w) => once(w, "message") as Promise<[RanMessage]>);
    workers.forEach((w, k) => {
      w.postMessage({ memory, limit: limits[k] } satisfies RunMessage);
    });
    waitFor(control, CONTROL.READY, n, "attached");
    const t0 = process.hrtime.bigint();
    Atomics.add(control, CONTROL.GO, 1);
    Atomics.notify(control, CONTROL.GO);
    if (budgetMs !== null) {
      const deadline = Date.now() + budgetMs;
      for (let done = Atomics.load(control, CONTROL.DONE); done < n && Date.now() < deadline; ) {
        Atomics.wait(control, CONTROL.DONE, done, Math.max(1, deadline - Date.now()));
        done = Atomics.load(control, CONTROL.DONE);
      }
      Atomics.store(control, CONTROL.STOP, 1);
    }
    waitFor(control, CONTROL.DONE, n, "finished");
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const replies = (await Promise.all(answers)).map(([m]) => m);
    const errors = replies.flatMap((m) => ("error" in m ? [m.error] : []));
    if (errors.length > 0 || this.failures.length > 0 || Atomics.load(control, CONTROL.FAILED) !== 0)
      throw new Error(
        `${this.spec.impl} × ${this.spec.workload}: ${[...errors, ...this.failures].join("\n")}`,
      );
    // untimed: every worker has detached, so the heap must be whole and hold nothing
    this.target.verify();
    return { seconds, progress: replies.map((m) => ("progress" in m ? m.progress : 0)) };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Operations of each share that fit the budget: all of them, or the same fraction of each. */
async function limitsThatFit(pool: WorkerPool, split: SplitWorkload, budgetMs: number): Promise<number[]> {
  const whole = split.shares.map((s) => s.ops.length);
  // the warm-ups: the second, with the JIT warm, finds the prefix again
  let fraction = 1;
  for (let pass = 0; pass < 2; pass++) {
    const { progress } = await pool.run(whole, budgetMs);
    const fits = Math.min(...progress.map((p, k) => (whole[k] === 0 ? 1 : p / whole[k])));
    fraction = pass === 0 ? fits : Math.max(fraction, fits);
  }
  return whole.map((count) => (fraction >= 1 ? count : Math.max(1, Math.ceil(count * fraction))));
}

async function measure(spec: MultiWorkerCellSpec): Promise<CellResult> {
  const split = readSplitWorkload(spec.file);
  const target = await openTarget(spec, split.shares.length);
  const pool = new WorkerPool(spec, target, split);
  try {
    const limits = await limitsThatFit(pool, split, spec.budgetMs);
    const seconds: number[] = [];
    let highWater = 0;
    let heapPeakLive = 0;
    for (let r = 0; r < spec.runs; r++) {
      seconds.push((await pool.run(limits, null)).seconds);
      highWater = Math.max(highWater, target.highWater());
      heapPeakLive = Math.max(heapPeakLive, target.peakLive() ?? 0);
    }
    const opsTimed = limits.reduce((a, b) => a + b, 0);
    const handOffs = split.shares.reduce((sum, s, k) => {
      let count = 0;
      for (let i = 0; i < limits[k]; i++) if ((s.ops[i] & 3) === OP_HAND_OFF) count++;
      return sum + count;
    }, 0);
    // a prefix of each share is not a prefix of W: its peak live payload is unknown, so is its utilization
    const wholeWorkload = opsTimed === split.totalOps;
    return {
      impl: spec.impl,
      workload: spec.workload,
      opsTotal: split.totalOps,
      opsTimed,
      seconds,
      utilization: wholeWorkload && highWater > 0 ? split.peakLiveBytes / highWater : null,
      extra: {
        workers: split.shares.length,
        crossWorkerFrees: handOffs,
        peakHeapBytes: highWater,
        peakLiveBytes: split.peakLiveBytes,
        // blocks handed over wait in a ring until their new owner runs: the live set can outgrow W's
        ...(heapPeakLive > 0 ? { heapPeakLiveBytes: heapPeakLive } : {}),
      },
    };
  } finally {
    await pool.close();
  }
}

const arg = process.argv[2];
if (arg === undefined) {
  process.stderr.write("usage: node --expose-gc dist/multi-worker-cell.js '<MultiWorkerCellSpec JSON>'\n");
  process.exit(2);
}
measure(JSON.parse(arg) as MultiWorkerCellSpec).then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
