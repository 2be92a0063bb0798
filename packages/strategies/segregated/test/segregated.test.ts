import { HeapCorruptionError } from "@heapkit/contract";
import { createHeap } from "@heapkit/heap";
import { describe, expect, it } from "vitest";
import { CLASS_COUNT, classFloor, segregated, sizeClassOf } from "../src/index.js";

describe("segregated size classes", () => {
  it("has exact classes 8 bytes apart below 512 and one class per power of two above", () => {
    expect(sizeClassOf(16)).toBe(2);
    expect(sizeClassOf(504)).toBe(63);
    expect(sizeClassOf(512)).toBe(64);
    expect(sizeClassOf(1016)).toBe(64);
    expect(sizeClassOf(1024)).toBe(65);
    expect(sizeClassOf(2 ** 30)).toBe(85);
    expect(sizeClassOf(2 ** 31 - 8)).toBeLessThan(CLASS_COUNT);
    for (let c = 2; c < 86; c++) expect(sizeClassOf(classFloor(c))).toBe(c);
  });
});

describe("segregated", () => {
  it("takes an exact-class block first, and the smallest fitting block of a range class", () => {
    const heap = createHeap({ strategy: segregated() });
    const keep: number[] = [];
    const take = (size: number) => {
      const ptr = heap.malloc(size);
      keep.push(heap.malloc(8)); // a used guard, so that frees do not coalesce
      return ptr;
    };
    const small = take(40);
    const big = take(900);
    const mid = take(700);
    const large = take(1000);
    heap.free(small);
    heap.free(big);
    heap.free(mid);
    heap.free(large);
    expect(heap.malloc(40)).toBe(small);
    expect(heap.malloc(650)).toBe(mid); // range class [512, 1024): 700 is the smallest that fits
    heap.check();
  });

  it("takes the first block of the next non-empty class when its own class has none that fits", () => {
    const heap = createHeap({ strategy: segregated({ scan: 1 }) });
    const a = heap.malloc(3000);
    heap.malloc(8);
    heap.free(a);
    expect(heap.malloc(600)).toBe(a);
    heap.check();
  });

  it("reports a bitmap bit that disagrees with its list", () => {
    const heap = createHeap({ strategy: segregated() });
    heap.malloc(100);
    const bitmapWord = (16 + 16) >> 2; // region base 16, then the 16-byte engine header
    heap.memory.u32[bitmapWord + 1] ^= 1 << 3; // class 35 says non-empty, its list is empty
    expect(() => heap.check()).toThrow(/bitmap bit of size class 35/);
  });

  it("reports a damaged free-block footer as HeapCorruptionError naming the block", () => {
    const heap = createHeap({ strategy: segregated() });
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
