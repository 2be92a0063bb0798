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
import { MAX_ATTEMPTS, measureCalibrated, probeMachine, SLOW_STATE_FACTORS } from "./calibrate.js";
import type { CellResult, CellSpec } from "./cell.js";
import { gcWorkloads } from "./gc.js";
import { LATENCY_SPANS, loadLatencyNs } from "./latency.js";
import { describeMachine } from "./machine.js";
import type { MultiWorkerCellSpec } from "./multi-worker-cell.js";
import { buildReplay, runGlibc } from "./native.js";
import {
  type BenchOptions,
  checkNames,
  implNames,
  parseBenchArgs,
  USAGE,
  UsageError,
  variantImpls,
} from "./options.js";
import type { PreparedWorkload } from "./prepared-workload.js";
import {
  BOUNDED_STRATEGIES,
  CACHED_STRATEGIES,
  formatLatency,
  markdownPage,
  type RunMeta,
  terminalTable,
} from "./report.js";
import { buildSharedMemoryObjects } from "./shared-memory-objects.js";
import {
  addRatios,
  FIXED_MEMORY,
  FRONT_CACHE,
  GLOBAL_LOCK,
  isSynthetic,
  liveUtilizationOf,
  PEERS,
  RESIZABLE_MEMORY,
  type Row,
  rowFromRuns,
  SHARED_MEMORY_OBJECTS,
} from "./stats.js";
import { tracesDir } from "./traces.js";
import { prepareWorkloads } from "./workload-catalog.js";

/** What --quick measures, with the multi-worker family at 1 and 2 workers (any workload can still be picked with --workload). */
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

const docsPage = join(repoRoot, "apps", "docs", "results", "index.md");

/** The table on stdout (stderr with --json, then the rows on stdout), and the docs page unless --no-page. */
function publish(o: BenchOptions, rows: Row[], workloads: readonly PreparedWorkload[], meta: RunMeta): void {
  const table = terminalTable(rows, workloads);
  if (o.json) {
    process.stderr.write(table);
    process.stdout.write(`${JSON.stringify(rows, null, 1)}\n`);
  } else process.stdout.write(table);
  if (o.page) {
    mkdirSync(dirname(docsPage), { recursive: true });
    writeFileSync(docsPage, markdownPage(rows, workloads, meta));
    log(`wrote ${docsPage}`);
  }
}

function rerender(o: BenchOptions, file: string, workloads: readonly PreparedWorkload[]): void {
  const saved = JSON.parse(readFileSync(file, "utf8")) as ResultsFile;
  const present = workloads.filter((w) => saved.rows.some((r) => r.workload === w.name));
  log(`rendering ${file}`);
  publish(o, saved.rows, present, saved);
}

/** The peers that are built before they run: what was built, and a note for each that was not. */
interface BuiltPeers {
  /** The C replay (glibc), or null. */
  replay: string | null;
  /** The AssemblyScript module, if wanted and built. */
  wasm: string | undefined;
  /** The shared-memory-objects bundle, if wanted and built. */
  bundle: string | undefined;
}

async function buildPeers(
  want: (impl: string) => boolean,
  multiWorker: boolean,
  notes: string[],
): Promise<BuiltPeers> {
  const skipped = (peer: string, message: string): void => {
    notes.push(`${peer} skipped: ${message}`);
    log(`${peer}: skipped (${message})`);
  };
  const replay = buildReplay(join(benchDir, "native", "replay.c"), cacheDir);
  if (replay.binary === null) skipped("glibc", replay.message);
  let wasm: string | undefined;
  if (want(ASSEMBLYSCRIPT)) {
    const built = buildAssemblyScriptPeer(join(benchDir, "wasm", "assemblyscript-heap.ts"), cacheDir);
    if (built.wasm === null) skipped(ASSEMBLYSCRIPT, built.message);
    wasm = built.wasm ?? undefined;
  }
  let bundle: string | undefined;
  if (multiWorker && want(SHARED_MEMORY_OBJECTS)) {
    const built = await buildSharedMemoryObjects(cacheDir);
    if (built.bundle === null) skipped(SHARED_MEMORY_OBJECTS, built.message);
    bundle = built.bundle ?? undefined;
  }
  return { replay: replay.binary, wasm, bundle };
}

