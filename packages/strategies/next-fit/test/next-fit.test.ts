import { createHeap } from "@heapkit/heap";
import { describe, expect, it } from "vitest";
import { nextFit } from "../src/index.js";

describe("next-fit", () => {
  it("resumes where the last search stopped, then wraps to the lowest fit", () => {
    const heap = createHeap({ cache: false, strategy: nextFit() });
    const blocks = Array.from({ length: 8 }, (_, i) => heap.malloc(i % 2 === 0 ? 100 : 8));
    for (const i of [0, 2, 4, 6]) heap.free(blocks[i]);
    expect(heap.malloc(100)).toBe(blocks[0]);
    expect(heap.malloc(100)).toBe(blocks[2]); // first fit from the rover, not from the bottom
    expect(heap.stats().details.rover).toBe(blocks[2] - 4);
    heap.free(blocks[0]);
    expect(heap.malloc(100)).toBe(blocks[4]); // blocks[0] is free again but below the rover
    expect(heap.malloc(100)).toBe(blocks[6]);
    expect(heap.malloc(100)).toBe(blocks[0]); // nothing fits above the rover: wrap around
    heap.check();
  });

  it("keeps its rover in the heap's memory: a heap attached to the same region resumes from it", () => {
    const heap = createHeap({ cache: false, strategy: nextFit() });
    const blocks = Array.from({ length: 6 }, (_, i) => heap.malloc(i % 2 === 0 ? 100 : 8));
    for (const i of [0, 2, 4]) heap.free(blocks[i]);
    heap.malloc(100);
    heap.malloc(100);
    const rover = heap.stats().details.rover;
    const region = {
      memory: heap.memory,
      base: heap.regionBase,
      brk: heap.regionBase + heap.stats().heapSize,
      limit: heap.memory.byteLength,
      align: 8 as const,
      sbrk: () => -1,
    };
    const attached = nextFit().attach(region);
    expect(attached.stats().details.rover).toBe(rover);
    expect(attached.malloc(100)).toBe(blocks[4]);
  });

  it("has no options", () => {
    expect(nextFit().options).toEqual({});
    expect(nextFit().name).toBe("next-fit");
  });
});
