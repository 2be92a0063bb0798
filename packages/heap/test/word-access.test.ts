import { bestFit } from "@heapkit/strategy-best-fit";
import { describe, expect, it } from "vitest";
import { createHeap } from "../src/index.js";
import { watchWordAccess } from "../src/testing.js";

describe("watchWordAccess", () => {
  it("counts each element read and written through u32 and i32, and nothing else", () => {
    const heap = createHeap({ strategy: bestFit(), size: 64 * 1024 });
    const memory = heap.memory;
    const watch = watchWordAccess(memory);
    memory.u32[100] = 7;
    memory.i32[101] = -1;
    expect(memory.u32[100] + memory.i32[101]).toBe(6);
    expect(memory.u32.length).toBe(memory.byteLength >>> 2);
    memory.u8[0] = memory.u8[1]; // bytes are not metadata words
    expect([watch.reads, watch.writes]).toEqual([2, 2]);
    watch.reset();
    expect([watch.reads, watch.writes]).toEqual([0, 0]);
    watch.stop();
  });

  it("sees what an allocator touches, keeps counting across growth, and leaves the heap as it was", () => {
    const heap = createHeap({ strategy: bestFit(), size: 64 * 1024, maxSize: 1 << 20 });
    const watch = watchWordAccess(heap.memory);
    const small = heap.malloc(24);
    const afterMalloc = watch.reads + watch.writes;
    expect(afterMalloc).toBeGreaterThan(0);
    heap.u8(small, 24).fill(9);
    const big = heap.malloc(200 * 1024); // grows the memory: its views are made again
    expect(heap.memory.byteLength).toBeGreaterThan(64 * 1024);
    expect(watch.reads + watch.writes).toBeGreaterThan(afterMalloc);
    const beforeFree = watch.reads + watch.writes;
    heap.free(big);
    expect(watch.reads + watch.writes).toBeGreaterThan(beforeFree);
    heap.check();
    watch.stop();
    const stopped = watch.reads + watch.writes;
    heap.free(small);
    expect(watch.reads + watch.writes).toBe(stopped);
    heap.check();
    expect(heap.stats().liveBlocks).toBe(0);
  });
});
