// The usable bytes every registered strategy reports on the way — `lastUsableSize` after every
// malloc, realloc and memalign, `free`'s result — against `usableSize`, over random sequences of
// operations with sizes small and large (pymalloc's pools and its fallback, the buddy orders, the
// boundary-tag paths: split or whole, growth at the top, realloc in place or moving, memalign).
import type { AllocatorEngine } from "@heapkit/contract";
import { fixedRegion } from "@heapkit/contract/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { strategyByName, strategyNames } from "../src/index.js";

type Step =
  | { kind: "malloc"; size: number }
  | { kind: "free"; index: number }
  | { kind: "realloc"; index: number; size: number }
  | { kind: "memalign"; log: number; size: number };

const size = fc.oneof(
  fc.integer({ min: 0, max: 64 }),
  fc.integer({ min: 0, max: 600 }),
  fc.integer({ min: 0, max: 6000 }),
  fc.integer({ min: 0, max: 70_000 }),
);
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("malloc" as const), size }),
  fc.record({ kind: fc.constant("free" as const), index: fc.nat() }),
  fc.record({ kind: fc.constant("realloc" as const), index: fc.nat(), size: size.map((s) => s + 1) }),
  fc.record({ kind: fc.constant("memalign" as const), log: fc.integer({ min: 4, max: 12 }), size }),
);

/**
 * Replays `steps`: after every successful malloc, realloc and memalign `lastUsableSize` is what
 * `usableSize` says of the block returned; every free returns what `usableSize` said before it and
 * leaves `lastUsableSize` as it was.
 */
function replay(engine: AllocatorEngine, align: number, steps: readonly Step[]): void {
  const live: number[] = [];
  for (const s of steps) {
    if (s.kind === "free") {
      if (live.length === 0) continue;
      const [ptr] = live.splice(s.index % live.length, 1);
      const usable = engine.usableSize(ptr);
      const last = engine.lastUsableSize;
      expect(engine.free(ptr)).toBe(usable);
      expect(engine.lastUsableSize).toBe(last);
      continue;
    }
    let ptr: number;
    if (s.kind === "malloc") ptr = engine.malloc(s.size);
    // the heap asks memalign only for more than its alignment (malloc gives that much)
    else if (s.kind === "memalign") ptr = engine.memalign(Math.max(1 << s.log, 2 * align), s.size);
    else if (live.length === 0) continue;
    else {
      const index = s.index % live.length;
      ptr = engine.realloc(live[index], s.size);
      if (ptr !== 0) live.splice(index, 1);
    }
    if (ptr === 0) continue;
    expect(engine.lastUsableSize).toBe(engine.usableSize(ptr));
    live.push(ptr);
  }
  engine.check();
}

describe("usable bytes on the way", () => {
  for (const name of strategyNames) {
    for (const align of [8, 16] as const) {
      it(`agree with usableSize for ${name}, align ${align}`, () => {
        fc.assert(
          fc.property(fc.array(step, { minLength: 1, maxLength: 120 }), (steps) => {
            replay(strategyByName(name).create(fixedRegion(new ArrayBuffer(1 << 23), align)), align, steps);
          }),
          { numRuns: 60 },
        );
      });
    }
  }
});
