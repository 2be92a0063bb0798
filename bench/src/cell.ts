/**
 * One measurement cell, run in a child process of its own (`node --expose-gc dist/cell.js SPEC`):
 * one implementation on one workload. A fresh process per cell keeps every call site monomorphic
 * (the heap's call into its engine sees one strategy only), starts each cell with a clean JS heap,
 * and makes RSS figures mean something. It prints one JSON {@link CellResult} line on stdout.
 *
 * Protocol: a warm-up run, which also finds how many operations fit the time budget (a slow
 * implementation is measured on a prefix of the workload, and says so; when the warm-up was cut, a
 * second, warm run finds the prefix again; a short workload is warmed up for up to 300 ms, then after a full GC
 * for up to 100 ms more); then `runs` timed runs, each on a fresh allocator, with a
 * full GC before each run and outside its timing. For `uint8array` the warm-up also samples process
 * memory (utilization is then over the warm-up's prefix). Last, untimed, a heapkit cell over the default memory (not `/fixed`, not `/cache`) on a workload
 * whose live set fills to a cap (W, S and their variants) counts the words of the buffer each call
 * reads or writes, over the 20 k calls after the live set first reaches its cap (`@heapkit/heap/testing`'s
 * `watchWordAccess`): the machine-independent half of the scaling rows.
 *
 * A heapkit cell formats each run's fresh heap over the same memory (a plain ArrayBuffer reserved at
 * 2 GiB, the kind `createHeap` makes by default), as glibc in the C replay reuses its process heap from run to
 * run: the timed runs then measure the allocator, not the kernel's first touch of each page (about
 * 12 µs a page on the 2-core VM: tlsf on W-100k did 1.7–2.6 M ops/s on fresh memory, 4.7–6.0 M on
 * reused memory).
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { createPlan } from "@heapkit/gc";
import { buildBenchmarkGraph } from "@heapkit/gc/testing";
import { createHeap, createMemory, type Heap, MAX_MEMORY_BYTES, type MemoryGrowth } from "@heapkit/heap";
import { watchWordAccess } from "@heapkit/heap/testing";
import { strategyByName } from "@heapkit/strategies";
import { MemPool } from "@thi.ng/malloc";
import { ASSEMBLYSCRIPT, type AssemblyScriptHeap, instantiateAssemblyScriptHeap } from "./assemblyscript.js";
import {
  FIXED_MEMORY,
  FRONT_CACHE,
  isFixedMemory,
  isFrontCache,
  isResizableMemory,
  isVariant,
  RESIZABLE_MEMORY,
} from "./stats.js";
import { OP_ALLOC, OP_FREE, readWorkload, type Workload } from "./workload-format.js";

/** What the parent asks a cell to measure. */
export interface CellSpec {
  /**
   * A strategy name (`/fixed` for a fixed-size buffer, `/resize` for a resizable one, `/cache` with the front cache on), `thi.ng`,
   * `uint8array` or `assemblyscript`.
   */
  impl: string;
  /** The workload's name in the results. */
  workload: string;
  /** `replay` a workload file, time malloc+free `pairs` of 64 bytes, or time full collections of a `gc` graph. */
  kind: "replay" | "pairs" | "gc";
  /** The workload file (kind `replay`). */
  file?: string;
  /** The compiled AssemblyScript heap (impl `assemblyscript`). */
  wasm?: string;
  /** Pairs to run (kind `pairs`). */
  pairs?: number;
  /** Objects in the graph (kind `gc`). */
  objects?: number;
  /** Also time dropping the root and collecting the garbage (kind `gc`). */
  unreachable?: boolean;
  /** Timed runs after the warm-up. */
  runs: number;
  /** Time budget of one run in ms: a run that would take longer is cut to the prefix that fits. */
  budgetMs: number;
  /**
   * One timed run of the whole workload, with no warm-up and no budget: for a peer so slow that a
   * prefix would flatter it (@thi.ng/malloc on W: about 90 s), whose JIT is warm after its first
   * thousandth.
   */
  whole?: boolean;
}

