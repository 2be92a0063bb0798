import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateRandom } from "../src/random-workload.js";
import {
  HAND_OFF_EVERY,
  OP_HAND_OFF,
  readSplitWorkload,
  splitWorkload,
  writeSplitWorkload,
} from "../src/worker-split.js";
import { OP_ALLOC, OP_FREE, OP_REALLOC } from "../src/workload-format.js";

describe("splitWorkload", () => {
  it("gives each op of W to one worker, in W's order, and hands one free in four to the next worker", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 2000 }),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer(),
        (ops, maxLive, workers, seed) => {
          const w = generateRandom({ name: "W", ops, maxLive, seed });
          const split = splitWorkload(w, workers);
          expect(split.shares.length).toBe(workers);
          expect(split.totalOps).toBe(w.ops.length);
          // W replayed from the shares: each op must be the next of its worker's share
          const at = new Array(workers).fill(0);
          let frees = 0;
          let handOffs = 0;
          const wrong: string[] = [];
          for (let i = 0; i < w.ops.length && wrong.length === 0; i++) {
            const slot = w.ops[i] >>> 2;
            const k = slot % workers;
            const share = split.shares[k];
            const op = share.ops[at[k]];
            let kind: number = OP_ALLOC;
            if ((w.ops[i] & 3) !== OP_ALLOC) {
              frees++;
              kind = frees % HAND_OFF_EVERY === 0 ? OP_HAND_OFF : OP_FREE;
              if (kind === OP_HAND_OFF) handOffs++;
            }
            const size = kind === OP_ALLOC ? w.sizes[i] : 0;
            if (op !== ((Math.floor(slot / workers) << 2) | kind) || share.sizes[at[k]] !== size)
              wrong.push(`op ${i}: worker ${k} has ${op} (size ${share.sizes[at[k]]})`);
            if (op >>> 2 >= share.slots) wrong.push(`op ${i}: slot ${op >>> 2} ≥ ${share.slots}`);
            at[k]++;
          }
          expect(wrong).toEqual([]);
          expect(at).toEqual(split.shares.map((s) => s.ops.length));
          expect(handOffs).toBe(Math.floor(frees / HAND_OFF_EVERY));
        },
      ),
      { numRuns: 40 },
    );
  });

  it("rejects a realloc and a worker count that is not a whole number ≥ 1", () => {
    const w = generateRandom({ name: "W", ops: 100, maxLive: 10, seed: 1 });
    expect(() => splitWorkload(w, 0)).toThrow("workers must be a whole number ≥ 1, got 0");
    const withRealloc = {
      ...w,
      ops: Int32Array.of(OP_ALLOC, OP_REALLOC, OP_FREE),
      sizes: Int32Array.of(8, 16, 0),
    };
    expect(() => splitWorkload(withRealloc, 2)).toThrow("op 1 is a realloc");
  });

  it("reads back the file it writes", () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-split-"));
    try {
      const split = splitWorkload(generateRandom({ name: "W", ops: 4000, maxLive: 100, seed: 9 }), 3);
      writeSplitWorkload(join(dir, "s.bin"), split);
      const back = readSplitWorkload(join(dir, "s.bin"));
      expect(back.totalOps).toBe(split.totalOps);
      expect(back.peakLiveBytes).toBe(split.peakLiveBytes);
      back.shares.forEach((share, k) => {
        expect(share.ops).toEqual(split.shares[k].ops);
        expect(share.sizes).toEqual(split.shares[k].sizes);
        expect(share.slots).toBe(split.shares[k].slots);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
