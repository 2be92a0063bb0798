import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateRandom } from "../src/random-workload.js";
import { tracesDir } from "../src/traces.js";
import { OP_ALLOC, OP_FREE, readWorkload, validateWorkload, writeWorkload } from "../src/workload-format.js";

describe("generateRandom", () => {
  it("makes balanced workloads of exactly the ops asked, never above the cap", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 4000 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer(),
        (ops, maxLive, seed) => {
          const w = validateWorkload(generateRandom({ name: "t", ops, maxLive, seed }));
          expect(w.ops.length).toBe(ops - (ops & 1));
          let live = 0;
          let maxLiveSeen = 0;
          let bytes = 0;
          let peak = 0;
          let smallest = Number.POSITIVE_INFINITY;
          let largest = 0;
          const sizeOf = new Int32Array(w.slots);
          for (let i = 0; i < w.ops.length; i++) {
            const slot = w.ops[i] >>> 2;
            if ((w.ops[i] & 3) === OP_ALLOC) {
              live++;
              sizeOf[slot] = w.sizes[i];
              bytes += w.sizes[i];
              smallest = Math.min(smallest, w.sizes[i]);
              largest = Math.max(largest, w.sizes[i]);
            } else if ((w.ops[i] & 3) === OP_FREE) {
              live--;
              bytes -= sizeOf[slot];
            }
            maxLiveSeen = Math.max(maxLiveSeen, live);
            peak = Math.max(peak, bytes);
          }
          expect(maxLiveSeen).toBeLessThanOrEqual(maxLive);
          expect(smallest).toBeGreaterThanOrEqual(8);
          expect(largest).toBeLessThanOrEqual(4096);
          expect(w.peakLiveBytes).toBe(peak);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("gives the same workload for the same seed", () => {
    const a = generateRandom({ name: "a", ops: 2000, maxLive: 50, seed: 7 });
    const b = generateRandom({ name: "b", ops: 2000, maxLive: 50, seed: 7 });
    expect(b.ops).toEqual(a.ops);
    expect(b.sizes).toEqual(a.sizes);
  });
});

describe("validateWorkload", () => {
  it("rejects a free of a slot that is not live", () => {
    const w = {
      name: "bad",
      ops: Int32Array.of((0 << 2) | OP_FREE),
      sizes: Int32Array.of(0),
      slots: 1,
      peakLiveBytes: 0,
      fillEnd: 0,
    };
    expect(() => validateWorkload(w)).toThrow("bad: op 0 frees or reallocs dead slot 0");
  });
});

describe("the workload file", () => {
  it("reads back what was written", () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-"));
    try {
      const w = generateRandom({ name: "W-t", ops: 5000, maxLive: 100, seed: 3 });
      writeWorkload(join(dir, "w.bin"), w);
      const r = readWorkload(join(dir, "w.bin"), "W-t");
      expect(r.ops).toEqual(w.ops);
      expect(r.sizes).toEqual(w.sizes);
      expect(r).toMatchObject({ slots: w.slots, peakLiveBytes: w.peakLiveBytes, fillEnd: w.fillEnd });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("tracesDir", () => {
  it("reads the repository's own traces/real unless HEAPKIT_TRACES is set", () => {
    expect(tracesDir("/repo", {})).toBe(join("/repo", "traces", "real"));
    expect(tracesDir("/repo", { HEAPKIT_TRACES: "" })).toBe(join("/repo", "traces", "real"));
    expect(tracesDir("/repo", { HEAPKIT_TRACES: "/elsewhere/t" })).toBe("/elsewhere/t");
  });
});