/** What a cell reports. */
export interface CellResult {
  /** The implementation measured. */
  impl: string;
  /** The workload's name. */
  workload: string;
  /** Operations in the whole workload (allocations, frees and reallocs each count one). */
  opsTotal: number;
  /** Operations each timed run replayed (a prefix when the budget cut it). */
  opsTimed: number;
  /** Seconds of each timed run. */
  seconds: number[];
  /** Peak live payload (as asked) / high-water of the memory the implementation took; null if unknown. */
  utilization: number | null;
  /** Implementation-specific figures. */
  extra: Record<string, number | string>;
}

const CHUNK = 4096;

/** An implementation as the cell drives it: a fresh allocator per run, and a replay of [from, to). */
interface Driver {
  /** Makes a fresh allocator for one run. */
  reset(): void;
  /** Replays operations [from, to) of the workload. */
  replay(w: Workload, from: number, to: number): void;
  /** malloc+free of 64 bytes, `count` times. */
  pairs(count: number): void;
  /** Frees what a prefix run left live (untimed). */
  finish(): void;
  /** Bytes of memory the last run took at its peak; null if unknown. */
  highWater(): number | null;
  /** Extra figures after the last run. */
  extra(): Record<string, number | string>;
  /**
   * Marks the warm-up as the pass whose memory figures count: `uint8array` samples process memory
   * during it, and `assemblyscript`'s memory is fresh only then (later runs reuse it).
   */
  startSampling?(): void;
  /** Ends that pass. */
  stopSampling?(): void;
  /**
   * Words of the buffer touched per call over operations [from, to), after replaying up to `from`
   * on a fresh allocator (untimed: a Proxy counts every access).
   */
  wordsPerCall?(w: Workload, from: number, to: number): { mean: number; max: number };
}

/** Calls counted for the words-per-call figures, from the moment the live set first reaches its cap. */
const WORDS_WINDOW = 20_000;

// ------------------------------------------------------------------ heapkit

/**
 * A heapkit strategy over `memory`, which every run's fresh heap reuses; `cache: true` turns the
 * heap's front cache on (otherwise the heap's default: off for unshared memory).
 */
function heapDriver(strategy: string, slots: number, memory: ArrayBuffer, cache = false): Driver {
  let heap: Heap = makeHeap(strategy, memory, cache);
  const ptrs = new Int32Array(Math.max(1, slots));
  return {
    reset() {
      heap = makeHeap(strategy, memory, cache);
    },
    replay(w, from, to) {
      const ops = w.ops;
      const sizes = w.sizes;
      const h = heap;
      for (let i = from; i < to; i++) {
        const op = ops[i];
        const kind = op & 3;
        const slot = op >>> 2;
        if (kind === OP_ALLOC) {
          const p = h.tryMalloc(sizes[i]);
          if (p === 0) throw new Error(`${strategy}: out of memory at op ${i} (size ${sizes[i]})`);
          ptrs[slot] = p;
        } else if (kind === OP_FREE) {
          h.free(ptrs[slot]);
        } else {
          ptrs[slot] = h.realloc(ptrs[slot], sizes[i]);
        }
      }
    },
    pairs(count) {
      const h = heap;
      for (let i = 0; i < count; i++) {
        const p = h.tryMalloc(64);
        h.free(p);
      }
    },
    finish() {},
    highWater() {
      return heap.stats().peakHeapSize;
    },
    extra() {
      const s = heap.stats();
      // cachedBytes: what the front cache still held when the last run ended (0 with the cache off)
      return {
        peakHeapBytes: s.peakHeapSize,
        peakUsableBytes: s.peakLiveBytes,
        cachedBytes: s.cachedBytes,
        memoryKind: heap.memory.kind,
      };
    },
    wordsPerCall(w, from, to) {
      heap = makeHeap(strategy, memory, cache);
      this.replay(w, 0, from);
      const watch = watchWordAccess(heap.memory);
      let total = 0;
      let max = 0;
      for (let i = from; i < to; i++) {
        watch.reset();
        this.replay(w, i, i + 1);
        const words = watch.reads + watch.writes;
        total += words;
        if (words > max) max = words;
      }
      watch.stop();
      return { mean: total / Math.max(1, to - from), max };
    },
  };
}

