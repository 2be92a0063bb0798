/**
 * The single-thread cell end to end on a small W and on pairs: a strategy's row, and the same strategy
 * as `strategy/cache`, whose heap has its front cache on (blocks left in the cache after the last run).
 *
 * The cell runs as plain node, which runs no TypeScript: esbuild bundles it from the sources (through
 * the "@heapkit/source" condition) into a temporary folder first.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CellResult, CellSpec } from "../src/cell.js";
import { generateRandom } from "../src/random-workload.js";
import { writeWorkload } from "../src/workload-format.js";
import { bundleCells } from "./bundle.js";

let dir: string;
let file: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "bench-cell-"));
  await bundleCells(["cell.ts"], dir);
  file = join(dir, "W.bin");
  writeWorkload(file, generateRandom({ name: "W", ops: 20_000, maxLive: 400, seed: 7 }));
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runCell(spec: CellSpec): CellResult {
  const out = spawnSync(process.execPath, ["--expose-gc", join(dir, "cell.js"), JSON.stringify(spec)], {
    encoding: "utf8",
    timeout: 90_000,
  });
  if (out.status !== 0) throw new Error(`cell exited with ${out.status}: ${out.stderr}`);
  return JSON.parse(out.stdout) as CellResult;
}

describe("a heapkit cell with the front cache", () => {
  it("replays W as tlsf/cache with the cache on, and as tlsf with it off, each with its utilization", () => {
    const common = { workload: "W", kind: "replay", file, runs: 1, budgetMs: 60_000 } as const;
    const bare = runCell({ ...common, impl: "tlsf" });
    const cached = runCell({ ...common, impl: "tlsf/cache" });
    expect(cached).toMatchObject({ impl: "tlsf/cache", workload: "W", opsTotal: 20_000, opsTimed: 20_000 });
    for (const r of [bare, cached]) {
      expect(r.utilization).toBeGreaterThan(0);
      expect(r.utilization).toBeLessThanOrEqual(1);
    }
    // W ends by freeing every block: the small ones stay in tlsf/cache's front cache, none in tlsf's
    expect(bare.extra.cachedBytes).toBe(0);
    expect(cached.extra.cachedBytes).toBeGreaterThan(0);
    // the words-per-call figures are the bare strategy's alone
    expect(bare.extra.wordsPerCallMean).toBeGreaterThan(0);
    expect(cached.extra.wordsPerCallMean).toBeUndefined();
  }, 120_000);

  it("replays W over the default reserved memory, and as tlsf/resize over a resizable one, to the same heap", () => {
    const common = { workload: "W", kind: "replay", file, runs: 1, budgetMs: 60_000 } as const;
    const reserved = runCell({ ...common, impl: "tlsf" });
    const resized = runCell({ ...common, impl: "tlsf/resize" });
    expect(reserved.extra.memoryKind).toBe("array-buffer");
    expect(resized.extra.memoryKind).toBe("resizable-array-buffer");
    expect(resized).toMatchObject({
      impl: "tlsf/resize",
      opsTimed: 20_000,
      utilization: reserved.utilization,
    });
    expect(resized.extra.peakHeapBytes).toBe(reserved.extra.peakHeapBytes);
  }, 120_000);

  it("runs pairs as tlsf/cache, the freed block left in the cache", () => {
    const r = runCell({
      impl: "tlsf/cache",
      workload: "pairs",
      kind: "pairs",
      pairs: 10_000,
      runs: 1,
      budgetMs: 1000,
    });
    expect(r).toMatchObject({ impl: "tlsf/cache", workload: "pairs", opsTotal: 20_000, utilization: null });
    expect(r.extra.cachedBytes).toBeGreaterThanOrEqual(64);
  }, 120_000);
});
