/**
 * The multi-worker family end to end, on a small W: each implementation's cell replays every
 * operation of every worker's share and counts the hand-offs, and the heapkit cell checks its heap is
 * whole and empty after each run (multi-worker-cell.ts throws otherwise).
 *
 * The cell and its worker run as plain node, which runs no TypeScript: esbuild bundles them from the
 * sources (through the "@heapkit/source" condition) into a temporary folder first.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CellResult } from "../src/cell.js";
import type { MultiWorkerCellSpec } from "../src/multi-worker-cell.js";
import { buildReplay, runGlibc } from "../src/native.js";
import { generateRandom } from "../src/random-workload.js";
import { buildSharedMemoryObjects } from "../src/shared-memory-objects.js";
import { rowFromRuns } from "../src/stats.js";
import { OP_HAND_OFF, type SplitWorkload, splitWorkload, writeSplitWorkload } from "../src/worker-split.js";
import { OP_ALLOC, OP_FREE } from "../src/workload-format.js";
import { bundleCells } from "./bundle.js";

const source = (file: string): string => fileURLToPath(new URL(`../src/${file}`, import.meta.url));

let dir: string;
let split: SplitWorkload;
let splitFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "bench-multi-worker-"));
  await bundleCells(["multi-worker-cell.ts", "multi-worker-thread.ts"], dir);
  split = splitWorkload(generateRandom({ name: "W", ops: 20_000, maxLive: 400, seed: 11 }), 2);
  splitFile = join(dir, "Wx2.bin");
  writeSplitWorkload(splitFile, split);
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runCell(spec: MultiWorkerCellSpec): CellResult {
  const out = spawnSync(
    process.execPath,
    ["--expose-gc", join(dir, "multi-worker-cell.js"), JSON.stringify(spec)],
    {
      encoding: "utf8",
      timeout: 90_000,
    },
  );
  if (out.status !== 0) throw new Error(`cell exited with ${out.status}: ${out.stderr}`);
  return JSON.parse(out.stdout) as CellResult;
}

const handOffs = (): number =>
  split.shares.reduce((sum, s) => sum + s.ops.filter((op) => (op & 3) === OP_HAND_OFF).length, 0);

describe("a multi-worker cell", () => {
  for (const impl of ["tlsf", "tlsf/global-lock", "buddy"]) {
    it(`replays the whole of W over 2 workers on ${impl}'s shared heap`, () => {
      const r = runCell({ impl, workload: "Wx2", file: splitFile, runs: 2, budgetMs: 60_000 });
      expect(r).toMatchObject({ impl, workload: "Wx2", opsTotal: 20_000, opsTimed: 20_000 });
      expect(r.seconds).toHaveLength(2);
      expect(r.extra.crossWorkerFrees).toBe(handOffs());
      expect(r.utilization).toBeGreaterThan(0);
      expect(r.utilization).toBeLessThanOrEqual(1);
      // live util: the heap's own peak live bytes over the same high-water mark
      const row = rowFromRuns(r.impl, r.workload, r.opsTimed, r.opsTotal, r.seconds, r.utilization, r.extra);
      expect(r.extra.heapPeakLiveBytes).toBeGreaterThan(0);
      expect(row.liveUtilization).toBe(
        (r.extra.heapPeakLiveBytes as number) / (r.extra.peakHeapBytes as number),
      );
      expect(row.liveUtilization).toBeGreaterThan(0);
      expect(row.liveUtilization).toBeLessThanOrEqual(1);
    }, 120_000);
  }

  it("replays it on shared-memory-objects, bundled from its source", async () => {
    const smo = await buildSharedMemoryObjects(dir);
    expect(smo.bundle).not.toBeNull();
    const r = runCell({
      impl: "shared-memory-objects",
      workload: "Wx2",
      file: splitFile,
      runs: 1,
      budgetMs: 60_000,
      bundle: smo.bundle ?? undefined,
    });
    expect(r).toMatchObject({ opsTotal: 20_000, opsTimed: 20_000 });
    expect(r.extra.crossWorkerFrees).toBe(handOffs());
    // it reports no live bytes of its own: no live util
    expect(r.extra.heapPeakLiveBytes).toBeUndefined();
    expect(
      rowFromRuns(r.impl, r.workload, r.opsTimed, r.opsTotal, r.seconds, null, r.extra).liveUtilization,
    ).toBeNull();
  }, 120_000);

  it("stops, naming the implementation, the workload and the worker's error, when a worker fails", () => {
    // one allocation larger than the heap may ever grow: worker 0 fails, worker 1 must not wait forever
    const failing = splitWorkload(
      {
        name: "W",
        ops: Int32Array.of(OP_ALLOC, OP_FREE),
        sizes: Int32Array.of(2_000_000_000, 0),
        slots: 1,
        peakLiveBytes: 0,
        fillEnd: 0,
      },
      2,
    );
    const file = join(dir, "failing.bin");
    writeSplitWorkload(file, failing);
    expect(() => runCell({ impl: "tlsf", workload: "Wx2", file, runs: 1, budgetMs: 60_000 })).toThrow(
      /exited with 1: .*tlsf × Wx2: .*(worker 0|2000000000)/s,
    );
  }, 120_000);
});

describe("glibc's threaded replay", () => {
  const replay = buildReplay(source("../native/replay.c"), mkdtempSync(join(tmpdir(), "bench-replay-")));
  it.skipIf(replay.binary === null)("replays the same split over 2 pthreads", () => {
    const row = runGlibc(
      replay.binary as string,
      { kind: "multi-worker", name: "Wx2", description: "", workers: 2, file: splitFile },
      2,
    );
    expect(row).toMatchObject({
      impl: "glibc",
      workload: "Wx2",
      opsTimed: 20_000,
      opsTotal: 20_000,
      runs: 2,
    });
    expect(row.utilization).toBeGreaterThan(0);
    expect(row.utilization).toBeLessThanOrEqual(1);
  });
});