/**
 * The memory of a heapkit cell's heaps, with a limit of 2 GiB: what `createHeap` makes by default (a
 * reserved plain buffer), or with `growth` (`/resize`: a resizable one).
 */
function newMemory(growth?: MemoryGrowth): ArrayBuffer {
  return createMemory({ size: 64 * 1024, maxSize: MAX_MEMORY_BYTES, growth }).buffer as ArrayBuffer;
}

/**
 * A fresh heap over `memory` (which keeps the pages earlier heaps touched); with `cache`, its front
 * cache forced on (without, the option is not passed: the heap's default).
 */
function makeHeap(strategy: string, memory: ArrayBuffer, cache = false): Heap {
  return createHeap({
    strategy: strategyByName(strategy),
    memory,
    format: true,
    ...(cache ? { cache: true } : {}),
  });
}

// ------------------------------------------------------------------ @thi.ng/malloc

interface PoolInternals {
  readonly top: number;
}

function thingDriver(poolBytes: number, slots: number): Driver {
  let pool = new MemPool({ size: poolBytes });
  let initialTop = (pool as unknown as PoolInternals).top;
  let peakTop = initialTop;
  const ptrs = new Int32Array(Math.max(1, slots));
  return {
    reset() {
      pool = new MemPool({ size: poolBytes });
      initialTop = (pool as unknown as PoolInternals).top;
      peakTop = initialTop;
    },
    replay(w, from, to) {
      const ops = w.ops;
      const sizes = w.sizes;
      const p = pool;
      const internals = p as unknown as PoolInternals;
      let peak = peakTop;
      for (let i = from; i < to; i++) {
        const op = ops[i];
        const kind = op & 3;
        const slot = op >>> 2;
        if (kind === OP_ALLOC) {
          const ptr = p.malloc(sizes[i]);
          if (ptr === 0) throw new Error(`thi.ng: out of memory at op ${i} (pool of ${poolBytes} bytes)`);
          ptrs[slot] = ptr;
          const top = internals.top;
          if (top > peak) peak = top;
        } else if (kind === OP_FREE) {
          p.free(ptrs[slot]);
        } else {
          const ptr = p.realloc(ptrs[slot], sizes[i]);
          if (ptr === 0) throw new Error(`thi.ng: realloc failed at op ${i}`);
          ptrs[slot] = ptr;
          const top = internals.top;
          if (top > peak) peak = top;
        }
      }
      peakTop = peak;
    },
    pairs(count) {
      const p = pool;
      for (let i = 0; i < count; i++) {
        const ptr = p.malloc(64);
        p.free(ptr);
      }
    },
    finish() {},
    highWater() {
      return peakTop - initialTop;
    },
    extra() {
      return { poolBytes, peakTopBytes: peakTop - initialTop };
    },
  };
}

// ------------------------------------------------------------------ AssemblyScript's TLSF in wasm

/**
 * AssemblyScript's heap: one WebAssembly.Memory for the whole cell, a fresh instance (so a fresh
 * TLSF, formatted over that memory) per run. Its high-water mark is the memory's size after the
 * warm-up, the one pass that starts from a single page.
 */
function assemblyScriptDriver(wasmFile: string, slots: number): Driver {
  const module = new WebAssembly.Module(readFileSync(wasmFile));
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 32768 });
  let heap: AssemblyScriptHeap = instantiateAssemblyScriptHeap(module, memory);
  let freshHighWater: number | null = null;
  const ptrs = new Int32Array(Math.max(1, slots));
  return {
    reset() {
      heap = instantiateAssemblyScriptHeap(module, memory);
    },
    replay(w, from, to) {
      const ops = w.ops;
      const sizes = w.sizes;
      const h = heap;
      for (let i = from; i < to; i++) {
        const op = ops[i];
        const kind = op & 3;
        const slot = op >>> 2;
        if (kind === OP_ALLOC) ptrs[slot] = h.alloc(sizes[i]);
        else if (kind === OP_FREE) h.free(ptrs[slot]);
        else ptrs[slot] = h.realloc(ptrs[slot], sizes[i]);
      }
    },
    pairs(count) {
      const h = heap;
      for (let i = 0; i < count; i++) h.free(h.alloc(64));
    },
    finish() {},
    highWater() {
      return freshHighWater;
    },
    extra() {
      return { memoryBytes: memory.buffer.byteLength };
    },
    startSampling() {},
    stopSampling() {
      freshHighWater = memory.buffer.byteLength;
    },
  };
}

