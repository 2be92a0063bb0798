/**
 * `@heapkit/gc/testing`: the benchmark harness, kept out of the library's main entry. The oracle's
 * `timing.py` graph in heapkit, and its timing, for the bench package, the CLI and the tests:
 * N objects, each holding K references to uniformly random objects of the graph (self-loops and
 * cycles included), all kept reachable by one root list. The numbers come from Python's own generator
 * ({@link pythonRandom}), so a seed builds the very graph timing.py builds with that seed.
 *
 * @module
 */
import type { Allocator } from "@heapkit/contract";
import type { Handle, ManagedHeap, PlanName } from "./managed.js";
import { createPlan } from "./plans/create-plan.js";
import type { ObjectType } from "./types.js";

/** Options of {@link buildBenchmarkGraph}. */
export interface BenchmarkGraphOptions {
  /** Objects in the graph (timing.py: 100 000 and 1 000 000). */
  n: number;
  /** References per object (timing.py's K, default 2). */
  k?: number;
  /** Seed of the generator (default 0). */
  seed?: number;
}

/** A built graph. */
export interface BenchmarkGraph {
  /** The root list: the only reference JS holds. Release it to make the graph garbage. */
  root: Handle;
  /** The type of the graph's objects (K reference slots). */
  nodeType: ObjectType;
  /** Objects in the graph (the root list aside). */
  n: number;
  /** References per object. */
  k: number;
}

/*
 * Python's `random.Random(seed).random()`, bit for bit, so that heapkit builds exactly the graph
 * timing.py builds and both sides collect the same objects. CPython's generator is the Mersenne
 * Twister MT19937 (Matsumoto & Nishimura): 624 words of state, seeded from the integer's 32-bit
 * words (least significant first) by the reference `init_by_array`; a float takes two outputs,
 * 27 + 26 bits, as (a·2^26 + b) / 2^53.
 */
const MT_WORDS = 624;
const MT_SHIFT = 397;

/** Python's `random.Random(seed).random` for a non-negative integer seed below 2^53. */
export function pythonRandom(seed: number): () => number {
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new RangeError(`pythonRandom: seed must be an integer in 0..2^53-1, not ${seed}`);
  const state = new Uint32Array(MT_WORDS);
  const key = seed < 0x1_0000_0000 ? [seed] : [seed >>> 0, Math.floor(seed / 0x1_0000_0000)];
  // init_genrand(19650218)
  state[0] = 19650218;
  for (let i = 1; i < MT_WORDS; i++) {
    const prev = state[i - 1] ^ (state[i - 1] >>> 30);
    state[i] = Math.imul(1812433253, prev) + i;
  }
  // init_by_array(key)
  let i = 1;
  let j = 0;
  for (let steps = Math.max(MT_WORDS, key.length); steps > 0; steps--) {
    const prev = state[i - 1] ^ (state[i - 1] >>> 30);
    state[i] = (state[i] ^ Math.imul(prev, 1664525)) + key[j] + j;
    i++;
    j++;
    if (i >= MT_WORDS) {
      state[0] = state[MT_WORDS - 1];
      i = 1;
    }
    if (j >= key.length) j = 0;
  }
  for (let steps = MT_WORDS - 1; steps > 0; steps--) {
    const prev = state[i - 1] ^ (state[i - 1] >>> 30);
    state[i] = (state[i] ^ Math.imul(prev, 1566083941)) - i;
    i++;
    if (i >= MT_WORDS) {
      state[0] = state[MT_WORDS - 1];
      i = 1;
    }
  }
  state[0] = 0x8000_0000;

  let next = MT_WORDS; // all words used: regenerate before the first output
  const regenerate = () => {
    for (let w = 0; w < MT_WORDS; w++) {
      const y = (state[w] & 0x8000_0000) | (state[(w + 1) % MT_WORDS] & 0x7fff_ffff);
      state[w] = state[(w + MT_SHIFT) % MT_WORDS] ^ (y >>> 1) ^ (y & 1 ? 0x9908_b0df : 0);
    }
    next = 0;
  };
  const word = () => {
    if (next >= MT_WORDS) regenerate();
    let y = state[next++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c_5680;
    y ^= (y << 15) & 0xefc6_0000;
    y ^= y >>> 18;
    return y >>> 0;
  };
  return () => {
    const high = word() >>> 5;
    const low = word() >>> 6;
    return (high * 67108864 + low) / 9007199254740992;
  };
}

/**
 * Builds timing.py's graph in `heap`: `root = [[] for _ in range(n)]`, then every object gets `k`
 * references to random objects. Build it with automatic collection off (as timing.py does).
 */
export function buildBenchmarkGraph(heap: ManagedHeap, options: BenchmarkGraphOptions): BenchmarkGraph {
  const n = options.n;
  const k = options.k ?? 2;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`buildBenchmarkGraph: n must be ≥ 1, not ${n}`);
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`buildBenchmarkGraph: k must be ≥ 0, not ${k}`);
  const rnd = pythonRandom(options.seed ?? 0);
  const nodeType =
    heap.types.find((t) => t.name === `bench-node-${k}`) ??
    heap.defineType({ name: `bench-node-${k}`, refs: k });
  const listType =
    heap.types.find((t) => t.name === "bench-root") ?? heap.defineType({ name: "bench-root", refs: "list" });
  const root = heap.new(listType, n);
  const rootPtr = root.ptr;
  const nodes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const p = heap.allocate(nodeType);
    heap.append(rootPtr, p);
    heap.releaseRef(p);
    nodes[i] = p;
  }
  for (let i = 0; i < n; i++) {
    const p = nodes[i];
    for (let j = 0; j < k; j++) heap.set(p, j, nodes[Math.floor(rnd() * n)]);
  }
  return { root, nodeType, n, k };
}

