// The usable bytes buddy reports on the way — `lastUsableSize` after every malloc, realloc and
// memalign, `free`'s result — against `usableSize`: on every path (a split, growth at the top,
// realloc shrinking in place, growing under the break or into free buddies, moving; memalign's
// inner header, whose usable bytes run from the payload to the block's end).
import { type EngineStep, fixedRegion, replayReportingUsable } from "@heapkit/contract/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buddy } from "../src/index.js";

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

describe("buddy's usable bytes on the way", () => {
  for (const align of [8, 16] as const) {
    it(`agree with usableSize over random operations, align ${align}`, () => {
      fc.assert(
        fc.property(fc.array(step, { minLength: 1, maxLength: 150 }), (steps) => {
          replayReportingUsable(buddy().create(fixedRegion(new ArrayBuffer(1 << 22), align)), align, steps);
        }),
      );
    });
  }

  it("follow each realloc path and memalign's inner header", () => {
    const engine = buddy().create(fixedRegion(new ArrayBuffer(1 << 20)));
    const top = engine.malloc(100); // a 128-byte block at the top, at a multiple of 256
    expect(engine.lastUsableSize).toBe(120);
    expect(engine.realloc(top, 200)).toBe(top); // grows under the break
    expect(engine.lastUsableSize).toBe(248);
    const a = engine.realloc(top, 100); // shrinks in place
    expect(a).toBe(top);
    expect(engine.lastUsableSize).toBe(120);
    expect(engine.realloc(a, 20)).toBe(a); // shrinks in place
    expect(engine.lastUsableSize).toBe(24);
    expect(engine.realloc(a, 50)).toBe(a); // grows into its free buddy
    expect(engine.lastUsableSize).toBe(56);
    const b = engine.memalign(256, 10); // 256 + 10 -> a 512-byte block, payload at +256
    expect(engine.lastUsableSize).toBe(256);
    expect(engine.usableSize(b)).toBe(256);
    const c = engine.realloc(b, 300); // an inner header moves
    expect(engine.lastUsableSize).toBe(engine.usableSize(c));
    expect(engine.free(c)).toBe(504);
    expect(engine.lastUsableSize).toBe(504);
    expect(engine.free(a)).toBe(56);
    engine.check();
  });
});
