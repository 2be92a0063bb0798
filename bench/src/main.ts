/**
 * `pnpm bench [--quick] [--json]`: every heapkit strategy and every peer on every workload, each
 * cell in a child process of its own, ratios from the same run; a table in the terminal (or one
 * JSON array on stdout with `--json`), bench/results/latest.json, and the docs site's results page.
 * The options are in options.ts (`pnpm bench --help`).
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { strategyNames } from "@heapkit/strategies";
import { ASSEMBLYSCRIPT, buildAssemblyScriptPeer } from "./assemblyscript.js";
import type { CellResult, CellSpec } from "./cell.js";
import { gcWorkloads } from "./gc.js";
import { LATENCY_SPANS, loadLatencyNs } from "./latency.js";
import { describeMachine } from "./machine.js";
import type { MultiWorkerCellSpec } from "./multi-worker-cell.js";
import { buildReplay, runGlibc } from "./native.js";
import { type BenchOptions, checkNames, parseBenchArgs, USAGE, UsageError } from "./options.js";
import type { PreparedWorkload } from "./prepared-workload.js";
import { formatLatency, markdownPage, type RunMeta, terminalTable } from "./report.js";
import { buildSharedMemoryObjects } from "./shared-memory-objects.js";
import {
  addRatios,
  FIXED_MEMORY,
  GLOBAL_LOCK,
  PEERS,
  type Row,
  rowFromRuns,
  SHARED_MEMORY_OBJECTS,
} from "./stats.js";
import { tracesDir } from "./traces.js";
import { prepareWorkloads } from "./workload-catalog.js";

/** What --quick measures (any workload can still be picked with --workload). */
export const QUICK_WORKLOADS = ["W-100", "W", "W-100k", "S", "pairs", "gc-100k"];

const benchDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = resolve(benchDir, "..");
const cacheDir = join(benchDir, ".cache");
const cellJs = join(benchDir, "dist", "cell.js");
const multiWorkerCellJs = join(benchDir, "dist", "multi-worker-cell.js");

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/**
 * Runs one cell in a child process. With `timeoutMs`, a child still running then is stopped and its
 * last complete result line is kept (the gc cells print their main figures before a slow extra phase).
 */
function runCell(spec: CellSpec | MultiWorkerCellSpec, timeoutMs?: number): CellResult {
  const script = "kind" in spec ? cellJs : multiWorkerCellJs;
  const out = spawnSync(process.execPath, ["--expose-gc", script, JSON.stringify(spec)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 64 << 20,
    timeout: timeoutMs,
    killSignal: "SIGKILL",
  });
  const lines = (out.stdout ?? "").split("\n").filter((l) => l.startsWith("{"));
  const stopped = out.status === null && lines.length > 0;
  if (out.status !== 0 && !stopped)
    throw new Error(`cell ${spec.impl} × ${spec.workload} exited with ${out.status}`);
  const result = JSON.parse(lines[lines.length - 1]) as CellResult;
  if (stopped)
    result.extra.stopped = `after ${((timeoutMs ?? 0) / 1000).toFixed(0)} s, in its untimed extra phase`;
  return result;
}

/** What bench/results/latest.json holds. */
interface ResultsFile extends RunMeta {
  rows: Row[];
}

function rerender(o: BenchOptions, file: string, workloads: readonly PreparedWorkload[]): void {
  const saved = JSON.parse(readFileSync(file, "utf8")) as ResultsFile;
  const present = workloads.filter((w) => saved.rows.some((r) => r.workload === w.name));
  const table = terminalTable(saved.rows, present);
  if (o.json) {
    process.stderr.write(table);
    process.stdout.write(`${JSON.stringify(saved.rows, null, 1)}\n`);
  } else process.stdout.write(table);
  if (o.page) {
    const page = join(repoRoot, "apps", "docs", "results", "index.md");
    writeFileSync(page, markdownPage(saved.rows, present, saved));
    log(`wrote ${page} from ${file}`);
  }
}