/** The JS implementations each workload runs (the native peers, glibc and CPython, run beside them). */
function implementationsOf(
  o: BenchOptions,
  want: (impl: string) => boolean,
  peers: BuiltPeers,
): (w: PreparedWorkload) => string[] {
  const strategies = strategyNames.filter(want);
  const jsImpls = [
    ...strategies,
    ...["thi.ng", ...(peers.wasm !== undefined ? [ASSEMBLYSCRIPT] : []), "uint8array"].filter(want),
  ];
  // the multi-worker family: each strategy's shared heap with its caches and behind one global lock
  const sharedImpls = [
    ...strategies,
    ...strategyNames.filter((s) => want(s) || want(s + GLOBAL_LOCK)).map((s) => s + GLOBAL_LOCK),
    ...(peers.bundle !== undefined ? [SHARED_MEMORY_OBJECTS] : []),
  ];
  // on W, each strategy also over a fixed-size buffer (like for like with thi.ng's pool), and the
  // bounded ones over a resizable buffer (what the heap's old default memory costs)
  const fixed = variantImpls(o, strategyNames, FIXED_MEMORY, strategyNames);
  const resized = variantImpls(o, strategyNames, RESIZABLE_MEMORY, BOUNDED_STRATEGIES);
  // on W and pairs, the strategies of the AssemblyScript target also with the front cache on
  const cached = variantImpls(o, strategyNames, FRONT_CACHE, CACHED_STRATEGIES);
  const onW = [...jsImpls, ...fixed, ...resized, ...cached];
  // on pairs and the real traces too: the trace targets allow a heap option that keeps the utilization floor
  const withCache = [...jsImpls, ...cached];
  return (w) =>
    w.kind === "gc"
      ? strategies
      : w.kind === "multi-worker"
        ? sharedImpls
        : w.name === "W"
          ? onW
          : w.name === "pairs" || !isSynthetic(w.name)
            ? withCache
            : jsImpls;
}

/** What one JS cell of `impl` on `w` is asked to measure. */
function cellSpec(
  o: BenchOptions,
  w: PreparedWorkload & { kind: "replay" | "pairs" | "multi-worker" },
  impl: string,
  peers: BuiltPeers,
): CellSpec | MultiWorkerCellSpec {
  const common = { impl, workload: w.name, runs: o.runs, budgetMs: o.budgetMs };
  if (w.kind === "multi-worker")
    return { ...common, file: w.file, bundle: impl === SHARED_MEMORY_OBJECTS ? peers.bundle : undefined };
  const spec: CellSpec =
    w.kind === "pairs"
      ? { ...common, kind: "pairs", pairs: w.pairs }
      : { ...common, kind: "replay", file: w.file };
  // the ×thi.ng target is on the whole of W: a prefix would flatter thi.ng (its lists are still short)
  if (impl === "thi.ng" && w.name === "W" && !o.quick) spec.whole = true;
  if (impl === ASSEMBLYSCRIPT) spec.wasm = peers.wasm;
  return spec;
}

/** Counts cells as they finish and logs each row with its progress. */
class Progress {
  private done = 0;
  private last = Date.now();
  readonly rows: Row[] = [];

  constructor(private readonly cells: number) {}

  row(row: Row): void {
    const took = ((Date.now() - this.last) / 1000).toFixed(1);
    this.last = Date.now();
    this.rows.push(row);
    this.done++;
    const live = liveUtilizationOf(row);
    const util =
      (row.utilization === null ? "" : `, util ${row.utilization.toFixed(3)}`) +
      (live === null ? "" : `, live util ${live.toFixed(3)}`);
    const prefix = row.opsTimed < row.opsTotal ? ` (prefix ${row.opsTimed} of ${row.opsTotal} ops)` : "";
    log(
      `[${this.done}/${this.cells}] ${row.workload} · ${row.impl}: ${(row.opsPerSecond / 1e6).toFixed(3)} M ops/s${util}${prefix} [${took} s]`,
    );
  }

