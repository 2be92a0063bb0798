/**
 * Several heap objects over one unshared buffer. Each keeps the words every call reads (break,
 * figures, peaks) in a mirror while it owns the heap, and reads them again when another object (or
 * a restore, or a transfer) came between: these tests interleave objects and check that every one of
 * them sees exactly the heap the buffer holds.
 */
import { DetachedMemoryError, type HeapStats } from "@heapkit/contract";
import { bestFit } from "@heapkit/strategy-best-fit";
import { firstFit } from "@heapkit/strategy-first-fit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { attachHeap, createHeap, createSharedHeap, type Heap } from "../src/index.js";
import { CACHE_DRAIN_BEFORE_GROWTH, CACHE_MAX_BYTES } from "../src/layout.js";

const OBJECTS = 3;

/** A resizable copy of a heap's buffer (attach refuses a copy that may not grow as far as the heap). */
function copyOf(source: ArrayBufferLike): ArrayBuffer {
  const copy = new ArrayBuffer(source.byteLength, { maxByteLength: 1 << 20 });
  new Uint8Array(copy).set(new Uint8Array(source));
  return copy;
}

/** The figures two objects over one heap must agree on. */
const FIGURES = [
  "heapSize",
  "liveBlocks",
  "liveBytes",
  "peakLiveBlocks",
  "peakLiveBytes",
  "peakHeapSize",
  "mallocs",
  "frees",
  "reallocs",
] as const;

function figures(stats: HeapStats): Record<(typeof FIGURES)[number], number> {
  return Object.fromEntries(FIGURES.map((name) => [name, stats[name]])) as Record<
    (typeof FIGURES)[number],
    number
  >;
}

/** A call by one of the objects, after the task so far has ended (`pause`) or in the same task. */
type Op = { pause: boolean } & (
  | { kind: "malloc"; by: number; size: number }
  | { kind: "free"; by: number; pick: number }
  | { kind: "realloc"; by: number; pick: number; size: number }
);

const by = fc.integer({ min: 0, max: OBJECTS - 1 });
const size = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 300, max: 20_000 }));
// one call in three starts a new task: the owner gives the heap up at the end of each (see publish)
const pause = fc.integer({ min: 0, max: 2 }).map((n) => n === 0);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ pause, kind: fc.constant("malloc" as const), by, size }) },
  { weight: 3, arbitrary: fc.record({ pause, kind: fc.constant("free" as const), by, pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ pause, kind: fc.constant("realloc" as const), by, pick: fc.nat(), size }),
  },
);

