import { ENGINE_HEADER_BYTES } from "@heapkit/boundary-tags";
import { HeapCorruptionError, type Strategy } from "@heapkit/contract";
import { createHeap, type Heap } from "@heapkit/heap";
import { firstFit, nextFit } from "@heapkit/strategies";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

/** Block size the boundary-tag mechanism gives a request of `size` bytes (4-byte header, align 8). */
const blockSize = (size: number) => Math.max(16, (size + 4 + 7) & ~7);

/**
 * Where an address-ordered fit must put a block of `size` bytes, read from the block walk alone: the
 * lowest free block at `from` or above that is big enough, else the lowest one anywhere; otherwise the
 * top (the last block if it is free). Returns the payload and whether a free block was found.
 */
function expectedFit(heap: Heap, size: number, from = 0): { ptr: number; found: boolean } {
  const want = blockSize(size);
  const blocks = [...heap.blocks()];
  const fits = (b: (typeof blocks)[number]) => b.state === "free" && b.size >= want;
  const fit = blocks.find((b) => fits(b) && b.offset >= from) ?? blocks.find(fits);
  if (fit !== undefined) return { ptr: fit.offset + 4, found: true };
  const last = blocks[blocks.length - 2]; // the block before the epilogue
  const top = last.state === "free" ? last.offset : blocks[blocks.length - 1].offset;
  return { ptr: top + 4, found: false };
}

/** Two free blocks of `first` and `second` bytes, kept apart by small used blocks; returns their payloads. */
function twoHoles(heap: Heap, first: number, second: number): [number, number] {
  const a = heap.malloc(first);
  heap.malloc(8);
  const b = heap.malloc(second);
  heap.malloc(8);
  heap.free(a);
  heap.free(b);
  return [a, b];
}

const operations = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant("malloc" as const), size: fc.integer({ min: 0, max: 600 }) }),
    fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }),
  ),
  { minLength: 1, maxLength: 300 },
);

/**
 * Random malloc/free sequences on a heap of `strategy`, each malloc checked against {@link expectedFit}.
 * With `rover`, the scan starts where next fit's rover is: the block the last search took, moved to
 * the start of a free block that comes to cover it; without, it starts at address 0 (first fit).
 */
function expectPlacementsOfScan(strategy: () => Strategy<unknown>, rover: boolean): void {
  fc.assert(
    fc.property(operations, (ops) => {
      const heap = createHeap({ strategy: strategy(), size: 1 << 16, maxSize: 1 << 22, cache: false });
      const live: number[] = [];
      let from = 0;
      for (const o of ops) {
        if (o.kind === "malloc") {
          const expected = expectedFit(heap, o.size, from);
          const ptr = heap.malloc(o.size);
          expect(ptr).toBe(expected.ptr);
          if (rover && expected.found) from = ptr - 4;
          live.push(ptr);
        } else if (live.length > 0) {
          heap.free(live.splice(o.pick % live.length, 1)[0]);
          const covering = [...heap.blocks()].find(
            (b) => b.state === "free" && b.offset < from && from < b.offset + b.size,
          );
          if (covering !== undefined) from = covering.offset;
        }
      }
      heap.check();
    }),
    { numRuns: 150 },
  );
}

describe("first-fit (address tree)", () => {
  it("places every block exactly where a scan of the heap in address order would", () => {
    expectPlacementsOfScan(firstFit, false);
  });

  it("reports the largest free block from the root, and the same figures as a walk", () => {
    const heap = createHeap({ strategy: firstFit(), size: 1 << 16, cache: false });
    const ptrs = Array.from({ length: 64 }, (_, i) => heap.malloc(8 + 24 * (i % 7)));
    for (let i = 0; i < ptrs.length; i += 2) heap.free(ptrs[i]);
    const free = [...heap.blocks()].filter((b) => b.state === "free");
    const stats = heap.stats();
    expect(stats.freeBlocks).toBe(free.length);
    expect(stats.freeBytes).toBe(free.reduce((n, b) => n + b.size, 0));
    expect(stats.largestFreeBlock).toBe(Math.max(...free.map((b) => b.size)));
    expect(heap.usage().largestFreeBlock).toBe(stats.largestFreeBlock);
    heap.check();
  });

  it("names the block when a tree link is broken", () => {
    const heap = createHeap({ strategy: firstFit(), size: 1 << 16, cache: false });
    twoHoles(heap, 100, 300);
    heap.check();
    // point the root's left link back at the root: a cycle, and a key out of address order
    const u32 = heap.memory.u32;
    const root = u32[(heap.regionBase + ENGINE_HEADER_BYTES) >> 2]; // the region, then the engine's header
    u32[(root + 4) >> 2] = root;
    expect(() => heap.check()).toThrow(
      new HeapCorruptionError(root, "the address tree is out of address order"),
    );
  });

  it("keeps the LIFO variant on a list, as before", () => {
    const heap = createHeap({ strategy: firstFit({ order: "lifo" }), size: 1 << 16, cache: false });
    const [, b] = twoHoles(heap, 40, 40);
    expect(heap.malloc(40)).toBe(b); // the last freed comes first
    expect(heap.strategy).toBe("first-fit-lifo");
  });
});

describe("next-fit (address tree and rover)", () => {
  it("takes the lowest fitting block at or after the rover, else wraps, as a scan of the heap would", () => {
    expectPlacementsOfScan(nextFit, true);
  });

  it("moves the rover to the start of a free block that comes to cover it", () => {
    const heap = createHeap({ strategy: nextFit(), size: 1 << 16, cache: false });
    const p1 = heap.malloc(40);
    const x = heap.malloc(40);
    heap.malloc(40);
    const y = heap.malloc(200);
    heap.malloc(40);
    heap.free(x);
    heap.free(y);
    expect(heap.malloc(40)).toBe(x); // the search takes x's block: the rover is there now
    heap.free(p1);
    heap.free(x); // x's block merges with p1's, which starts below the rover
    // from the rover's old address the first fit would be y's block; from the merged block's start it is p1's
    expect(heap.malloc(60)).toBe(p1);
    heap.check();
  });
});