async function main(): Promise<void> {
  const o = parseBenchArgs(process.argv.slice(2));
  if (o.help) {
    process.stdout.write(USAGE);
    return;
  }
  const started = Date.now();
  mkdirSync(cacheDir, { recursive: true });
  const machine = describeMachine();
  log(
    `heapkit bench${o.quick ? " --quick" : ""}: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}`,
  );
  const notes: string[] = [];
  const all: PreparedWorkload[] = [
    ...(await prepareWorkloads({
      cacheDir,
      tracesDir: tracesDir(repoRoot),
      quick: o.quick,
      workers: o.workers,
      log,
    })),
    ...gcWorkloads(o.quick, join(benchDir, "native", "gc_timing.py"), runCell),
  ];
  checkNames(
    "--workload",
    o.workloads,
    all.map((w) => w.name),
  );
  checkNames("--impl", o.impls, [
    ...strategyNames.flatMap((s) => [s, s + FIXED_MEMORY, s + GLOBAL_LOCK]),
    ...PEERS,
  ]);
  const workloads = all.filter((w) =>
    o.workloads !== null
      ? o.workloads.has(w.name)
      : !o.quick || QUICK_WORKLOADS.includes(w.name) || w.kind === "multi-worker",
  );
  if (o.from !== null) {
    rerender(o, o.from, workloads);
    return;
  }
  const loadLatency = LATENCY_SPANS.map((bytes) => ({ bytes, ns: loadLatencyNs(bytes) }));
  log(`one dependent random load: ${formatLatency(loadLatency)}`);
  const replay = buildReplay(join(benchDir, "native", "replay.c"), cacheDir);
  if (replay.binary === null) {
    notes.push(`glibc skipped: ${replay.message}`);
    log(`glibc: skipped (${replay.message})`);
  }
  const want = (impl: string): boolean => o.impls === null || o.impls.has(impl);
  const assemblyScript = want(ASSEMBLYSCRIPT)
    ? buildAssemblyScriptPeer(join(benchDir, "wasm", "assemblyscript-heap.ts"), cacheDir)
    : null;
  if (assemblyScript !== null && assemblyScript.wasm === null) {
    notes.push(`assemblyscript skipped: ${assemblyScript.message}`);
    log(`assemblyscript: skipped (${assemblyScript.message})`);
  }
  const wasm = assemblyScript?.wasm ?? undefined;
  const strategies = strategyNames.filter(want);
  const jsImpls = [
    ...strategies,
    ...["thi.ng", ...(wasm !== undefined ? [ASSEMBLYSCRIPT] : []), "uint8array"].filter(want),
  ];
  const multiWorker = workloads.some((w) => w.kind === "multi-worker");
  const smo = multiWorker && want(SHARED_MEMORY_OBJECTS) ? await buildSharedMemoryObjects(cacheDir) : null;
  if (smo !== null && smo.bundle === null) {
    notes.push(`shared-memory-objects skipped: ${smo.message}`);
    log(`shared-memory-objects: skipped (${smo.message})`);
  }
  const bundle = smo?.bundle ?? undefined;
  // the multi-worker family: each strategy's shared heap with its caches and behind one global lock
  const sharedImpls = [
    ...strategies,
    ...strategyNames.filter((s) => want(s) || want(s + GLOBAL_LOCK)).map((s) => s + GLOBAL_LOCK),
    ...(bundle !== undefined ? [SHARED_MEMORY_OBJECTS] : []),
  ];
  // on W, each strategy also over a fixed-size buffer: what growth costs, and like for like with thi.ng's pool
  const implsOn = (w: PreparedWorkload): string[] =>
    w.kind === "multi-worker"
      ? sharedImpls
      : w.name === "W" && !o.quick
        ? [...jsImpls, ...strategies.map((s) => s + FIXED_MEMORY)]
        : jsImpls;
  const rows: Row[] = [];
  // every cell: the native peer's (glibc, or CPython for gc-*) when wanted, then heapkit's and the JS peers'
  const cells = workloads.reduce(
    (n, w) =>
      n +
      (w.kind === "gc"
        ? (want("cpython") ? 1 : 0) + strategies.length
        : (replay.binary !== null && want("glibc") ? 1 : 0) + implsOn(w).length),
    0,
  );
  let done = 0;
  let lastReport = Date.now();
  const report = (row: Row): void => {
    const took = ((Date.now() - lastReport) / 1000).toFixed(1);
    lastReport = Date.now();
    rows.push(row);
    done++;
    const util = row.utilization === null ? "" : `, util ${row.utilization.toFixed(3)}`;
    const prefix = row.opsTimed < row.opsTotal ? ` (prefix ${row.opsTimed} of ${row.opsTotal} ops)` : "";
    log(
      `[${done}/${cells}] ${row.workload} · ${row.impl}: ${(row.opsPerSecond / 1e6).toFixed(3)} M ops/s${util}${prefix} [${took} s]`,
    );
  };
  const measureCell = (impl: string, workload: string, spec: CellSpec | MultiWorkerCellSpec): void => {
    try {
      const r = runCell(spec);
      report(rowFromRuns(r.impl, r.workload, r.opsTimed, r.opsTotal, r.seconds, r.utilization, r.extra));
    } catch (e) {
      done++;
      notes.push(`${impl} × ${workload} failed: ${(e as Error).message}`);
      log(`${impl} × ${workload}: ${(e as Error).message}`);
    }
  };
  for (const w of workloads) {
    if (w.kind === "gc") {
      for (const row of w.run({ runs: o.runs, want, log })) report(row);
      continue;
    }
    if (replay.binary !== null && want("glibc")) {
      try {
        report(runGlibc(replay.binary, w, o.runs));
      } catch (e) {
        done++;
        log(`glibc × ${w.name}: ${(e as Error).message}`);
      }
    }
    for (const impl of implsOn(w)) {
      if (w.kind === "multi-worker") {
        const spec: MultiWorkerCellSpec = {
          impl,
          workload: w.name,
          file: w.file,
          runs: o.runs,
          budgetMs: o.budgetMs,
          bundle: impl === SHARED_MEMORY_OBJECTS ? bundle : undefined,
        };
        measureCell(impl, w.name, spec);
        continue;
      }
      const spec: CellSpec =
        w.kind === "pairs"
          ? { impl, workload: w.name, kind: "pairs", pairs: w.pairs, runs: o.runs, budgetMs: o.budgetMs }
          : { impl, workload: w.name, kind: "replay", file: w.file, runs: o.runs, budgetMs: o.budgetMs };
      // the ×thi.ng target is on the whole of W: a prefix would flatter thi.ng (its lists are still short)
      if (impl === "thi.ng" && w.name === "W" && !o.quick) spec.whole = true;
      if (impl === ASSEMBLYSCRIPT) spec.wasm = wasm;
      measureCell(impl, w.name, spec);
    }
  }
  addRatios(rows);
  const seconds = (Date.now() - started) / 1000;
  const table = terminalTable(rows, workloads);
  if (o.json) {
    process.stderr.write(table);
    process.stdout.write(`${JSON.stringify(rows, null, 1)}\n`);
  } else {
    process.stdout.write(table);
  }
  const meta = {
    date: new Date().toISOString(),
    machine,
    quick: o.quick,
    runs: o.runs,
    budgetMs: o.budgetMs,
    seconds,
    loadLatency,
  };
  mkdirSync(join(benchDir, "results"), { recursive: true });
  writeFileSync(
    join(benchDir, "results", "latest.json"),
    `${JSON.stringify({ ...meta, notes, rows }, null, 1)}\n`,
  );
  if (o.page) {
    const page = join(repoRoot, "apps", "docs", "results", "index.md");
    mkdirSync(dirname(page), { recursive: true });
    writeFileSync(page, markdownPage(rows, workloads, { ...meta, notes }));
    log(`wrote ${page}`);
  }
  log(`done in ${seconds.toFixed(1)} s`);
}

main().catch((e: unknown) => {
  if (e instanceof UsageError) {
    log(`bench: ${e.message}`);
    process.exit(2);
  }
  log(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
