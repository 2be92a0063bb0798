// The cost of a call in words of the buffer touched (read or written through the memory's u32 and
// i32 views), at 100 and at 10 k live blocks: the machine-independent form of "time per call does
// not grow with the number of live blocks". Ops/s on a real machine also depends on how far apart
// those words are (the caches); the count depends on the algorithm only.
import { createHeap } from "@heapkit/heap";
import { watchWordAccess } from "@heapkit/heap/testing";
import { strategies } from "@heapkit/strategies";
import { describe, expect, it } from "vitest";

/** Words per call after a steady state of `live` blocks, sizes log-uniform in 8..4096 (workload W's recipe). */
function wordsPerCall(name: string, live: number): { mean: number; max: number } {
  let seed = 20260601;
  const random = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const size = (): number => Math.round(8 * Math.exp(random() * Math.log(512)));
  const heap = createHeap({ strategy: strategies[name](), size: 1 << 20, maxSize: 1 << 30, cache: false });
  const ptrs: number[] = [];
  for (let i = 0; i < live; i++) ptrs.push(heap.malloc(size()));
  // churn until the free blocks are as scattered as a long run leaves them
  for (let i = 0; i < live * 2; i++) {
    const k = Math.floor(random() * live);
    heap.free(ptrs[k]);
    ptrs[k] = heap.malloc(size());
  }
  const watch = watchWordAccess(heap.memory);
  let total = 0;
  let max = 0;
  const calls = 2000;
  for (let i = 0; i < calls / 2; i++) {
    const k = Math.floor(random() * live);
    watch.reset();
    heap.free(ptrs[k]);
    const free = watch.reads + watch.writes;
    watch.reset();
    ptrs[k] = heap.malloc(size());
    const malloc = watch.reads + watch.writes;
    total += free + malloc;
    max = Math.max(max, free, malloc);
  }
  watch.stop();
  heap.check();
  return { mean: total / calls, max };
}

/** The strategies whose malloc and free are O(1): bitmaps and class lists, no walk. */
const CONSTANT = ["tlsf", "segregated", "buddy", "pymalloc"];
/** No call of an O(1) strategy touches more words than this, whatever the live set (measured: 20–34). */
const WORDS_BOUND = 48;

describe("words touched per call", () => {
  for (const name of CONSTANT) {
    it(`${name}: at most ${WORDS_BOUND} words per malloc or free at 100 and at 10 k live blocks`, () => {
      const small = wordsPerCall(name, 100);
      const large = wordsPerCall(name, 10_000);
      expect(small.max).toBeLessThanOrEqual(WORDS_BOUND);
      expect(large.max).toBeLessThanOrEqual(WORDS_BOUND);
      expect(large.mean).toBeLessThanOrEqual(small.mean * 1.5);
    });
  }

  it("first-fit-lifo walks its list: its cost grows with the live set, and the count shows it", () => {
    const small = wordsPerCall("first-fit-lifo", 100);
    const large = wordsPerCall("first-fit-lifo", 10_000);
    expect(large.max).toBeGreaterThan(20 * small.max);
    expect(large.mean).toBeGreaterThan(4 * small.mean);
  });
});
