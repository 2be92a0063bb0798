import { HeapCorruptionError } from "@heapkit/contract";
import { createHeap } from "@heapkit/heap";
import { describe, expect, it } from "vitest";
import { CLASS_COUNT, classFloor, segregated, sizeClassOf } from "../src/index.js";

describe("segregated size classes", () => {
  it("has exact classes 8 bytes apart below 1 KiB and eight classes per power of two above", () => {
    expect(sizeClassOf(16)).toBe(2);
    expect(sizeClassOf(1016)).toBe(127);
    expect(sizeClassOf(1024)).toBe(128);
    expect(sizeClassOf(1144)).toBe(128);
    expect(sizeClassOf(1152)).toBe(129);
    expect(sizeClassOf(2048)).toBe(136);
    expect(sizeClassOf(2 ** 31 - 8)).toBeLessThan(CLASS_COUNT);
    for (let c = 2; c < 296; c++) expect(sizeClassOf(classFloor(c))).toBe(c);
  });
});

describe("segregated", () => {
  const guarded = (heap: ReturnType<typeof createHeap>) => (size: number) => {
    const ptr = heap.malloc(size);
    heap.malloc(8); // a used guard, so that frees do not coalesce
    return ptr;
  };

  it("takes an exact-class block first, and the smallest fitting block of a range class", () => {
    const heap = createHeap({ cache: false, strategy: segregated() });
    const take = guarded(heap);
    const small = take(40);
    const a = take(1140); // blocks of 1144, 1064 and 1104 bytes: all in class [1024, 1152)
    const b = take(1060);
    const c = take(1100);
    for (const ptr of [small, a, b, c]) heap.free(ptr);
    expect(heap.malloc(40)).toBe(small);
    expect(heap.malloc(1050)).toBe(b); // the list is c, b, a: b is the smallest that fits
    heap.check();
  });

  it("examines at most `scan` blocks of a range class", () => {
    const heap = createHeap({ cache: false, strategy: segregated({ scan: 1 }) });
    const take = guarded(heap);
    const a = take(1140);
    const b = take(1060);
    const c = take(1100);
    for (const ptr of [a, b, c]) heap.free(ptr);
    expect(heap.malloc(1050)).toBe(c); // the head fits: with scan 1 it is taken
    heap.check();
  });

  it("takes the first block of the next non-empty class when its own class has none that fits", () => {
    const heap = createHeap({ cache: false, strategy: segregated({ scan: 1 }) });
    const a = heap.malloc(3000);
    heap.malloc(8);
    heap.free(a);
    expect(heap.malloc(600)).toBe(a);
    heap.check();
  });

  it("reports a bitmap bit that disagrees with its list", () => {
    const heap = createHeap({ cache: false, strategy: segregated() });
    heap.malloc(100);
    const bitmapWord = (heap.regionBase + 16) >> 2; // the region, then the 16-byte engine header
    heap.memory.u32[bitmapWord + 1] ^= 1 << 3; // class 35 says non-empty, its list is empty
    expect(() => heap.check()).toThrow(/bitmap bit of size class 35/);
  });

  it("reports a damaged free-block footer as HeapCorruptionError naming the block", () => {
    const heap = createHeap({ cache: false, strategy: segregated() });
    const a = heap.malloc(200);
    heap.malloc(8);
    heap.free(a);
    const block = a - 4;
    const size = heap.memory.u32[block >> 2] & ~7;
    heap.memory.u32[(block + size - 4) >> 2] = 8;
    expect(() => heap.check()).toThrow(HeapCorruptionError);
    expect(() => heap.check()).toThrow(/footer/);
  });

  it("rejects a scan outside 1..255", () => {
    expect(() => segregated({ scan: 0 })).toThrow(RangeError);
  });
});
