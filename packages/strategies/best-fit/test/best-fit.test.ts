import { type AllocatorEngine, HeapCorruptionError } from "@heapkit/contract";
import { fixedRegion } from "@heapkit/contract/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bestFit } from "../src/index.js";

const regionOver = (bytes: number) => fixedRegion(new ArrayBuffer(bytes));

/** The block size that holds `size` payload bytes with 8-byte alignment: a header word, at least 16. */
const blockSizeFor = (size: number) => Math.max((size + 4 + 7) & ~7, 16);

/** The smallest free block of at least `want` bytes, by a walk of the heap; undefined if none. */
function smallestFit(engine: AllocatorEngine, want: number): number | undefined {
  let best: number | undefined;
  for (const block of engine.blocks()) {
    if (block.state === "free" && block.size >= want && (best === undefined || block.size < best))
      best = block.size;
  }
  return best;
}

describe("best-fit", () => {
  it("takes a block of the smallest size that fits, as a walk of the heap would find", () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant("malloc" as const), size: fc.integer({ min: 1, max: 3000 }) }),
      fc.record({ kind: fc.constant("free" as const), index: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 120 }), (steps) => {
        const engine = bestFit().create(regionOver(1 << 20));
        const live: number[] = [];
        for (const s of steps) {
          if (s.kind === "free") {
            if (live.length > 0) engine.free(live.splice(s.index % live.length, 1)[0]);
            continue;
          }
          const want = blockSizeFor(s.size);
          const expected = smallestFit(engine, want);
          const freeBefore = [...engine.blocks()].filter((b) => b.state === "free").map((b) => b.offset);
          const ptr = engine.malloc(s.size);
          live.push(ptr);
          if (expected !== undefined) {
            // the block taken was a free block of the best size (split down to the request)
            expect(freeBefore).toContain(ptr - 4);
            const taken = [...engine.blocks()].find((b) => b.offset === ptr - 4);
            expect(taken?.size).toBeLessThanOrEqual(expected);
          }
        }
        engine.check();
      }),
    );
  });

  it("prefers an exact fit to a larger block freed later", () => {
    const engine = bestFit().create(regionOver(1 << 16));
    const exact = engine.malloc(100);
    engine.malloc(8);
    const larger = engine.malloc(400);
    engine.malloc(8);
    engine.free(exact);
    engine.free(larger);
    expect(engine.malloc(100)).toBe(exact);
    expect(engine.stats().details.bins).toBe(320);
  });

  it("reports a bin bitmap bit that disagrees with its list", () => {
    const region = regionOver(1 << 16);
    const engine = bestFit().create(region);
    const a = engine.malloc(40);
    engine.malloc(8);
    engine.free(a);
    engine.check();
    const bitmapWord = (region.base + 16) >> 2; // the policy's metadata starts after the 16-byte engine header
    region.memory.u32[bitmapWord] ^= 1 << 9; // bin 9 (72-byte blocks) is empty
    expect(() => engine.check()).toThrow(HeapCorruptionError);
    expect(() => engine.check()).toThrow(/bin 9/);
  });
});