// ------------------------------------------------------------------ new Uint8Array(n) per block

function uint8Driver(slots: number): Driver {
  let blocks: (Uint8Array | null)[] = new Array(Math.max(1, slots)).fill(null);
  let sampling = false;
  let baseArrayBuffers = 0;
  let baseHeapUsed = 0;
  let baseRss = 0;
  let peakHeld = 0;
  let peakRss = 0;
  let peakArrayBuffers = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    const ab = m.arrayBuffers - baseArrayBuffers;
    const held = ab + Math.max(0, m.heapUsed - baseHeapUsed);
    if (held > peakHeld) peakHeld = held;
    if (ab > peakArrayBuffers) peakArrayBuffers = ab;
    if (m.rss - baseRss > peakRss) peakRss = m.rss - baseRss;
  };
  return {
    reset() {
      blocks = new Array(blocks.length).fill(null);
    },
    replay(w, from, to) {
      const ops = w.ops;
      const sizes = w.sizes;
      const b = blocks;
      if (sampling) {
        for (let i = from; i < to; i++) {
          step(b, ops[i], sizes[i]);
          if ((i & 1023) === 0) sample();
        }
        sample();
        return;
      }
      for (let i = from; i < to; i++) step(b, ops[i], sizes[i]);
    },
    pairs(count) {
      const b = blocks;
      for (let i = 0; i < count; i++) {
        b[0] = new Uint8Array(64);
        b[0] = null;
      }
    },
    finish() {
      blocks.fill(null);
    },
    highWater() {
      return peakHeld > 0 ? peakHeld : null;
    },
    extra() {
      return {
        peakArrayBuffersBytes: peakArrayBuffers,
        peakHeldBytes: peakHeld,
        peakRssGrowthBytes: peakRss,
      };
    },
    // the memory pass: sampled during the warm-up only, so timed runs carry no sampling cost
    startSampling() {
      gcNow();
      const m = process.memoryUsage();
      baseArrayBuffers = m.arrayBuffers;
      baseHeapUsed = m.heapUsed;
      baseRss = m.rss;
      sampling = true;
    },
    stopSampling() {
      sampling = false;
    },
  };
}

function step(b: (Uint8Array | null)[], op: number, size: number): void {
  const kind = op & 3;
  const slot = op >>> 2;
  if (kind === OP_ALLOC) {
    b[slot] = new Uint8Array(size);
  } else if (kind === OP_FREE) {
    b[slot] = null;
  } else {
    const old = b[slot] as Uint8Array;
    const moved = new Uint8Array(size);
    moved.set(old.length <= size ? old : old.subarray(0, size));
    b[slot] = moved;
  }
}

// ------------------------------------------------------------------ the protocol

function gcNow(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g !== undefined) g();
}

function peakLiveOfPrefix(w: Workload, count: number): number {
  if (count >= w.ops.length) return w.peakLiveBytes;
  const sizeOf = new Int32Array(w.slots);
  let live = 0;
  let peak = 0;
  for (let i = 0; i < count; i++) {
    const op = w.ops[i];
    const kind = op & 3;
    const slot = op >>> 2;
    if (kind === OP_FREE) {
      live -= sizeOf[slot];
      sizeOf[slot] = 0;
    } else {
      live += w.sizes[i] - sizeOf[slot];
      sizeOf[slot] = w.sizes[i];
      if (live > peak) peak = live;
    }
  }
  return peak;
}

