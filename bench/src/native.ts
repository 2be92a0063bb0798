/**
 * The glibc peer: bench/native/replay.c, compiled with the system's C compiler into bench/.cache
 * (once per source version), fed the same workload files as the JS cells.
 *
 * @module
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { PreparedWorkload } from "./prepared-workload.js";
import { type Row, rowFromRuns } from "./stats.js";

/** The compiled replay program, or why there is none. */
export interface ReplayBuild {
  /** Path of the executable, or null. */
  binary: string | null;
  /** What happened. */
  message: string;
}

/** Flags: optimized, threads, and no built-in malloc/free so the compiler cannot drop a malloc+free pair. */
export const CFLAGS = ["-O2", "-pthread", "-fno-builtin-malloc", "-fno-builtin-free", "-fno-builtin-realloc"];

/** Compiles `source` into `cacheDir` unless a binary of the same source and flags is there. */
export function buildReplay(source: string, cacheDir: string): ReplayBuild {
  const text = readFileSync(source);
  const hash = createHash("sha256").update(text).update(CFLAGS.join(" ")).digest("hex").slice(0, 12);
  const binary = join(cacheDir, `replay-${hash}`);
  if (existsSync(binary)) return { binary, message: "cached" };
  const cc = process.env.CC ?? "cc";
  try {
    execFileSync(cc, [...CFLAGS, "-o", binary, source], { stdio: ["ignore", "pipe", "pipe"] });
    return { binary, message: `built with ${cc}` };
  } catch (e) {
    const err = e as { code?: string; stderr?: Buffer };
    const why = err.code === "ENOENT" ? `no C compiler (${cc}) on this machine` : String(err.stderr ?? e);
    return { binary: null, message: why };
  }
}

interface ReplayOutput {
  opsTotal: number;
  opsTimed: number;
  seconds: number[];
  peakHeapBytes?: number;
  peakLiveBytes?: number;
}

/** Runs the C replay on one workload: one row for `glibc`. */
export function runGlibc(binary: string, w: PreparedWorkload, runs: number): Row {
  let args: string[];
  if (w.kind === "replay") args = [w.file, String(runs)];
  else if (w.kind === "pairs") args = ["--pairs", String(w.pairs), String(runs)];
  else if (w.kind === "multi-worker") args = ["--threads", w.file, String(runs)];
  else throw new Error(`glibc does not run ${w.kind} workloads`);
  const out = spawnSync(binary, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (out.status !== 0) throw new Error(`replay exited with ${out.status}`);
  const r = JSON.parse(out.stdout) as ReplayOutput;
  const util =
    r.peakHeapBytes !== undefined && r.peakLiveBytes !== undefined && r.peakHeapBytes > 0
      ? r.peakLiveBytes / r.peakHeapBytes
      : null;
  const extra: Record<string, number> = {};
  if (r.peakHeapBytes !== undefined) extra.peakHeapBytes = r.peakHeapBytes;
  if (r.peakLiveBytes !== undefined) extra.peakLiveBytes = r.peakLiveBytes;
  return rowFromRuns("glibc", w.name, r.opsTimed, r.opsTotal, r.seconds, util, extra);
}
