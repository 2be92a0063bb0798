// timing.py's graph: heapkit draws its edges from Python's own generator, so both sides build and
// collect the same graph. The expected figures were printed by CPython 3.11.7 on this machine:
//   r = random.Random(seed); [r.random() for _ in range(1000)]   (values 0, 1 and 999)
//   build(n, 2, seed); gc.collect(); del root; gc.collect()      (timing.py's build)
import { createHeap } from "@heapkit/heap";
import { tlsf } from "@heapkit/strategies";
import { describe, expect, it } from "vitest";
import { RefcountCycles } from "../src/index.js";
import { buildBenchmarkGraph, pythonRandom, timeCollect } from "../src/testing.js";

describe("pythonRandom", () => {
  it.each([
    [0, 0.8444218515250481, 0.7579544029403025, 0.4804125346981437],
    [1, 0.13436424411240122, 0.8474337369372327, 0.7062615472551386],
    [42, 0.6394267984578837, 0.025010755222666936, 0.8554501933059546],
    [4294967295, 0.6353574441341173, 0.20319993954407756, 0.3214643568909129],
    [4294967296, 0.11299430095636409, 0.41782886486292836, 0.04156870367167198],
    [123456789012, 0.37701448538609916, 0.02069602357922562, 0.7500707321707704],
  ])("seed %d gives CPython's numbers", (seed, first, second, thousandth) => {
    const random = pythonRandom(seed);
    const xs = Array.from({ length: 1000 }, random);
    expect([xs[0], xs[1], xs[999]]).toEqual([first, second, thousandth]);
  });

  it("refuses seeds Python would read differently", () => {
    expect(() => pythonRandom(-1)).toThrow(RangeError);
    expect(() => pythonRandom(1.5)).toThrow(/integer in 0..2\^53-1/);
  });
});

describe("buildBenchmarkGraph", () => {
  it.each([
    [1000, 7, 795],
    [5000, 1, 3934],
  ])("n=%d seed=%d: dropping the root leaves as many cycles as CPython finds (%d)", (n, seed, found) => {
    const gc = new RefcountCycles(createHeap({ strategy: tlsf(), size: 1 << 20, maxSize: 16 << 20 }), {
      enabled: false,
    });
    const graph = buildBenchmarkGraph(gc, { n, k: 2, seed });
    expect(gc.collect()).toBe(0);
    graph.root.release();
    expect(gc.collect()).toBe(found);
  });

  it("timeCollect reports what each collection returned", () => {
    const timing = timeCollect(
      "refcount+cycles",
      () => createHeap({ strategy: tlsf(), size: 1 << 20, maxSize: 16 << 20 }),
      { n: 1000, seed: 6, repeat: 1, warmup: false },
    );
    // the unreachable run uses seed + 1, as timing.py does
    expect(timing.collected).toEqual([795]);
  });
});
