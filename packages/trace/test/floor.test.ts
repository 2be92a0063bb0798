import { createHeap } from "@heapkit/heap";
import { strategyByName } from "@heapkit/strategies";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { blockWithHeader, blockWithoutHeader, fragmentationFloor, replay } from "../src/node.js";
import { fixture } from "./helpers.js";

const rep = (ops: string[]): { name: string; data: string } => ({
  name: "floor.rep",
  data: `0\n100\n${ops.length}\n1\n${ops.join("\n")}\n`,
});

describe("fragmentationFloor", () => {
  it("takes the live set at the peak, computed by hand", async () => {
    // live payload: 1, 9, 21 (peak, after 3 events), 20, 120 is not reached: the free comes first
    // blocks at the peak: 1, 8 and 12 bytes → with a header 16 + 16 + 16, headerless 8 + 8 + 16
    const floor = await fragmentationFloor(rep(["a 0 1", "a 1 8", "a 2 12", "f 0", "f 2", "a 3 12"]));
    expect(floor).toMatchObject({ events: 6, peakLiveBytes: 21, peakLiveOp: 3, liveBlocks: 3 });
    expect(floor.header).toBeCloseTo(48 / 21 - 1, 12);
    expect(floor.headerless).toBeCloseTo(32 / 21 - 1, 12);
  });

  it("follows reallocs, and a realloc at the peak counts with its new size", async () => {
    const floor = await fragmentationFloor(rep(["a 0 100", "r 0 200", "a 1 8", "f 0", "a 2 50"]));
    expect(floor).toMatchObject({ peakLiveBytes: 208, peakLiveOp: 3, liveBlocks: 2 });
    expect(floor.header).toBeCloseTo((208 + 16) / 208 - 1, 12);
    expect(floor.headerless).toBeCloseTo((200 + 8) / 208 - 1, 12);
  });

  it("is 0 for a trace that never holds a byte", async () => {
    const floor = await fragmentationFloor(rep(["a 0 0", "f 0"]));
    expect(floor).toMatchObject({ peakLiveBytes: 0, liveBlocks: 0, header: 0, headerless: 0 });
  });

  it("bounds every boundary-tag strategy's fragmentation from below", async () => {
    // a strategy with this block format can never beat the floor, on any trace
    const ops = fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 2000 })), {
      minLength: 1,
      maxLength: 200,
    });
    await fc.assert(
      fc.asyncProperty(ops, async (steps) => {
        const lines: string[] = [];
        const live: number[] = [];
        let next = 0;
        for (const [free, size] of steps) {
          if (free && live.length > 0) lines.push(`f ${live.splice(size % live.length, 1)[0]}`);
          else {
            lines.push(`a ${next} ${size}`);
            live.push(next++);
          }
        }
        const trace = rep(lines);
        const floor = await fragmentationFloor(trace);
        for (const name of ["best-fit", "tlsf", "segregated", "first-fit"]) {
          const result = await replay(trace, () => createHeap({ strategy: strategyByName(name) }));
          if (result.peakLiveBytes > 0)
            expect(result.fragmentation).toBeGreaterThanOrEqual(floor.header - 1e-12);
        }
      }),
      { numRuns: 40 },
    );
  });

  it("reads the fixtures of every format alike", async () => {
    const a = await fragmentationFloor(fixture("tiny.rep"));
    const b = await fragmentationFloor(fixture("tiny.jsonl"));
    expect(b).toMatchObject({ peakLiveBytes: a.peakLiveBytes, header: a.header, headerless: a.headerless });
  });

  it("reports its progress over both passes, up to 1", async () => {
    const fractions: number[] = [];
    await fragmentationFloor(fixture("tiny.rep"), { onProgress: (f) => fractions.push(f) });
    expect(fractions.length).toBeGreaterThanOrEqual(2);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(fractions.at(-1)).toBe(1);
  });

  it("rounds blocks as the formats do", () => {
    expect([0, 1, 4, 12, 13, 100].map(blockWithHeader)).toEqual([16, 16, 16, 16, 24, 104]);
    expect([0, 1, 8, 9, 100].map(blockWithoutHeader)).toEqual([8, 8, 8, 16, 104]);
  });
});
