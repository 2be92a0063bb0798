/**
 * The terminal table, the targets, and the markdown results page for the docs site.
 *
 * @module
 */
import { MAX_ATTEMPTS, SLOW_STATE_FACTORS } from "./calibrate.js";
import type { Machine } from "./machine.js";
import {
  FIXED_MEMORY,
  FRONT_CACHE,
  formatOps,
  formatRate,
  formatRatio,
  formatUtil,
  GLOBAL_LOCK,
  isFixedMemory,
  isResizableMemory,
  isSynthetic,
  isVariant,
  liveUtilizationOf,
  PEERS,
  RESIZABLE_MEMORY,
  type Row,
  SHARED_MEMORY_OBJECTS,
} from "./stats.js";

/** A workload as the report names and describes it. */
export interface WorkloadInfo {
  /** Its name. */
  readonly name: string;
  /** One line on what it is. */
  readonly description: string;
}

/** What the page says about the run. */
export interface RunMeta {
  /** ISO date of the run. */
  date: string;
  /** The machine. */
  machine: Machine;
  /** Whether it was a --quick run. */
  quick: boolean;
  /** Timed runs per cell. */
  runs: number;
  /** Budget per run in ms. */
  budgetMs: number;
  /** Wall time of the whole bench in seconds. */
  seconds: number;
  /** Skipped peers, failures. */
  notes: string[];
  /** Nanoseconds of one dependent random load by the span of memory loaded from (absent in older results files). */
  loadLatency?: { bytes: number; ns: number }[];
}

/** "512 KiB 5.7 ns, 8 MiB 144 ns, …" */
export function formatLatency(list: readonly { bytes: number; ns: number }[]): string {
  const span = (b: number): string => (b >= 1 << 20 ? `${b / (1 << 20)} MiB` : `${b / 1024} KiB`);
  return list.map((l) => `${span(l.bytes)} ${l.ns < 10 ? l.ns.toFixed(1) : l.ns.toFixed(0)} ns`).join(", ");
}

/** The four live-set sizes of a family (W or S), smallest first. */
function familyOf(family: string): string[] {
  return [`${family}-100`, `${family}-1k`, family, `${family}-100k`];
}

/** "16.5/28": a row's mean and largest count of words touched per call, or undefined if not counted. */
function wordsOf(row: Row | undefined): string | undefined {
  const mean = row?.extra.wordsPerCallMean;
  const max = row?.extra.wordsPerCallMax;
  return typeof mean === "number" && typeof max === "number" ? `${mean.toFixed(1)}/${max}` : undefined;
}

/** One target, checked against a run. */
export interface TargetCheck {
  /** What is asked. */
  target: string;
  /** What was measured. */
  measured: string;
  /** Met, missed, or not measured in this run. */
  status: "met" | "missed" | "n/a";
}

const isPeer = (impl: string): boolean => (PEERS as readonly string[]).includes(impl);
/** Strategies whose cost is allowed to grow with the live set: their algorithm walks a list of free blocks. */
export const LINEAR_STRATEGIES = ["first-fit-lifo"];
/** The strategies with a bounded search, each to be ≥ 1000× @thi.ng/malloc on W. */
export const BOUNDED_STRATEGIES = ["segregated", "tlsf", "buddy", "pymalloc"];

/**
 * The strategies that are each to be ≥ 1.5× the AssemblyScript peer on W and on pairs, with the front
 * cache: a full run measures each of them as `strategy/cache` on W, pairs and the real traces; the
 * AssemblyScript target reads the rows of W and pairs, the trace targets those of the traces.
 */
export const CACHED_STRATEGIES = ["tlsf", "segregated", "best-fit", "buddy", "pymalloc"];

/** The row with the most ops/s, or undefined for none. */
function fastestOf(rows: readonly Row[]): Row | undefined {
  return rows.reduce<Row | undefined>(
    (b, r) => (b === undefined || r.opsPerSecond > b.opsPerSecond ? r : b),
    undefined,
  );
}

/** The row with the fewest ops/s, or undefined for none. */
function slowestOf(rows: readonly Row[]): Row | undefined {
  return rows.reduce<Row | undefined>(
    (b, r) => (b === undefined || r.opsPerSecond < b.opsPerSecond ? r : b),
    undefined,
  );
}

function find(rows: readonly Row[], impl: string, workload: string): Row | undefined {
  return rows.find((r) => r.impl === impl && r.workload === workload);
}

/** Checks the targets on a run's rows. */
export function checkTargets(rows: readonly Row[]): TargetCheck[] {
  return [
    ...speedTargets(rows),
    ...againstGlibcTargets(rows),
    ...utilizationTargets(rows),
    ...scalingTargets(rows),
    ...multiWorkerTargets(rows),
  ];
}

/** A target this run did not measure. */
const notMeasured = (target: string): TargetCheck => ({
  target,
  measured: "not measured in this run",
  status: "n/a",
});

/** The strategies' rows on W over the default memory, with the heap's default options (no /fixed, no /cache). */
const strategiesOnW = (rows: readonly Row[]): Row[] =>
  rows.filter((r) => r.workload === "W" && !isPeer(r.impl) && !isVariant(r.impl));

/**
 * Each of `strategies` (with `suffix`) against `peer` on `workload`: met when every ratio reaches
 * `floor` (`floor` null: a reference, status n/a). With `withUtil`, each row's utilization follows its
 * ratio when it has one (what the front cache costs is to stay in sight).
 */
