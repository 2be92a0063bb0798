// The usable bytes pymalloc reports on the way — `lastUsableSize` after every malloc, realloc and
// memalign, `free`'s result — against `usableSize`: for small blocks (a pool's free list, a virgin
// block, a new pool, a new arena; realloc in place or moving) and for the fallback's blocks, whose
// figures pymalloc forwards (requests of 0 or more than 512 bytes, memalign, realloc of them).
import { type EngineStep, fixedRegion, replayReportingUsable } from "@heapkit/contract/testing";
import { tlsf } from "@heapkit/strategy-tlsf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { pymalloc } from "../src/index.js";

const size = fc.oneof(
  fc.integer({ min: 0, max: 64 }),
  fc.integer({ min: 0, max: 600 }),
  fc.integer({ min: 0, max: 6000 }),
  fc.integer({ min: 0, max: 70_000 }),
);
const step: fc.Arbitrary<EngineStep> = fc.oneof(
  fc.record({ kind: fc.constant("malloc" as const), size }),
  fc.record({ kind: fc.constant("free" as const), index: fc.nat() }),
  fc.record({ kind: fc.constant("realloc" as const), index: fc.nat(), size: size.map((s) => s + 1) }),
  fc.record({
    kind: fc.constant("memalign" as const),
    alignment: fc.integer({ min: 4, max: 12 }).map((log) => 1 << log),
    size,
  }),
);

describe("pymalloc's usable bytes on the way", () => {
  for (const align of [8, 16] as const) {
    it(`agree with usableSize over random operations, small arenas, align ${align}`, () => {
      fc.assert(
        fc.property(fc.array(step, { minLength: 1, maxLength: 200 }), (steps) => {
          const strategy = pymalloc({ fallback: tlsf(), arenaSize: 16 * 1024, poolSize: 4096 });
          replayReportingUsable(strategy.create(fixedRegion(new ArrayBuffer(1 << 22), align)), align, steps);
        }),
      );
    });
  }

  it("forward the fallback's figures and give a small block its class's size", () => {
    const engine = pymalloc({ fallback: tlsf() }).create(fixedRegion(new ArrayBuffer(1 << 23)));
    const small = engine.malloc(20);
    expect(engine.lastUsableSize).toBe(32);
    const big = engine.malloc(1000);
    expect(engine.lastUsableSize).toBe(engine.usableSize(big));
    expect(engine.lastUsableSize).toBeGreaterThanOrEqual(1000);
    expect(engine.realloc(small, 30)).toBe(small); // in place: no saving of 25 %
    expect(engine.lastUsableSize).toBe(32);
    const moved = engine.realloc(small, 8); // moves: saves 75 %
    expect(engine.lastUsableSize).toBe(16);
    const grown = engine.realloc(big, 3000); // the fallback's realloc
    expect(engine.lastUsableSize).toBe(engine.usableSize(grown));
    const aligned = engine.memalign(64, 100);
    expect(engine.lastUsableSize).toBe(engine.usableSize(aligned));
    const last = engine.lastUsableSize;
    const grownUsable = engine.usableSize(grown);
    expect(engine.free(grown)).toBe(grownUsable);
    expect(engine.free(moved)).toBe(16);
    expect(engine.lastUsableSize).toBe(last);
    engine.check();
  });
});