/** The size of a fixed pool for `w`: room for 3× the peak live payload plus headers, at least 1 MiB. */
function fixedPoolBytes(w: Workload | null): number {
  const slots = w?.slots ?? 1;
  const peak = w?.peakLiveBytes ?? 0;
  return Math.min(0x7fff_0000, Math.max(1 << 20, Math.ceil(peak * 3 + slots * 16 + (16 << 20)))) & ~4095;
}

function makeDriver(impl: string, w: Workload | null, wasm: string | undefined): Driver {
  const slots = w?.slots ?? 1;
  if (impl === "thi.ng") return thingDriver(fixedPoolBytes(w), slots);
  if (impl === "uint8array") return uint8Driver(slots);
  if (impl === ASSEMBLYSCRIPT) {
    if (wasm === undefined) throw new Error("the assemblyscript cell needs the path of its compiled module");
    return assemblyScriptDriver(wasm, slots);
  }
  if (isFixedMemory(impl)) {
    const strategy = impl.slice(0, -FIXED_MEMORY.length);
    return heapDriver(strategy, slots, new ArrayBuffer(fixedPoolBytes(w)));
  }
  if (isResizableMemory(impl)) {
    return heapDriver(impl.slice(0, -RESIZABLE_MEMORY.length), slots, newMemory("resize"));
  }
  if (isFrontCache(impl)) return heapDriver(impl.slice(0, -FRONT_CACHE.length), slots, newMemory(), true);
  return heapDriver(impl, slots, newMemory());
}

/**
 * The gc-* workloads: the oracle's timing.py graph (`objects` lists, 2 references each to random
 * objects, one root list) built by @heapkit/gc over a heap of this strategy, under the
 * refcount+cycles plan (CPython's design) with automatic collection off; then timed full collections
 * while everything is reachable (the compared figure: objects traced per second), printed at once;
 * then, if asked, the root is dropped (reference counting frees what no cycle holds) and one more
 * collection frees the cycles, and the result is printed again with those times.
 */
function measureGc(spec: CellSpec): void {
  const n = spec.objects ?? 100_000;
  const heap = makeHeap(spec.impl, newMemory());
  const gc = createPlan("refcount+cycles", heap, { checked: false, enabled: false, profile: "plain" });
  const time = (f: () => void): number => {
    const t0 = process.hrtime.bigint();
    f();
    return Number(process.hrtime.bigint() - t0) / 1e9;
  };
  let graph: ReturnType<typeof buildBenchmarkGraph> | undefined;
  const build = time(() => {
    graph = buildBenchmarkGraph(gc, { n, k: 2, seed: 0 });
  });
  const first = time(() => gc.collect());
  const seconds: number[] = [];
  for (let r = 0; r < spec.runs; r++) {
    let found = 0;
    seconds.push(time(() => (found = gc.collect())));
    if (found !== 0) throw new Error(`a collection of the reachable graph found ${found} objects`);
  }
  const result: CellResult = {
    impl: spec.impl,
    workload: spec.workload,
    opsTotal: n,
    opsTimed: n,
    seconds,
    utilization: null,
    extra: {
      plan: "refcount+cycles",
      buildSeconds: build,
      firstCollectSeconds: first,
      graphHeapBytes: heap.stats().peakHeapSize,
    },
  };
  // the compared figures are out: print them now, so a parent that stops a slow unreachable phase keeps them
  print(result);
  if (spec.unreachable === true) {
    const dropRoot = time(() => graph?.root.release());
    let collected = 0;
    const unreachable = time(() => (collected = gc.collect()));
    result.extra.dropRootSeconds = dropRoot;
    result.extra.unreachableCollectSeconds = unreachable;
    result.extra.collected = collected;
    print(result);
  }
}