function eachAgainst(
  rows: readonly Row[],
  target: string,
  strategies: readonly string[],
  suffix: string,
  peer: string,
  workload: string,
  floor: number | null,
  withUtil = false,
): TargetCheck {
  const versus = find(rows, peer, workload);
  const each = strategies.map((s) => find(rows, s + suffix, workload));
  if (versus === undefined || each.some((r) => r === undefined)) return notMeasured(target);
  const ratios = (each as Row[]).map((r) => r.opsPerSecond / versus.opsPerSecond);
  const util = (r: Row): string =>
    !withUtil || r.utilization === null ? "" : ` (util ${formatUtil(r.utilization)})`;
  return {
    target,
    measured: `${peer} ${formatRate(versus.opsPerSecond)} ops/s; ${(each as Row[]).map((r, i) => `${r.impl} ${formatRatio(ratios[i])}${util(r)}`).join(", ")}`,
    status: floor === null ? "n/a" : ratios.every((x) => x >= floor) ? "met" : "missed",
  };
}

/** ops/s against glibc, @thi.ng/malloc and the AssemblyScript peer. */
function speedTargets(rows: readonly Row[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const onW = strategiesOnW(rows);
  const best = fastestOf(onW);
  const worst = slowestOf(onW);
  const glibc = find(rows, "glibc", "W");
  const thing = find(rows, "thi.ng", "W");
  if (best !== undefined && glibc !== undefined) {
    const x = best.opsPerSecond / glibc.opsPerSecond;
    out.push({
      target: "best strategy ≥ 0.5× glibc on W",
      measured: `${best.impl} ${formatRate(best.opsPerSecond)} ops/s vs glibc ${formatRate(glibc.opsPerSecond)}: ${formatRatio(x)}`,
      status: x >= 0.5 ? "met" : "missed",
    });
  } else out.push(notMeasured("best strategy ≥ 0.5× glibc on W"));
  if (best !== undefined && worst !== undefined && thing !== undefined) {
    const x = best.opsPerSecond / thing.opsPerSecond;
    out.push({
      target: "best strategy ≥ 1000× @thi.ng/malloc on W",
      measured: `${formatRatio(x)} (thi.ng ${formatRate(thing.opsPerSecond)} ops/s over ${formatOps(thing)} ops); slowest strategy, ${worst.impl}: ${formatRatio(worst.opsPerSecond / thing.opsPerSecond)}`,
      status: x >= 1000 ? "met" : "missed",
    });
  } else out.push(notMeasured("best strategy ≥ 1000× @thi.ng/malloc on W"));
  for (const [memory, suffix] of [
    ["the default memory", ""],
    ["a fixed-size ArrayBuffer", FIXED_MEMORY],
  ]) {
    const target = `${BOUNDED_STRATEGIES.join(", ")}: each ≥ 1000× @thi.ng/malloc on W, over ${memory}`;
    out.push(eachAgainst(rows, target, BOUNDED_STRATEGIES, suffix, "thi.ng", "W", 1000));
  }
  for (const workload of ["W", "pairs"]) {
    const target = `${CACHED_STRATEGIES.join(", ")}, with the front cache (strategy${FRONT_CACHE}): each ≥ 1.5× the AssemblyScript peer on ${workload}`;
    out.push(
      eachAgainst(rows, target, CACHED_STRATEGIES, FRONT_CACHE, "assemblyscript", workload, 1.5, true),
    );
    // what the same strategies do with the cache off (the unshared default), for reference when measured
    const reference = `reference, the same strategies without the cache (the default): against the AssemblyScript peer on ${workload}`;
    const bare = eachAgainst(rows, reference, CACHED_STRATEGIES, "", "assemblyscript", workload, null, true);
    if (bare.measured !== notMeasured(reference).measured) out.push(bare);
  }
  return out;
}

/**
 * Each strategy's utilization on each real trace in the full run of 2026-12-01 (the results page
 * the speed issue was filed against): a strategy counts toward a trace's speed target only if it
 * keeps at least this.
 */
export const TRACE_UTILIZATION_FLOORS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  "gcc-as": {
    pymalloc: 0.705,
    "first-fit-lifo": 0.979,
    buddy: 0.904,
    tlsf: 0.977,
    "best-fit": 0.978,
    segregated: 0.978,
    "next-fit": 0.979,
    "first-fit": 0.979,
  },
  "jq-groupby": {
    pymalloc: 0.808,
    segregated: 0.909,
    tlsf: 0.909,
    "best-fit": 0.909,
    "first-fit-lifo": 0.907,
    buddy: 0.634,
    "first-fit": 0.909,
    "next-fit": 0.909,
  },
  "python-json": {
    pymalloc: 0.728,
    buddy: 0.588,
    tlsf: 0.825,
    segregated: 0.825,
    "best-fit": 0.825,
    "first-fit": 0.824,
    "next-fit": 0.855,
    "first-fit-lifo": 0.806,
  },
  sqlite3: {
    buddy: 0.669,
    "first-fit-lifo": 0.973,
    "best-fit": 0.977,
    pymalloc: 0.776,
    segregated: 0.977,
    tlsf: 0.976,
    "first-fit": 0.977,
    "next-fit": 0.786,
  },
};

/** The synthetic workloads; every other workload with a glibc row is a real trace. */

/**
 * Against glibc and the other peers where a user loses time: pairs, W, each real trace, and the
 * collector against CPython's.
 */