  failed(impl: string, workload: string, e: unknown, notes: string[] | null): void {
    this.done++;
    const message = `${impl} × ${workload}: ${(e as Error).message}`;
    notes?.push(`${impl} × ${workload} failed: ${(e as Error).message}`);
    log(message);
  }
}

/** Every cell of every workload, in order: the native peer first, then heapkit's and the JS peers'. */
function measureAll(
  o: BenchOptions,
  workloads: readonly PreparedWorkload[],
  peers: BuiltPeers,
  notes: string[],
): Row[] {
  const want = (impl: string): boolean => o.impls === null || o.impls.has(impl);
  const implsOn = implementationsOf(o, want, peers);
  const glibc = peers.replay !== null && want("glibc") ? peers.replay : null;
  const nativeCells = (w: PreparedWorkload): number =>
    w.kind === "gc" ? (want("cpython") ? 1 : 0) : glibc !== null ? 1 : 0;
  const progress = new Progress(workloads.reduce((n, w) => n + nativeCells(w) + implsOn(w).length, 0));
  // the machine's usual state: the fastest of a few probes, lowered by every one after (calibrate.ts)
  const first = Array.from({ length: 4 }, probeMachine);
  let baseline = [0, 1].map((i) => Math.min(...first.map((p) => p[i])));
  const remeasured: string[] = [];
  const calibrated = (measure: () => Row): Row => {
    const c = measureCalibrated(measure, probeMachine, baseline);
    baseline = c.baseline;
    const row = c.value;
    row.extra = {
      ...row.extra,
      machineState: c.state,
      calibrationMs: c.probes[0],
      memoryLatencyNs: c.probes[1],
      attempts: c.attempts,
    };
    if (c.attempts > 1 || c.slow) {
      const state = c.slow ? ", still slow" : "";
      remeasured.push(`${row.workload} · ${row.impl} (${c.attempts}×${state})`);
    }
    return row;
  };
  for (const w of workloads) {
    if (w.kind === "gc") {
      for (const row of w.run({ runs: o.runs, want, log })) progress.row(row);
      continue;
    }
    if (glibc !== null) {
      try {
        progress.row(calibrated(() => runGlibc(glibc, w, o.runs)));
      } catch (e) {
        progress.failed("glibc", w.name, e, null);
      }
    }
    for (const impl of implsOn(w)) {
      try {
        progress.row(
          calibrated(() => {
            const r = runCell(cellSpec(o, w, impl, peers));
            return rowFromRuns(r.impl, r.workload, r.opsTimed, r.opsTotal, r.seconds, r.utilization, r.extra);
          }),
        );
      } catch (e) {
        progress.failed(impl, w.name, e, notes);
      }
    }
  }
  if (remeasured.length > 0) {
    notes.push(
      `Measured again because the machine was in a slow state (the loop past ${SLOW_STATE_FACTORS[0]}× or ` +
        `the chase past ${SLOW_STATE_FACTORS[1]}× the run's fastest; the attempt in the best state kept, at ` +
        `most ${MAX_ATTEMPTS}): ${remeasured.join(", ")}.`,
    );
  }
  return progress.rows;
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
  checkNames(
    "--impl",
    o.impls,
    implNames(strategyNames, [FIXED_MEMORY, RESIZABLE_MEMORY, FRONT_CACHE, GLOBAL_LOCK], PEERS),
  );
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
  const notes: string[] = [];
  const want = (impl: string): boolean => o.impls === null || o.impls.has(impl);
  const peers = await buildPeers(
    want,
    workloads.some((w) => w.kind === "multi-worker"),
    notes,
  );
  const rows = measureAll(o, workloads, peers, notes);
  addRatios(rows);
  const seconds = (Date.now() - started) / 1000;
  const meta: RunMeta = {
    date: new Date().toISOString(),
    machine,
    quick: o.quick,
    runs: o.runs,
    budgetMs: o.budgetMs,
    seconds,
    loadLatency,
    notes,
  };
  mkdirSync(join(benchDir, "results"), { recursive: true });
  writeFileSync(join(benchDir, "results", "latest.json"), `${JSON.stringify({ ...meta, rows }, null, 1)}\n`);
  publish(o, rows, workloads, meta);
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
