/**
 * Rows of results, their statistics and ratios, and number formatting shared by the terminal table
 * and the markdown page.
 *
 * @module
 */

/** The peers: implementations heapkit is measured against. */
export const PEERS = [
  "glibc",
  "thi.ng",
  "assemblyscript",
  "shared-memory-objects",
  "uint8array",
  "cpython",
] as const;

/** The multi-worker peer: @daneren2005/shared-memory-objects, bundled from its source. */
export const SHARED_MEMORY_OBJECTS = "shared-memory-objects";

/**
 * The suffix of a strategy's shared heap in the multi-worker family with no front caches
 * (`createSharedHeap({ cache: false })`): every call takes the one heap lock, the naive way.
 */
export const GLOBAL_LOCK = "/global-lock";

/**
 * The suffix of a strategy measured over a fixed-size plain ArrayBuffer (`tlsf/fixed`, on W) in a pool
 * the size of thi.ng's, instead of the default memory (a plain buffer reserved at the heap's 2 GiB
 * limit): like for like with thi.ng's pool.
 */
export const FIXED_MEMORY = "/fixed";

/** Whether a row is a strategy over a fixed-size buffer. */
export const isFixedMemory = (impl: string): boolean => impl.endsWith(FIXED_MEMORY);

/**
 * The suffix of a strategy measured over a resizable ArrayBuffer (`tlsf/resize`, on W:
 * `growth: "resize"`, the heap's default memory before 2026-12-05) instead of the default reserved
 * one. V8 (node 20) checks every typed-array access to a resizable buffer against its current length;
 * the pair shows what that costs.
 */
export const RESIZABLE_MEMORY = "/resize";

/** Whether a row is a strategy over a resizable buffer. */
export const isResizableMemory = (impl: string): boolean => impl.endsWith(RESIZABLE_MEMORY);

/**
 * The suffix of a strategy measured with the heap's per-worker front cache on (`tlsf/cache`, on W,
 * pairs and the real traces): `createHeap({ strategy, memory, format: true, cache: true })` over the default
 * memory. For an unshared heap the cache is off by default (it holds freed small blocks back from the
 * strategy, which costs utilization); the bare strategy row is that default.
 */
export const FRONT_CACHE = "/cache";

/** Whether a row is a strategy with the front cache forced on. */
export const isFrontCache = (impl: string): boolean => impl.endsWith(FRONT_CACHE);

/**
 * A strategy row that is a variant of the plain one: over a fixed-size or a resizable buffer, or with
 * the front cache on.
 */
export const isVariant = (impl: string): boolean =>
  isFixedMemory(impl) || isResizableMemory(impl) || isFrontCache(impl);

/** Whether a workload is one of the bench's own (W, S and their families, pairs, gc-*), not a real trace. */
export const isSynthetic = (workload: string): boolean => /^(W|S)(-|x|$)|^pairs$|^gc-/.test(workload);

/** One implementation on one workload: the unit of the JSON output. */
export interface Row {
  /**
   * A heapkit strategy name (or with a suffix: `/fixed`, `/resize`, `/cache`, `/global-lock`), or a peer:
   * `thi.ng`, `uint8array`, `glibc`, `cpython`, `assemblyscript`, `shared-memory-objects`.
   */
  impl: string;
  /** `W`, `W-100`, `W-1k`, `W-100k`, `pairs`, a trace's name, `gc-100k` or `gc-1M`. */
  workload: string;
  /** Median over the timed runs of operations per second (for gc-*: objects traced per second). */
  opsPerSecond: number;
  /** The slowest run's operations per second. */
  opsPerSecondMin: number;
  /** The fastest run's operations per second. */
  opsPerSecondMax: number;
  /** Timed runs (after a warm-up). */
  runs: number;
  /** Operations each timed run performed (fewer than `opsTotal` when a slow implementation was cut to a prefix). */
  opsTimed: number;
  /** Operations in the whole workload. */
  opsTotal: number;
  /** Peak live payload / high-water of the memory taken; null where it does not apply. */
  utilization: number | null;
  /**
   * "live util": the heap's own peak live bytes over its high-water mark (`extra.heapPeakLiveBytes /
   * extra.peakHeapBytes`), where the implementation reports the former (heapkit's rows of the
   * multi-worker family); null elsewhere. Absent in results files written before it existed.
   */
  liveUtilization?: number | null;
  /** This row's ops/s divided by each peer's on the same workload in the same run. */
  ratios: Record<string, number>;
  /** Implementation-specific figures (bytes, collector counts, …). */
  extra: Record<string, number | string>;
}

/** The median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * A row's "live util": its `liveUtilization`, or for a row of an older results file the same figure
 * from its `extra` (`heapPeakLiveBytes / peakHeapBytes`); null when either is missing.
 */
export function liveUtilizationOf(
  row: Pick<Row, "extra"> & { liveUtilization?: number | null },
): number | null {
  if (row.liveUtilization !== undefined && row.liveUtilization !== null) return row.liveUtilization;
  const live = row.extra.heapPeakLiveBytes;
  const high = row.extra.peakHeapBytes;
  return typeof live === "number" && typeof high === "number" && live > 0 && high > 0 ? live / high : null;
}

/** Makes a row from the seconds of each timed run. */
export function rowFromRuns(
  impl: string,
  workload: string,
  opsTimed: number,
  opsTotal: number,
  seconds: readonly number[],
  utilization: number | null,
  extra: Record<string, number | string>,
): Row {
  const rates = seconds.map((s) => opsTimed / s);
  return {
    impl,
    workload,
    opsPerSecond: median(rates),
    opsPerSecondMin: Math.min(...rates),
    opsPerSecondMax: Math.max(...rates),
    runs: seconds.length,
    opsTimed,
    opsTotal,
    utilization,
    liveUtilization: liveUtilizationOf({ extra }),
    ratios: {},
    extra,
  };
}

/** Fills every row's `ratios` with its speed over each peer's on the same workload. */
export function addRatios(rows: Row[]): void {
  for (const row of rows) {
    for (const peer of PEERS) {
      if (peer === row.impl) continue;
      const other = rows.find((r) => r.impl === peer && r.workload === row.workload);
      if (other !== undefined && other.opsPerSecond > 0)
        row.ratios[peer] = row.opsPerSecond / other.opsPerSecond;
    }
  }
}

/** `12.3 M`, `456 k`, `789`: a rate with three significant digits. */
export function formatRate(x: number): string {
  for (const [unit, name] of [
    [1e9, "G"],
    [1e6, "M"],
    [1e3, "k"],
  ] as const) {
    // 0.9995 × unit rounds up to "1.00 unit", not "1.00e+3" of the smaller one
    if (x >= unit * 0.9995) return `${(x / unit).toPrecision(3)} ${name}`;
  }
  return x.toPrecision(3);
}

/** `0.93`, or `–` for null. */
export function formatUtil(x: number | null): string {
  return x === null ? "–" : x.toFixed(3);
}

/** `2.1×`, `1,234×`, `0.41×`. */
export function formatRatio(x: number | undefined): string {
  if (x === undefined) return "–";
  if (x >= 100) return `${Math.round(x).toLocaleString("en-US")}×`;
  if (x >= 10) return `${x.toFixed(1)}×`;
  return `${x.toFixed(2)}×`;
}

/** `1,000,000`, or `300,000 of 1,000,000` for a prefix. */
export function formatOps(row: Row): string {
  const fmt = (n: number): string => n.toLocaleString("en-US");
  return row.opsTimed === row.opsTotal ? fmt(row.opsTotal) : `${fmt(row.opsTimed)} of ${fmt(row.opsTotal)}`;
}
