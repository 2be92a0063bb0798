import { HeapCorruptionError } from "@heapkit/contract";
import { createHeap } from "@heapkit/heap";
import { describe, expect, it } from "vitest";
import {
  classFloor,
  classIndex,
  flOf as fl,
  mappingInsert,
  roundUpToClass,
  slOf as sl,
  tlsf,
} from "../src/index.js";

describe("the TLSF mapping function", () => {
  it("puts small blocks in linear classes of 8 bytes (fl 0)", () => {
    expect(mappingInsert(16, 5)).toBe(2);
    expect(mappingInsert(248, 5)).toBe(31);
  });

  it("cuts each power of two above 256 bytes into 32 classes", () => {
    expect([fl(mappingInsert(256, 5)), sl(mappingInsert(256, 5))]).toEqual([1, 0]);
    expect([fl(mappingInsert(504, 5)), sl(mappingInsert(504, 5))]).toEqual([1, 31]);
    expect([fl(mappingInsert(512, 5)), sl(mappingInsert(512, 5))]).toEqual([2, 0]);
    expect([fl(mappingInsert(1000, 5)), sl(mappingInsert(1000, 5))]).toEqual([2, 30]);
    expect([fl(mappingInsert(2 ** 30, 5)), sl(mappingInsert(2 ** 30, 5))]).toEqual([23, 0]);
  });

  it("maps every size into the class whose floor is at most the size, for every SL count", () => {
    for (const slLog of [1, 2, 3, 4, 5]) {
      for (let size = 16; size < 1 << 20; size += 8 + (size >>> 6)) {
        const aligned = size & ~7;
        const m = mappingInsert(aligned, slLog);
        const floor = classFloor(fl(m), sl(m), slLog);
        expect(floor).toBeLessThanOrEqual(aligned);
        // the next class starts above the size
        const next =
          sl(m) + 1 < 1 << slLog ? classFloor(fl(m), sl(m) + 1, slLog) : classFloor(fl(m) + 1, 0, slLog);
        expect(next).toBeGreaterThan(aligned);
      }
    }
  });

  it("numbers the classes fl · SL + sl in one expression (classIndex), the next class one more", () => {
    for (const slLog of [1, 2, 3, 4, 5]) {
      for (let size = 16; size < 1 << 24; size += 8 + (size >>> 7)) {
        const aligned = size & ~7;
        const m = mappingInsert(aligned, slLog);
        expect(classIndex(aligned, slLog)).toBe((fl(m) << slLog) + sl(m));
        // the search's start: the own class when the size is a class floor, else the next one up
        const start = classIndex(roundUpToClass(aligned, slLog), slLog);
        const own = classIndex(aligned, slLog);
        expect(start).toBe(classFloor(fl(m), sl(m), slLog) === aligned ? own : own + 1);
      }
    }
  });

  it("rounds a search up to a class boundary, so any block of the class found fits", () => {
    for (let size = 16; size < 1 << 20; size += 8 + (size >>> 5)) {
      const search = roundUpToClass(size & ~7, 5);
      const m = mappingInsert(search, 5);
      expect(search).toBeGreaterThanOrEqual(size & ~7);
      expect(classFloor(fl(m), sl(m), 5)).toBeGreaterThanOrEqual(size & ~7);
    }
    expect(roundUpToClass(1000, 5)).toBe(1008);
    expect(roundUpToClass(100, 5)).toBe(100);
  });
});

describe("tlsf", () => {
  it("takes a free block of the right class in O(1) and coalesces on free", () => {
    const heap = createHeap({ cache: false, strategy: tlsf() });
    const a = heap.malloc(1000);
    const guard = heap.malloc(16);
    const b = heap.malloc(3000);
    heap.malloc(16);
    heap.free(a);
    heap.free(b);
    expect(heap.malloc(900)).toBe(a); // a's 1008-byte block: the class at or above the search size
    heap.free(guard); // merges a's remainder, guard and b into one free block
    heap.check();
    expect(heap.stats().freeBlocks).toBe(1);
  });

  it("serves memalign with any power-of-two alignment", () => {
    const heap = createHeap({ cache: false, strategy: tlsf(), align: 16 });
    for (const alignment of [32, 64, 4096, 65536]) {
      const ptr = heap.memalign(alignment, 100);
      expect(ptr % alignment).toBe(0);
    }
    heap.check();
  });

  it("works with fewer second-level classes and rejects counts that are not 2..32", () => {
    const heap = createHeap({ cache: false, strategy: tlsf({ secondLevel: 4 }) });
    const ptrs = Array.from({ length: 200 }, (_, i) => heap.malloc(8 + ((i * 37) % 3000)));
    for (const ptr of ptrs.filter((_, i) => i % 3 === 0)) heap.free(ptr);
    heap.check();
    expect(heap.stats().details.secondLevel).toBe(4);
    expect(() => tlsf({ secondLevel: 64 as 32 })).toThrow(RangeError);
  });

  it("reports a first-level bitmap that disagrees with the second level", () => {
    const heap = createHeap({ cache: false, strategy: tlsf() });
    const a = heap.malloc(100);
    heap.malloc(100);
    heap.free(a);
    heap.check();
    const flWord = (heap.regionBase + 16) >> 2; // the region, then the 16-byte engine header: the FL map
    const u32 = heap.memory.u32;
    u32[flWord] ^= 1 << 7;
    expect(() => heap.check()).toThrow(/FL bitmap bit 7/);
    u32[flWord] ^= 1 << 7;
    heap.check();
  });

  it("reports a damaged block header as HeapCorruptionError naming the block", () => {
    const heap = createHeap({ cache: false, strategy: tlsf() });
    const a = heap.malloc(64);
    heap.malloc(64);
    const u32 = heap.memory.u32;
    u32[(a - 4) >> 2] = 12345;
    let error: unknown;
    try {
      heap.check();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(HeapCorruptionError);
    expect((error as HeapCorruptionError).offset).toBe(a - 4);
  });
});