/** Timings of one graph size, in seconds (medians), as timing.py reports them. */
export interface CollectTiming {
  /** Plan measured. */
  plan: string;
  /** Objects. */
  n: number;
  /** References per object. */
  k: number;
  /** The first full collection right after building. */
  firstCollect: number;
  /** A full collection while everything is reachable. */
  reachable: number;
  /** Releasing the root (refcounting frees what no cycle holds; 0 for tracing plans). */
  dropRoot: number;
  /** The full collection after the root is gone. */
  unreachable: number;
  /** What those collections returned. */
  collected: number[];
}

/**
 * Times full collections over the graph like timing.py: reachable (median of `repeat`), then, on a
 * fresh graph per repeat, releasing the root and collecting. `makeAllocator` gives a fresh allocator
 * big enough for the graph each time.
 */
export function timeCollect(
  plan: PlanName,
  makeAllocator: () => Allocator,
  options: BenchmarkGraphOptions & {
    /** Runs per figure (default 3; the median is reported). */
    repeat?: number;
    /** Warm the JIT up on a small graph first (default true). */
    warmup?: boolean;
  },
): CollectTiming {
  const repeat = options.repeat ?? 3;
  const warmup = options.warmup ?? true;
  const make = (): ManagedHeap =>
    createPlan(plan, makeAllocator(), { checked: false, enabled: false, profile: "plain" });
  const now = () => performance.now() / 1000;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  if (warmup) {
    // CPython's collector is compiled ahead of time; ours is compiled by the JIT while it runs. Two
    // rounds on a small graph of another seed get the hot loops optimized before anything is timed.
    for (let round = 0; round < 2; round++) {
      const small = make();
      const g = buildBenchmarkGraph(small, {
        n: Math.min(options.n, 20_000),
        k: options.k,
        seed: 1000 + round,
      });
      small.collect();
      small.collect();
      g.root.release();
      small.collect();
    }
  }
  let heap = make();
  let graph = buildBenchmarkGraph(heap, options);
  let t = now();
  heap.collect();
  const firstCollect = now() - t;
  const reach: number[] = [];
  for (let r = 0; r < repeat; r++) {
    t = now();
    const found = heap.collect();
    reach.push(now() - t);
    if (found !== 0) throw new Error(`a collection of a reachable graph found ${found} objects`);
  }
  graph.root.release();
  const dels: number[] = [];
  const unreach: number[] = [];
  const collected: number[] = [];
  for (let r = 0; r < repeat; r++) {
    heap = make();
    graph = buildBenchmarkGraph(heap, { ...options, seed: (options.seed ?? 0) + 1 + r });
    heap.collect();
    t = now();
    graph.root.release();
    dels.push(now() - t);
    t = now();
    collected.push(heap.collect());
    unreach.push(now() - t);
  }
  return {
    plan,
    n: options.n,
    k: options.k ?? 2,
    firstCollect,
    reachable: median(reach),
    dropRoot: median(dels),
    unreachable: median(unreach),
    collected,
  };
}