function print(result: CellResult): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** The pairs workload: a warm-up on a tenth, then the timed runs of malloc(64)+free. */
function measurePairs(spec: CellSpec, driver: Driver): CellResult {
  const count = spec.pairs ?? 1_000_000;
  const seconds: number[] = [];
  driver.pairs(Math.max(1000, Math.floor(count / 10)));
  for (let r = 0; r < spec.runs; r++) {
    driver.reset();
    gcNow();
    const t0 = process.hrtime.bigint();
    driver.pairs(count);
    seconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return {
    impl: spec.impl,
    workload: spec.workload,
    opsTotal: count * 2,
    opsTimed: count * 2,
    seconds,
    utilization: null,
    extra: driver.extra(),
  };
}

function measure(spec: CellSpec): CellResult {
  const w = spec.kind === "replay" ? readWorkload(spec.file as string, spec.workload) : null;
  const driver = makeDriver(spec.impl, w, spec.wasm);
  if (w === null) return measurePairs(spec, driver);
  const budgetNs = BigInt(Math.round(spec.budgetMs * 1e6));
  const seconds: number[] = [];
  const total = w.ops.length;
  // warm-up, which also finds the prefix that fits the budget (none for a `whole` cell)
  const fits = (): number => {
    const start = process.hrtime.bigint();
    for (let from = 0; from < total; from += CHUNK) {
      const to = Math.min(total, from + CHUNK);
      driver.replay(w, from, to);
      if (process.hrtime.bigint() - start > budgetNs && to < total) return to;
    }
    return total;
  };
  const whole = spec.whole === true;
  // uint8array samples process memory during the warm-up: the first run of a fresh process, so RSS means something
  const sampling = driver.startSampling !== undefined && !whole;
  if (sampling) driver.startSampling?.();
  let timed = whole ? total : fits();
  if (sampling) driver.stopSampling?.();
  driver.finish();
  const sampled = timed;
  const sampledHighWater = driver.highWater();
  if (!whole && timed < total) {
    // the warm-up ran partly unoptimized code: measure what fits again, now that the JIT is warm
    driver.reset();
    gcNow();
    timed = Math.max(timed, fits());
    driver.finish();
  } else if (!whole) {
    // a short workload (a small trace) warms the JIT too little in one pass: repeat it for up to 300 ms;
    // then, as before each timed run, a full GC, and more passes for up to 100 ms: the GC can drop the
    // replay loop's on-stack-replacement code before the loop has optimized code of its own, and V8
    // then compiles the loop again in the first timed runs (gcc-as: one process in six ran 3.0, 2.9,
    // 20.3, 45.5, 45.9 M ops/s)
    const warm = (ms: number): void => {
      const until = process.hrtime.bigint() + BigInt(Math.min(ms, spec.budgetMs) * 1e6);
      for (let i = 0; i < 50 && process.hrtime.bigint() < until; i++) {
        driver.reset();
        driver.replay(w, 0, total);
        driver.finish();
      }
    };
    warm(300);
    gcNow();
    warm(100);
  }
  for (let r = 0; r < (whole ? 1 : spec.runs); r++) {
    driver.reset();
    gcNow();
    const t0 = process.hrtime.bigint();
    driver.replay(w, 0, timed);
    seconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
    driver.finish();
  }
  const highWater = sampling ? sampledHighWater : driver.highWater();
  const peakLive = peakLiveOfPrefix(w, sampling ? sampled : timed);
  const extra: Record<string, number | string> = { ...driver.extra(), peakLiveBytes: peakLive };
  // a strategy counts the same words over either memory: the default-memory cell counts them once
  // (and the scaling rows they are for are the bare strategies', cache off)
  if (driver.wordsPerCall !== undefined && w.fillEnd > 0 && !isVariant(spec.impl)) {
    const words = driver.wordsPerCall(w, w.fillEnd, Math.min(total, w.fillEnd + WORDS_WINDOW));
    extra.wordsPerCallMean = words.mean;
    extra.wordsPerCallMax = words.max;
  }
  return {
    impl: spec.impl,
    workload: spec.workload,
    opsTotal: total,
    opsTimed: timed,
    seconds,
    utilization: highWater === null || highWater <= 0 ? null : peakLive / highWater,
    extra,
  };
}

const arg = process.argv[2];
if (arg === undefined) {
  process.stderr.write("usage: node --expose-gc dist/cell.js '<CellSpec JSON>'\n");
  process.exit(2);
}
const spec = JSON.parse(arg) as CellSpec;
if (spec.kind === "gc") measureGc(spec);
else print(measure(spec));
