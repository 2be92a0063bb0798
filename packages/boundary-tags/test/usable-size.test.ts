// The usable bytes an engine reports on the way — `lastUsableSize` after every malloc, realloc and
// memalign, `free`'s result — against `usableSize`, over random sequences of operations, for the
// mechanism over a free list and over the address tree (each path that hands out a block: a split
// or a whole block, growth at the top, realloc in place shrinking or growing into its neighbour or
// under the break, realloc by moving, memalign aligned or with a leading gap).
import type { Region } from "@heapkit/contract";
import { type EngineStep, fixedRegion, replayReportingUsable } from "@heapkit/contract/testing";
import fc from "fast-check";
import { describe, it } from "vitest";
import {
  AddressTreeEngine,
  BoundaryTagEngine,
  NEXT,
  policyId,
  pushFront,
  SIZE_MASK,
  unlink,
} from "../src/index.js";

/** First fit over one LIFO list: the smallest policy the mechanism takes. */
class ListEngine extends BoundaryTagEngine {
  readonly strategy = "test-list";
  protected readonly listHeads: number;
  protected readonly listCount = 1;

  constructor(region: Region) {
    super(region, 4, policyId("first-fit-lifo"));
    this.listHeads = this.meta;
  }

  protected insertFree(u32: Uint32Array, block: number): void {
    pushFront(u32, this.meta, block);
  }

  protected removeFree(u32: Uint32Array, block: number): void {
    unlink(u32, this.meta, block);
  }

  protected takeFree(u32: Uint32Array, size: number): number {
    let block = u32[this.meta >> 2];
    while (block !== 0 && (u32[block >> 2] & SIZE_MASK) < size) block = u32[(block + NEXT) >> 2];
    if (block !== 0) unlink(u32, this.meta, block);
    return block;
  }
}

/** The address tree's first fit, as the mechanism's tree base gives it. */
class TreeEngine extends AddressTreeEngine {
  readonly strategy = "test-tree";
  constructor(region: Region) {
    super(region, 4, policyId("first-fit"));
  }
}

const size = fc.oneof(
  fc.integer({ min: 0, max: 64 }),
  fc.integer({ min: 0, max: 600 }),
  fc.integer({ min: 0, max: 6000 }),
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

describe("usable bytes on the way", () => {
  for (const [name, make] of [
    ["a list policy", (region: Region) => new ListEngine(region).format()],
    ["the address tree", (region: Region) => new TreeEngine(region).format()],
  ] as const) {
    for (const align of [8, 16] as const) {
      it(`agree with usableSize over ${name}, align ${align}`, () => {
        fc.assert(
          fc.property(fc.array(step, { minLength: 1, maxLength: 150 }), (steps) => {
            replayReportingUsable(make(fixedRegion(new ArrayBuffer(1 << 20), align)), align, steps);
          }),
        );
      });
    }
  }
});