describe.each([
  ["first-fit", firstFit],
  ["best-fit", bestFit],
])("%s: heap objects over one unshared buffer", (_name, strategy) => {
  it("interleaved calls from several objects, in one task and across tasks: one heap, the same figures from each, every payload intact", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 120 }), fc.boolean(), async (ops, cache) => {
        const first = createHeap({ strategy: strategy(), size: 4096, maxSize: 4 << 20, cache });
        const heaps: Heap[] = [first];
        for (let i = 1; i < OBJECTS; i++)
          heaps.push(attachHeap(first.memory.buffer, { strategy: strategy() }));
        const live: { ptr: number; size: number; fill: number }[] = [];
        let fill = 1;
        for (const step of ops) {
          if (step.pause) await Promise.resolve();
          const heap = heaps[step.by];
          if (step.kind === "malloc") {
            const ptr = heap.tryMalloc(step.size);
            if (ptr === 0) continue;
            heap.u8(ptr, step.size).fill(fill);
            live.push({ ptr, size: step.size, fill: fill++ & 255 });
          } else if (live.length > 0) {
            const index = step.pick % live.length;
            const block = live[index];
            if (step.kind === "free") {
              heap.free(block.ptr);
              live.splice(index, 1);
            } else {
              const moved = heap.realloc(block.ptr, step.size);
              if (step.size === 0) {
                live.splice(index, 1);
                continue;
              }
              const kept = Math.min(block.size, step.size);
              expect(heap.u8(moved, kept).every((byte) => byte === block.fill)).toBe(true);
              heap.u8(moved, step.size).fill(block.fill);
              live[index] = { ptr: moved, size: step.size, fill: block.fill };
            }
          }
          // every object sees the same heap: the one the last call left in the buffer
          const seen = figures(heaps[(step.by + 1) % OBJECTS].stats());
          expect(figures(heaps[step.by].stats())).toEqual(seen);
          expect(seen.liveBlocks).toBe(live.length);
        }
        for (const heap of heaps) {
          heap.check();
          for (const block of live) expect(heap.isLive(block.ptr)).toBe(true);
        }
        for (const block of live) {
          expect(heaps[0].u8(block.ptr, block.size).every((byte) => byte === block.fill)).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("an object attached to a copy of the buffer gets the heap as it was, figures and all, once the task's calls are done", async () => {
    const heap = createHeap({ strategy: strategy(), size: 4096, maxSize: 1 << 20 });
    const ptrs = [10, 200, 3000, 40].map((n) => heap.malloc(n));
    heap.free(ptrs[1]);
    heap.realloc(ptrs[2], 5000);
    await Promise.resolve(); // the figures are written back at the end of the task
    const copy = copyOf(heap.memory.buffer);
    const other = attachHeap(copy, { strategy: strategy() });
    expect(figures(other.stats())).toEqual(figures(heap.stats()));
    expect(other.isLive(ptrs[0])).toBe(true);
    expect(other.isLive(ptrs[1])).toBe(false);
  });

  it("with the front cache on, a copy made once the task's calls are done holds the cached blocks too", async () => {
    const heap = createHeap({ strategy: strategy(), size: 4096, maxSize: 1 << 20, cache: true });
    const kept = heap.malloc(40);
    for (const n of [24, 100, 300]) heap.free(heap.malloc(n)); // into the cache, held in plain memory
    const cached = heap.stats().cachedBlocks;
    expect(cached).toBeGreaterThan(0);
    heap.free(heap.malloc(24)); // a hit, then back into the cache: the buffer's copy is behind again
    await Promise.resolve();
    const other = attachHeap(copyOf(heap.memory.buffer), { strategy: strategy() });
    other.check(); // every block the strategy holds as used is live or in a cache entry
    expect(other.stats().cachedBlocks).toBe(cached);
    expect(other.isLive(kept)).toBe(true);
    const again = other.malloc(24); // served from the cache it attached to
    expect(other.stats().cachedBlocks).toBe(cached - 1);
    other.free(again);
  });

  it("stats(), snapshot() and detach() write the figures back at once; a copy made in the same task before them may lag", () => {
    const heap = createHeap({ strategy: strategy(), size: 4096, maxSize: 1 << 20 });
    heap.stats(); // the heap object owns the heap, its figures written
    const buffer = heap.memory.buffer;
    const figuresIn = (bytes: ArrayBufferLike) =>
      attachHeap(copyOf(bytes), { strategy: strategy() }).stats().mallocs;
    for (let i = 0; i < 5; i++) heap.malloc(32);
    expect(figuresIn(buffer)).toBe(0); // written back at the end of the task, not yet
    heap.stats();
    expect(figuresIn(buffer)).toBe(5);
    heap.malloc(32);
    heap.snapshot();
    expect(figuresIn(buffer)).toBe(6);
    heap.malloc(32);
    heap.detach();
    expect(figuresIn(buffer)).toBe(7);
  });

  it("restore reads the figures again: the restoring object's own mirror is not taken for the heap", () => {
    const heap = createHeap({ strategy: strategy(), size: 4096, maxSize: 1 << 20 });
    heap.malloc(100);
    const before = figures(heap.stats());
    const snapshot = heap.snapshot();
    for (let i = 0; i < 20; i++) heap.malloc(1000);
    heap.restore(snapshot);
    expect(figures(heap.stats())).toEqual(before);
    expect(heap.brk).toBe(snapshot.brk);
  });

  it("a detached object throws DetachedMemoryError on its next call; another object goes on", () => {
    const heap = createHeap({ strategy: strategy(), size: 4096, maxSize: 1 << 20 });
    const other = attachHeap(heap.memory.buffer, { strategy: strategy() });
    const ptr = heap.malloc(64);
    heap.detach();
    expect(() => heap.malloc(8)).toThrow(DetachedMemoryError);
    expect(() => heap.free(ptr)).toThrow(DetachedMemoryError);
    expect(other.isLive(ptr)).toBe(true);
    other.free(ptr);
    expect(other.stats().liveBlocks).toBe(0);
  });

  it("a transferred buffer: the old object throws DetachedMemoryError, one attached where it went sees the heap", async () => {
    const heap = createHeap({ strategy: strategy(), size: 4096, maxSize: 1 << 20 });
    const ptr = heap.malloc(64);
    heap.u32(ptr, 1)[0] = 0xfeed;
    await Promise.resolve();
    const moved = structuredClone(heap.memory.buffer, { transfer: [heap.memory.buffer] });
    expect(() => heap.malloc(8)).toThrow(DetachedMemoryError);
    expect(() => heap.free(ptr)).toThrow(DetachedMemoryError);
    const there = attachHeap(moved, { strategy: strategy() });
    expect(there.u32(ptr, 1)[0]).toBe(0xfeed);
    expect(there.stats().liveBlocks).toBe(1);
    there.free(ptr);
  });
});

describe("the shortest paths (a cache hit, an owned free) notice a buffer replaced or taken away", () => {
  it("a wasm memory grown by other code: the next hit and free follow the new buffer", () => {
    const memory = new WebAssembly.Memory({ initial: 20, maximum: 200 });
    const heap = createHeap({ strategy: firstFit(), memory, maxSize: 200 * 65536, cache: true });
    const kept = heap.malloc(48);
    heap.free(heap.malloc(48)); // one block cached
    memory.grow(3); // as wasm code would: the buffer the heap's views were over is detached
    const hit = heap.malloc(48);
    expect(heap.isLive(hit)).toBe(true);
    expect(heap.stats().cachedBlocks).toBe(0);
    memory.grow(1); // and now a free first
    heap.free(kept);
    heap.free(hit);
    heap.free(heap.malloc(48));
    expect(heap.stats().liveBlocks).toBe(0);
    heap.check();
  });

  it("a transferred buffer: a hit and a free throw DetachedMemoryError and change nothing", async () => {
    const heap = createHeap({ strategy: firstFit(), size: 1 << 16, maxSize: 1 << 20, cache: true });
    const kept = heap.malloc(48);
    heap.free(heap.malloc(48));
    await Promise.resolve();
    const moved = structuredClone(heap.memory.buffer, { transfer: [heap.memory.buffer] });
    expect(() => heap.malloc(48)).toThrow(DetachedMemoryError);
    expect(() => heap.free(kept)).toThrow(DetachedMemoryError);
    const there = attachHeap(moved, { strategy: firstFit() });
    expect(there.stats().cachedBlocks).toBe(1);
    expect(there.isLive(kept)).toBe(true);
    there.free(kept);
    there.check();
  });
});

describe("the front cache before the heap grows", () => {
  /** A heap whose cache holds `copies` adjacent blocks of each exact class from 320 to 504 bytes, fenced off from the top. */
  function cacheOf(copies: number) {
    const heap = createHeap({ strategy: firstFit(), size: 1 << 16, maxSize: 16 << 20, cache: true });
    const ptrs: number[] = [];
    for (let size = 320; size < 512; size += 8) for (let i = 0; i < copies; i++) ptrs.push(heap.malloc(size));
    heap.malloc(64); // the fence: what the cache gives back cannot merge with free space above it
    for (const ptr of ptrs) heap.free(ptr);
    return { heap, cached: heap.stats().cachedBlocks };
  }

  it("under CACHE_DRAIN_BEFORE_GROWTH bytes, the cache is kept and the heap grows", () => {
    const { heap, cached } = cacheOf(1);
    expect(heap.stats().cachedBytes).toBeLessThan(CACHE_DRAIN_BEFORE_GROWTH);
    const before = heap.stats().heapSize;
    heap.malloc(6 * 1024); // the cached blocks, given back, would hold it
    expect(heap.stats().cachedBlocks).toBe(cached);
    expect(heap.stats().heapSize).toBeGreaterThan(before);
    heap.check();
  });

  it("from CACHE_DRAIN_BEFORE_GROWTH bytes up, the cache goes back first and the heap need not grow", () => {
    const { heap } = cacheOf(2);
    expect(heap.stats().cachedBytes).toBeGreaterThanOrEqual(CACHE_DRAIN_BEFORE_GROWTH);
    const before = heap.stats().heapSize;
    heap.malloc(12 * 1024);
    expect(heap.stats().cachedBlocks).toBe(0);
    expect(heap.stats().heapSize).toBe(before);
    heap.check();
  });
});

describe("the front cache's byte budget", () => {
  it.each([
    // 8 blocks in each wide class from 512 bytes to 4 KiB would be some 600 KiB
    [
      "shared memory, every class",
      () => createSharedHeap({ strategy: firstFit(), size: 1 << 20, maxSize: 16 << 20 }),
      520,
      4096,
    ],
    // unshared memory caches the exact classes only: at align 16, 8 blocks of each would be some 520 KiB
    [
      "unshared memory, the exact classes",
      () => createHeap({ strategy: firstFit(), size: 1 << 20, maxSize: 16 << 20, cache: true, align: 16 }),
      16,
      1024,
    ],
  ])(
    "over %s, holds at most CACHE_MAX_BYTES: frees past it go to the strategy, and check() agrees",
    (_what, make, from, to) => {
      const heap = make();
      const ptrs: number[] = [];
      for (let size = from; size < to; size += 8) {
        for (let copy = 0; copy < 2; copy++) ptrs.push(heap.malloc(size));
      }
      for (const ptr of ptrs) heap.free(ptr);
      const stats = heap.stats();
      expect(stats.cachedBytes).toBeGreaterThan(CACHE_MAX_BYTES / 2);
      expect(stats.cachedBytes).toBeLessThanOrEqual(CACHE_MAX_BYTES);
      expect(stats.liveBlocks).toBe(0);
      heap.check();
    },
  );
});