function againstGlibcTargets(rows: readonly Row[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const bare = (workload: string): Row[] =>
    rows.filter((r) => r.workload === workload && !isPeer(r.impl) && !isVariant(r.impl));
  // pairs: a strategy as the heap is by default (no /fixed, no /cache), the fastest of them
  const pairsTarget = "pairs: the default heap (the fastest strategy, default options) ≥ @thi.ng/malloc";
  const pairsBest = fastestOf(bare("pairs"));
  const thing = find(rows, "thi.ng", "pairs");
  if (pairsBest !== undefined && thing !== undefined) {
    const x = pairsBest.opsPerSecond / thing.opsPerSecond;
    out.push({
      target: pairsTarget,
      measured: `${pairsBest.impl} ${formatRate(pairsBest.opsPerSecond)} ops/s vs thi.ng ${formatRate(thing.opsPerSecond)}: ${formatRatio(x)}`,
      status: x >= 1 ? "met" : "missed",
    });
  } else out.push(notMeasured(pairsTarget));
  const glibcW = find(rows, "glibc", "W");
  const best = fastestOf(strategiesOnW(rows));
  const tlsf = find(rows, "tlsf", "W");
  for (const [target, row, floor] of [
    ["best strategy ≥ 0.8× glibc on W", best, 0.8],
    ["tlsf ≥ 0.6× glibc on W", tlsf, 0.6],
  ] as const) {
    if (row === undefined || glibcW === undefined) {
      out.push(notMeasured(target));
      continue;
    }
    const x = row.opsPerSecond / glibcW.opsPerSecond;
    out.push({
      target,
      measured: `${row.impl} ${formatRate(row.opsPerSecond)} ops/s vs glibc ${formatRate(glibcW.opsPerSecond)}: ${formatRatio(x)}`,
      status: x >= floor ? "met" : "missed",
    });
  }
  const traces = [
    ...new Set(rows.filter((r) => r.impl === "glibc" && !isSynthetic(r.workload)).map((r) => r.workload)),
  ];
  for (const trace of traces) {
    const target = `${trace}: the best strategy ≥ 0.5× glibc, keeping its utilization of 2026-12-01`;
    const glibc = find(rows, "glibc", trace) as Row;
    const floors = TRACE_UTILIZATION_FLOORS[trace];
    // a strategy as the heap is by default or with its front cache on (a heap option the target's
    // floor keeps honest: the cache holds blocks back), at or above that strategy's floor
    const floorOf = (impl: string): number | undefined => floors?.[impl.replace(FRONT_CACHE, "")];
    const kept = rows.filter(
      (r) =>
        r.workload === trace &&
        !isPeer(r.impl) &&
        !isFixedMemory(r.impl) &&
        !isResizableMemory(r.impl) &&
        (r.utilization === null || r.utilization >= (floorOf(r.impl) ?? 0) - 0.0005),
    );
    const row = fastestOf(kept);
    if (row === undefined) {
      out.push(notMeasured(target));
      continue;
    }
    const x = row.opsPerSecond / glibc.opsPerSecond;
    const floor = floorOf(row.impl);
    out.push({
      target:
        floors === undefined
          ? `${trace}: the best strategy ≥ 0.5× glibc (a trace newer than 2026-12-01: no floor)`
          : target,
      measured: `${row.impl} ${formatRate(row.opsPerSecond)} ops/s vs glibc ${formatRate(glibc.opsPerSecond)}: ${formatRatio(x)} (util ${formatUtil(row.utilization)}${floor === undefined ? "" : `, floor ${formatUtil(floor)}`})`,
      status: x >= 0.5 ? "met" : "missed",
    });
  }
  for (const workload of ["gc-100k", "gc-1M"]) {
    const target = `${workload}: every strategy ≥ 1.0× CPython's gc.collect()`;
    const cpython = find(rows, "cpython", workload);
    const each = bare(workload);
    if (cpython === undefined || each.length === 0) {
      out.push(notMeasured(target));
      continue;
    }
    const ratios = each.map((r) => r.opsPerSecond / cpython.opsPerSecond);
    out.push({
      target,
      measured: `cpython ${formatRate(cpython.opsPerSecond)} objects/s; ${each.map((r, i) => `${r.impl} ${formatRatio(ratios[i])}`).join(", ")}`,
      status: ratios.every((x) => x >= 1) ? "met" : "missed",
    });
  }
  return out;
}

/** Utilization on W, and pymalloc on small objects. */
function utilizationTargets(rows: readonly Row[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const utils = strategiesOnW(rows).filter((r) => r.utilization !== null);
  if (utils.length > 0) {
    const bestUtil = utils.reduce((b, r) => ((r.utilization as number) > (b.utilization as number) ? r : b));
    out.push({
      target: "utilization ≥ 0.92 on W",
      measured: `best ${bestUtil.impl} ${formatUtil(bestUtil.utilization)}; ${utils.map((r) => `${r.impl} ${formatUtil(r.utilization)}`).join(", ")}`,
      status: (bestUtil.utilization as number) >= 0.92 ? "met" : "missed",
    });
  } else out.push(notMeasured("utilization ≥ 0.92 on W"));
  const pymallocOnS = find(rows, "pymalloc", "S");
  const target = "pymalloc ≥ 10 M ops/s on small objects (S: sizes 8..512, ≤ 10 k live)";
  out.push(
    pymallocOnS === undefined
      ? notMeasured(target)
      : {
          target,
          measured: `${formatRate(pymallocOnS.opsPerSecond)} ops/s`,
          status: pymallocOnS.opsPerSecond >= 10e6 ? "met" : "missed",
        },
  );
  return out;
}

/** Each strategy's spread of ops/s from 100 to 100 k live blocks, on W and on S, with glibc's for reference. */
function scalingTargets(rows: readonly Row[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const strategies = [
    ...new Set(
      rows
        .filter((r) => !isPeer(r.impl) && !isVariant(r.impl) && !r.impl.endsWith(GLOBAL_LOCK))
        .map((r) => r.impl),
    ),
  ];
  const footprint: Record<string, string> = { W: "65 kB to 65 MB of blocks", S: "12 kB to 12 MB of blocks" };
  for (const family of ["W", "S"]) {
    const target = (impl: string): string =>
      `${impl}: ops/s at 100, 1 k, 10 k and 100 k live blocks within 2× of each other, on ${family}`;
    const glibc = spreadOf(rows, "glibc", family);
    if (glibc !== undefined) {
      out.push({
        target: `reference, ${target("glibc")} (${footprint[family]}: the caches)`,
        measured: glibc.measured,
        status: "n/a",
      });
    }
    for (const s of strategies) {
      const exempt = LINEAR_STRATEGIES.includes(s);
      const spread = spreadOf(rows, s, family);
      if (spread === undefined) {
        out.push(notMeasured(target(s)));
        continue;
      }
      out.push({
        target: `${target(s)}${exempt ? " (exempt: linear search)" : ""}`,
        measured: spread.measured,
        status: spread.ratio <= 2 ? "met" : exempt ? "n/a" : "missed",
      });
    }
  }
  return out;
}

/** `Wx2`: the multi-worker workload of `workers` workers (as workload-catalog.ts names it). */
const wx = (workers: number): string => `Wx${workers}`;

/** The multi-worker workloads in a run, by worker count, fewest first. */
function multiWorkerCounts(rows: readonly Row[]): number[] {
  const counts = rows.map((r) => /^Wx(\d+)$/.exec(r.workload)).filter((m) => m !== null);
  return [...new Set(counts.map((m) => Number(m[1])))].sort((a, b) => a - b);
}

/** The strategies measured on a shared heap with their caches (rows named by the bare strategy). */
function sharedHeapStrategies(rows: readonly Row[]): string[] {
  return [
    ...new Set(
      rows
        .filter((r) => /^Wx\d+$/.test(r.workload) && !isPeer(r.impl) && !r.impl.endsWith(GLOBAL_LOCK))
        .map((r) => r.impl),
    ),
  ];
}

/**
 * The utilization target of the multi-worker family: read on **util** (W's sequential peak live
 * payload over the heap's high-water mark); the measured text gives each heap's **live util** too.
 */
export const MULTI_WORKER_UTIL_TARGET =
  "shared heap: utilization ≥ 0.9 on W split over 2 workers (read on util: W's peak live payload over the heap's high-water mark; live util beside it)";

/** The multi-worker family's targets: printed, not asserted. */
function multiWorkerTargets(rows: readonly Row[]): TargetCheck[] {
  const strategies = sharedHeapStrategies(rows);
  const checks: {
    target: string;
    ratio: (s: string) => number | undefined;
    floor: number;
    show: (s: string, x: number) => string;
  }[] = [
    {
      target: "shared heap, 2 workers ≥ 1.6× one worker (total ops/s on W)",
      ratio: (s) => ratioOf(find(rows, s, wx(2)), find(rows, s, wx(1))),
      floor: 1.6,
      show: (s, x) => `${s} ${formatRatio(x)}`,
    },
    {
      target: "shared heap ≥ 2× the same heap behind one global lock (cache: false), at 2 workers",
      ratio: (s) => ratioOf(find(rows, s, wx(2)), find(rows, s + GLOBAL_LOCK, wx(2))),
      floor: 2,
      show: (s, x) => `${s} ${formatRatio(x)}`,
    },
    {
      target: "shared heap ≥ 100× @daneren2005/shared-memory-objects, at 2 workers",
      ratio: (s) => ratioOf(find(rows, s, wx(2)), find(rows, SHARED_MEMORY_OBJECTS, wx(2))),
      floor: 100,
      show: (s, x) => `${s} ${formatRatio(x)}`,
    },
    {
      target: MULTI_WORKER_UTIL_TARGET,
      ratio: (s) => find(rows, s, wx(2))?.utilization ?? undefined,
      floor: 0.9,
      show: (s, x) => {
        const row = find(rows, s, wx(2));
        const live = row === undefined ? null : liveUtilizationOf(row);
        return `${s} util ${formatUtil(x)}${live === null ? "" : ` (live util ${formatUtil(live)})`}`;
      },
    },
  ];
  return checks.map((c) => {
    const measured = strategies.flatMap((s) => {
      const x = c.ratio(s);
      return x === undefined ? [] : [{ s, x }];
    });
    if (measured.length === 0)
      return { target: c.target, measured: "not measured in this run", status: "n/a" };
    return {
      target: c.target,
      measured: measured.map(({ s, x }) => c.show(s, x)).join(", "),
      status: measured.every(({ x }) => x >= c.floor) ? "met" : "missed",
    };
  });
}

function ratioOf(a: Row | undefined, b: Row | undefined): number | undefined {
  return a === undefined || b === undefined || b.opsPerSecond <= 0
    ? undefined
    : a.opsPerSecond / b.opsPerSecond;
}

/** The multi-worker tables: every implementation at each worker count, and each shared heap's ratios. */
function multiWorkerTables(rows: readonly Row[], counts: readonly number[]): string[] {
  const out: string[] = [];
  const impls = [...new Set(rows.filter((r) => /^Wx\d+$/.test(r.workload)).map((r) => r.impl))];
  out.push(
    mdTable(
      [
        "impl",
        ...counts.flatMap((n) => [
          `${n} worker${n === 1 ? "" : "s"} ops/s`,
          ...(n === 1 ? [] : ["×1 worker"]),
          "util",
          "live util",
        ]),
      ],
      impls.map((impl) => [
        isPeer(impl) ? `*${impl}*` : `**${impl}**`,
        ...counts.flatMap((n) => {
          const row = find(rows, impl, wx(n));
          const one = find(rows, impl, wx(1));
          const rate =
            row === undefined
              ? "–"
              : row.opsTimed < row.opsTotal
                ? `${formatRate(row.opsPerSecond)} (prefix)`
                : formatRate(row.opsPerSecond);
          return [
            rate,
            ...(n === 1 ? [] : [formatRatio(ratioOf(row, one))]),
            formatUtil(row?.utilization ?? null),
            formatUtil(row === undefined ? null : liveUtilizationOf(row)),
          ];
        }),
      ]),
    ),
    "",
  );
  const strategies = sharedHeapStrategies(rows);
  const versus = [GLOBAL_LOCK, "glibc", SHARED_MEMORY_OBJECTS];
  out.push(
    mdTable(
      [
        "shared heap",
        ...counts.flatMap((n) => versus.map((v) => `${n}w ×${v === GLOBAL_LOCK ? "global lock" : v}`)),
      ],
      strategies.map((s) => [
        `**${s}**`,
        ...counts.flatMap((n) =>
          versus.map((v) =>
            formatRatio(
              ratioOf(find(rows, s, wx(n)), find(rows, v === GLOBAL_LOCK ? s + GLOBAL_LOCK : v, wx(n))),
            ),
          ),
        ),
      ]),
    ),
    "",
  );
  return out;
}

/**
 * The results page's "Sharing a heap between workers": total ops/s of W split over 1, 2 and 4
 * workers for every implementation, the scaling against one worker, utilization, and the ratios to
 * the global-lock heap and to the peers at each worker count.
 */
export function multiWorkerSection(rows: readonly Row[], meta: RunMeta): string[] {
  const counts = multiWorkerCounts(rows);
  if (counts.length === 0) return [];
  const out: string[] = ["## Sharing a heap between workers", ""];
  out.push(
    "Workload W split over `worker_threads` that share one heap: worker k replays W's operations on the " +
      "slots ≡ k (mod N), so the live set in all is W's, and one free in four is handed to the next worker " +
      "through a queue in shared memory and freed there (a cross-worker free). **ops/s** is the operations " +
      "of all workers over the wall time from the start signal to the last worker's end; **×1 worker** is " +
      "that over the same implementation's figure with one worker (whose hand-offs go to itself through " +
      "the same queue, so it does the same work). The thread that made the heap stays attached to it, as an " +
      "application's main thread would. A strategy's row is `createSharedHeap` with its per-worker " +
      `front caches; **strategy${GLOBAL_LOCK}** is the same heap with \`cache: false\`, every call behind the ` +
      "heap's one lock (the naive way); **glibc** is the C replay's `--threads` mode, one pthread per " +
      "worker; **shared-memory-objects** is @daneren2005/shared-memory-objects (a fork of @thi.ng/malloc " +
      "with a lock), bundled from its source with esbuild, its buffers made beforehand by the main thread " +
      "(only that thread can add one).",
    "",
  );
  out.push(
    "Two utilizations, both over the same denominator, the heap's high-water mark (`extra.peakHeapBytes`, " +
      "the most over the timed runs):",
    "",
    "- **util** — W's peak live payload *as requested*, computed from the workload in W's sequential order " +
      "(`extra.peakLiveBytes`), the numerator of every single-thread row. The workers do not run in " +
      "lockstep, and a block handed over waits in its new owner's queue until that worker runs, so the " +
      "blocks live at once can exceed W's peak: util then charges the heap for live data as if it were " +
      "waste, and errs low — the more so with more workers than cores. A prefix run has no util (a prefix of " +
      "each share is not a prefix of W). The utilization target above reads this one.",
    "- **live util** — the heap's own peak live bytes (`stats().peakLiveBytes`, `extra.heapPeakLiveBytes`) " +
      "over the same high-water mark: what the heap held at once, however the workers interleaved. It " +
      "counts each block's *usable* size (the request rounded up to the strategy's granularity), and with " +
      "several threads attached the heap raises its peak only on calls that take its lock (a call served " +
      "from a worker's front cache does not), so it is not exact either way; it is blank for the peers, " +
      "which do not report their live bytes.",
    "",
  );
  out.push(...multiWorkerTables(rows, counts));
  const most = counts[counts.length - 1];
  if (most > meta.machine.cores) {
    const scaled = sharedHeapStrategies(rows).flatMap((s) => {
      const x = ratioOf(find(rows, s, wx(most)), find(rows, s, wx(1)));
      return x === undefined ? [] : [`${s} ${formatRatio(x)}`];
    });
    if (scaled.length > 0) {
      out.push(
        `With ${most} workers on this machine's ${meta.machine.cores} cores, the workers take turns on the cores: ` +
          `total ops/s against one worker was ${scaled.join(", ")} in this run.`,
        "",
      );
    }
  }
  return out;
}

/**
 * The fastest over the slowest of `impl` at 100, 1 k, 10 k (the family's own workload) and 100 k live
 * blocks; undefined unless 100 and 100 k were measured (a --quick run measures no 1 k, and says so).
 */
function spreadOf(
  rows: readonly Row[],
  impl: string,
  family: string,
): { ratio: number; measured: string } | undefined {
  const cells = familyOf(family).map((w) => find(rows, impl, w));
  if (cells[0] === undefined || cells[3] === undefined) return undefined;
  const list = cells.filter((c): c is Row => c !== undefined);
  const missing = cells.length - list.length;
  const fastest = fastestOf(list) as Row;
  const slowest = slowestOf(list) as Row;
  const ratio = fastest.opsPerSecond / slowest.opsPerSecond;
  const prefix = slowest.opsTimed < slowest.opsTotal ? ` (first ${formatOps(slowest)} ops)` : "";
  const words = list.map((r) => [r.workload, wordsOf(r)]).filter(([, w]) => w !== undefined);
  return {
    ratio,
    measured:
      `${formatRatio(ratio)}: ${fastest.workload} ${formatRate(fastest.opsPerSecond)} ops/s, ${slowest.workload} ${formatRate(slowest.opsPerSecond)}${prefix}` +
      (missing > 0 ? ` (${missing} of the 4 sizes not measured in this run)` : "") +
      (words.length > 0 ? `; words per call, mean/max: ${words.map((w) => w.join(" ")).join(", ")}` : ""),
  };
}

function sortRows(rows: readonly Row[], workload: string): Row[] {
  return rows.filter((r) => r.workload === workload).sort((a, b) => b.opsPerSecond - a.opsPerSecond);
}

/** Whether any of `rows` has a live util (the multi-worker family's heapkit rows): the tables then show the column. */
function hasLiveUtil(rows: readonly Row[]): boolean {
  return rows.some((r) => liveUtilizationOf(r) !== null);
}

function peersIn(rows: readonly Row[]): string[] {
  return PEERS.filter((p) => rows.some((r) => r.impl === p));
}

function pad(cells: string[][]): string {
  const widths = cells[0].map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  return cells
    .map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  "))
    .join("\n");
}

/** The terminal table: one block per workload, fastest first, then the targets. */
export function terminalTable(rows: readonly Row[], workloads: readonly WorkloadInfo[]): string {
  const parts: string[] = [];
  for (const w of workloads) {
    const table = workloadTable(rows, w.name, (impl) => impl);
    if (table === null) continue;
    parts.push(`\n${w.name}: ${w.description}\n${pad([table.head, ...table.body])}\n`);
  }
  const checks = checkTargets(rows);
  parts.push(`\ntargets\n${checks.map((c) => `  [${c.status}] ${c.target}: ${c.measured}`).join("\n")}\n`);
  return parts.join("");
}

/**
 * One workload's rows, fastest first, as a head and a body of text cells (null if it has none):
 * the columns the terminal and the page share, `name` writing each row's implementation.
 */
function workloadTable(
  rows: readonly Row[],
  workload: string,
  name: (impl: string) => string,
): { head: string[]; body: string[][] } | null {
  const list = sortRows(rows, workload);
  if (list.length === 0) return null;
  const peers = peersIn(list);
  const live = hasLiveUtil(list);
  const head = [
    "impl",
    "ops/s",
    "min",
    "max",
    "ops timed",
    "util",
    ...(live ? ["live util"] : []),
    ...peers.map((p) => `×${p}`),
  ];
  const body = list.map((r) => [
    name(r.impl),
    formatRate(r.opsPerSecond),
    formatRate(r.opsPerSecondMin),
    formatRate(r.opsPerSecondMax),
    formatOps(r),
    formatUtil(r.utilization),
    ...(live ? [formatUtil(liveUtilizationOf(r))] : []),
    ...peers.map((p) => (p === r.impl ? "" : formatRatio(r.ratios[p]))),
  ]);
  return { head, body };
}

function mdTable(head: string[], body: string[][]): string {
  const esc = (s: string): string => s.replace(/\|/g, "\\|");
  return [
    `| ${head.map(esc).join(" | ")} |`,
    `| ${head.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`,
    ...body.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

/** A horizontal bar chart (log scale) of ops/s on one workload, as inline SVG. */
export function barChart(rows: readonly Row[], workload: string): string {
  const list = sortRows(rows, workload);
  if (list.length === 0) return "";
  const lo = Math.floor(Math.log10(Math.min(...list.map((r) => r.opsPerSecond))));
  const hi = Math.ceil(Math.log10(Math.max(...list.map((r) => r.opsPerSecond))));
  const left = 120;
  const width = 560;
  const bar = 18;
  const gap = 6;
  const height = list.length * (bar + gap) + 30;
  const x = (v: number): number => left + ((Math.log10(v) - lo) / Math.max(1, hi - lo)) * (width - left - 80);
  const lines: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="ops per second on ${workload}, log scale" style="font: 12px sans-serif">`,
  ];
  for (let d = lo; d <= hi; d++) {
    const gx = x(10 ** d).toFixed(1);
    lines.push(
      `<line x1="${gx}" y1="0" x2="${gx}" y2="${height - 20}" stroke="#8884" /><text x="${gx}" y="${height - 6}" text-anchor="middle" fill="currentColor">${formatRate(10 ** d)}</text>`,
    );
  }
  list.forEach((r, i) => {
    const y = i * (bar + gap);
    const w = Math.max(1, x(r.opsPerSecond) - left);
    const color = isPeer(r.impl) ? "#e8a33d" : "#3d8be8";
    lines.push(
      `<text x="${left - 6}" y="${y + 13}" text-anchor="end" fill="currentColor">${r.impl}</text><rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${bar}" fill="${color}" /><text x="${(left + w + 4).toFixed(1)}" y="${y + 13}" fill="currentColor">${formatRate(r.opsPerSecond)}</text>`,
    );
  });
  lines.push("</svg>");
  return lines.join("\n");
}

/**
 * Ops/s and words touched per call at 100, 1 k, 10 k and 100 k live blocks, for each family, with
 * the machine's load latency: what grows with the live set, and what does not.
 */
function scalingSection(rows: readonly Row[], meta: RunMeta): string[] {
  const out: string[] = ["## Cost per call as the live set grows", ""];
  out.push(
    "Each strategy's **words per call** (mean/max) counts the 32-bit words of the buffer one malloc or free " +
      "reads or writes, over the 20 k calls after the live set first reaches its cap (`watchWordAccess` of " +
      "`@heapkit/heap/testing`, in an untimed pass): the algorithm's cost, whatever the machine. first-fit-lifo walks " +
      "its list of free blocks, which grows with the live set: its count grows with it (exempt above). First " +
      "fit and next fit search an address-ordered Cartesian tree, which deepens with the logarithm of the free " +
      "blocks. Best fit, segregated fits, TLSF, buddy and pymalloc find a block through size-indexed bins or " +
      "bitmaps: their counts stay flat from 100 to 100 k live blocks.",
    "",
  );
  const latency =
    meta.loadLatency !== undefined && meta.loadLatency.length > 0
      ? ` On this machine, in this run, one random load that depends on the one before took ${formatLatency(meta.loadLatency)} (a pointer chase over that much memory, bench/src/latency.ts).`
      : "";
  out.push(
    "What grows for all of them, and for glibc, is the memory behind the blocks: W holds about 650 kB at 1 k " +
      "live blocks and 65 MB at 100 k, so the same few words an operation touches lie far apart, beyond the " +
      `caches and the TLB.${latency}`,
    "",
  );
  for (const family of ["W", "S"]) {
    const sizes = familyOf(family);
    const impls = [
      ...new Set(rows.filter((r) => sizes.includes(r.workload) && !isVariant(r.impl)).map((r) => r.impl)),
    ];
    if (impls.length === 0) continue;
    out.push(`### ${family} family`, "");
    out.push(
      mdTable(
        ["impl", ...sizes.flatMap((w) => [`${w} ops/s`, "words"])],
        impls.map((impl) => [
          isPeer(impl) ? `*${impl}*` : `**${impl}**`,
          ...sizes.flatMap((w) => {
            const row = find(rows, impl, w);
            return [row === undefined ? "–" : formatRate(row.opsPerSecond), wordsOf(row) ?? "–"];
          }),
        ]),
      ),
      "",
    );
  }
  return out;
}

/** The docs site's results page (apps/docs/results/index.md). */
export function markdownPage(
  rows: readonly Row[],
  workloads: readonly WorkloadInfo[],
  meta: RunMeta,
): string {
  const out: string[] = [...pageHeader(meta), ...meaningSection(meta)];
  out.push("## Targets", "");
  out.push(
    mdTable(
      ["target", "measured", "status"],
      checkTargets(rows).map((c) => [c.target, c.measured, c.status]),
    ),
    "",
  );
  out.push(...scalingSection(rows, meta));
  out.push(...multiWorkerSection(rows, meta));
  if (rows.some((r) => r.workload === "W")) {
    out.push("## ops/s on W (log scale; blue: heapkit, orange: peers)", "", barChart(rows, "W"), "");
  }
  out.push(...workloadTables(rows, workloads));
  if (meta.notes.length > 0) {
    out.push("## Notes", "", ...meta.notes.map((n) => `- ${n}`), "");
  }
  out.push(
    "Raw rows: `pnpm bench --json`, or bench/results/latest.json after any run. How the workloads are made: " +
      "bench/README.md.",
    "",
  );
  return out.join("\n");
}

/** The title, when and on what machine the run was made, and the warning of a --quick run. */
function pageHeader(meta: RunMeta): string[] {
  const m = meta.machine;
  const out: string[] = [];
  out.push("# Benchmark results", "");
  out.push(
    "<!-- Written by `pnpm bench` (bench/src/report.ts): edits here are overwritten by the next run. -->",
    "",
  );
  out.push(
    `Measured ${meta.date.replace("T", " ").slice(0, 16)} UTC with \`pnpm bench${meta.quick ? " --quick" : ""}\` ` +
      `in ${meta.seconds.toFixed(0)} s.`,
    "",
  );
  out.push(
    mdTable(
      ["machine", ""],
      [
        ["OS", m.os],
        ["CPU", `${m.cpu}, ${m.cores} logical cores, ${m.memoryGiB} GiB`],
        ["node", m.node],
        ["C library / compiler", `${m.libc ?? "–"} / ${m.cc ?? "none: glibc peer skipped"}`],
        ["python", m.python ?? "none: cpython peer skipped"],
      ],
    ),
    "",
  );
  if (meta.quick) {
    out.push(
      "::: warning Quick run",
      `This page comes from a \`--quick\` run: each run had a ${meta.budgetMs} ms budget, so slower implementations were measured on a shorter prefix of each workload (see *ops timed*). Run \`pnpm bench\` for the published figures.`,
      ":::",
      "",
    );
  }
  return out;
}

/** What each column means, and the peers. */
function meaningSection(meta: RunMeta): string[] {
  const out: string[] = [];
  out.push("## What the numbers mean", "");
  out.push(
    "- **ops/s** — allocations, frees and reallocs per second, each call counting one, median of " +
      `${meta.runs} timed runs after a warm-up run; **min** and **max** are the slowest and fastest run. ` +
      "Every run starts from a fresh allocator (a new heap, pool or process heap), and each implementation " +
      "runs in a process of its own. A heapkit run formats its fresh heap over the memory of the runs before " +
      "it, as glibc reuses its process heap, so neither pays the first touch of each page inside the timing. " +
      "The workload is pre-generated into typed arrays, so the loop allocates " +
      "no JS objects of its own. For gc-* rows, ops/s is objects traced per second by one full collection.",
    "- **the machine's state** — before and after every cell but the gc ones the bench times two probes in " +
      "its own process (bench/src/calibrate.ts): a fixed integer loop and a pointer chase over 8 MiB. When " +
      `either, the slower of its two timings, is past the run's fastest of it by more than ${SLOW_STATE_FACTORS[0]}× ` +
      `(the loop) or ${SLOW_STATE_FACTORS[1]}× (the chase, which wanders more), ` +
      "the machine was in a slow spell (on the 2-core VM the host now and then slows every process by up to " +
      "2.6×, and the cache it shares comes and goes), and the cell is measured again, up to " +
      `${MAX_ATTEMPTS} times, keeping the attempt in the best state; *Notes* names those cells, and the JSON ` +
      "has each row's `extra.machineState`, `extra.calibrationMs`, `extra.memoryLatencyNs` and `extra.attempts`.",
    "- **ops timed** — a slow implementation that would take more than " +
      `${meta.budgetMs} ms per run is measured on the prefix of the workload that fits, and says so here ` +
      '("N of M"). A prefix starts with the live set still filling, so it flatters the slow implementation. ' +
      (meta.quick ? "" : "@thi.ng/malloc on W is the exception: one timed run of the whole workload."),
    "- **util** — utilization as malloc-lab defines it: the peak of live payload *as requested* divided by the " +
      "high-water mark of the memory the allocator took (heapkit: its heap break; @thi.ng/malloc: its `top`; " +
      "glibc: the `brk` extent plus mmapped chunks, sampled after every op in an untimed pass; Uint8Array: " +
      "`process.memoryUsage()` `arrayBuffers` plus JS heap growth, sampled every 1024 ops). 1.0 would mean no " +
      "headers, padding or fragmentation at all.",
    "- **×peer** — this row's ops/s divided by the peer's on the same workload, measured in the same run.",
    `- **strategy${FIXED_MEMORY}** (W only) — the same strategy over a fixed-size plain ArrayBuffer the size of ` +
      "thi.ng's pool (what `createHeap({ size: n, maxSize: n })` makes), instead of the default memory (one " +
      'plain ArrayBuffer reserved at the heap\'s limit, `growth: "reserve"`): like for like with thi.ng.',
    `- **strategy${RESIZABLE_MEMORY}** (W only; ${BOUNDED_STRATEGIES.join(", ")}) — the same strategy over a ` +
      'resizable ArrayBuffer that grows with the heap (`growth: "resize"`, the heap\'s default before ' +
      "2026-12-05). V8 in node 20 checks every typed-array access to a resizable buffer against its current " +
      "length; a plain buffer needs no such check. The pair is what that costs.",
    `- **strategy${FRONT_CACHE}** (W, pairs and the real traces) — the same strategy with the heap's per-worker front cache ` +
      "forced on (`createHeap({ strategy, memory, format: true, cache: true })`, over the default " +
      "memory). The cache keeps small freed blocks per size class and hands them back to the next malloc " +
      "of that class without asking the strategy: faster, but the blocks it holds are neither live nor " +
      "free to the strategy, so it costs utilization — compare this row's **util** on W with the bare " +
      "strategy's. The bare row is the heap's default for one thread, the cache off. The AssemblyScript " +
      "target reads these rows on W and pairs; a real trace's target counts them too, held to the bare " +
      "strategy's utilization floor.",
    "- **live util** (the multi-worker tables) — the heap's own peak live bytes over its high-water mark; " +
      "see *Sharing a heap between workers* for how it differs from **util**.",
    "",
  );
  out.push("Peers:", "");
  out.push(
    "- **glibc** — the system malloc, driven by a small C replay program (bench/native/replay.c, `cc -O2`) " +
      "reading the same workload file; it times only the malloc/free loop.",
    "- **thi.ng** — [@thi.ng/malloc](https://www.npmjs.com/package/@thi.ng/malloc), first fit over an " +
      "ArrayBuffer; its free and used lists are walked on every call, so it is measured on a prefix " +
      (meta.quick
        ? "(W included)."
        : "(but on W, on the whole workload: one timed run, the ×thi.ng target's divisor)."),
    "- **assemblyscript** — AssemblyScript's own TLSF memory manager compiled to WebAssembly " +
      "(bench/wasm/assemblyscript-heap.ts: `heap.alloc`/`heap.free`/`heap.realloc` exported, built by the bench " +
      "with `asc -O3 --runtime minimal`) and called from JavaScript; each run is a fresh instance over the " +
      "same imported memory, and its utilization is read after the warm-up, the one run on fresh memory.",
    "- **uint8array** — `new Uint8Array(n)` per block and dropping the reference to free it: what JS does " +
      "with no allocator; V8's GC does the freeing, inside the timed loop.",
    "- **cpython** — python3's `gc.collect()` over the same object graph as the gc-* workloads.",
    "",
  );
  return out;
}

/** One table per workload, fastest first. */
function workloadTables(rows: readonly Row[], workloads: readonly WorkloadInfo[]): string[] {
  const out: string[] = ["## Every workload", ""];
  for (const w of workloads) {
    const table = workloadTable(rows, w.name, (impl) => (isPeer(impl) ? `*${impl}*` : `**${impl}**`));
    if (table === null) continue;
    out.push(`### ${w.name}`, "", w.description, "");
    out.push(mdTable(table.head, table.body), "");
  }
  return out;
}
