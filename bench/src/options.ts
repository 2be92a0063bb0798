/**
 * The bench's command line, read with `node:util` `parseArgs`: the options, their defaults, the
 * `--help` text, and a {@link UsageError} (printed as one line, no stack) for anything else.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** Parsed command-line options. */
export interface BenchOptions {
  /** Shorter budget, fewer workloads. */
  quick: boolean;
  /** JSON array on stdout. */
  json: boolean;
  /** Timed runs per cell. */
  runs: number;
  /** Budget of one run in ms. */
  budgetMs: number;
  /** Only these implementations, or all. */
  impls: Set<string> | null;
  /** Only these workloads, or all. */
  workloads: Set<string> | null;
  /** Worker counts of the multi-worker family. */
  workers: number[];
  /** Write the docs page. */
  page: boolean;
  /** Re-render the table and page from this results file (bench/results/latest.json) instead of measuring. */
  from: string | null;
  /** Print the usage and stop. */
  help: boolean;
}

/** A command line the bench cannot run: the message says what was wrong and what is allowed. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/**
 * The worker counts of the multi-worker family unless `--workers` says otherwise, or `--workload`
 * names some (`Wx4`).
 */
export const DEFAULT_WORKERS = [1, 2, 4];

/** What `--help` prints. */
export const USAGE = `usage: pnpm bench [options]

Every heapkit strategy and every peer on every workload, each cell in a process of its own, ratios
from the same run. Writes bench/results/latest.json and apps/docs/results/index.md.

options:
  --quick            W-100, W, W-100k, S, pairs (200 k), gc-100k and the multi-worker family at 1 and
                     2 workers, with a 100 ms budget per run
  --json             one JSON array of rows on stdout; the table goes to stderr
  --runs N           timed runs per cell after the warm-up (default 5; at least 1)
  --budget MS        time budget of one run before a slow implementation is cut to a prefix
                     (default 2000, 100 with --quick)
  --impl a,b         only these implementations (strategy names, strategy/fixed, strategy/resize,
                     strategy/cache, strategy/global-lock, glibc, thi.ng, uint8array, assemblyscript,
                     shared-memory-objects, cpython); on the multi-worker family a strategy brings its
                     strategy/global-lock row along, and in a full run its strategy/fixed row (W), for
                     segregated, tlsf, buddy and pymalloc its strategy/resize row (W: a resizable
                     buffer), and for tlsf, segregated, best-fit, buddy and pymalloc its strategy/cache
                     row (W, pairs and the real traces: the front cache on); a /fixed, /resize or
                     /cache row named here runs in any run
  --workload a,b     only these workloads (W, W-100, …, S, pairs, a trace's name, gc-100k, Wx2, …)
  --workers a,b      worker counts of the multi-worker family Wx1, Wx2, … (default 1,2,4)
  --no-page          do not write the docs page
  --from FILE        measure nothing: render the table and the page again from a results file
  -h, --help         this text
`;

const list = (value: string | undefined): Set<string> | null =>
  value === undefined ? null : new Set(value.split(",").filter((s) => s !== ""));

function positiveInteger(option: string, value: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new UsageError(`${option} takes a whole number from 1 to ${max}, got "${value}"`);
  return n;
}

/**
 * Throws {@link UsageError} for names in a `--impl` or `--workload` list that are not among `known`:
 * a misspelt name would otherwise measure nothing and say nothing.
 */
export function checkNames(option: string, asked: Set<string> | null, known: readonly string[]): void {
  const unknown = [...(asked ?? [])].filter((name) => !known.includes(name));
  if (unknown.length > 0)
    throw new UsageError(
      `${option}: no ${unknown.map((n) => `"${n}"`).join(", ")}; there are ${known.join(", ")}`,
    );
}

/**
 * The names `--impl` takes: each strategy, with `suffixes` (`/fixed`, `/resize`, `/cache`, `/global-lock`), and
 * the peers.
 */
export function implNames(
  strategies: readonly string[],
  suffixes: readonly string[],
  peers: readonly string[],
): string[] {
  return [...strategies.flatMap((s) => [s, ...suffixes.map((x) => s + x)]), ...peers];
}

/**
 * The variant rows (`strategy/fixed`, `strategy/resize`, `strategy/cache`) a run measures, in `strategies`' order: in a
 * full run each wanted strategy that is `among` those the variant is for brings its own along; one named
 * in `--impl` runs in any run, `--quick` included.
 */
export function variantImpls(
  o: Pick<BenchOptions, "quick" | "impls">,
  strategies: readonly string[],
  suffix: string,
  among: readonly string[],
): string[] {
  const want = (impl: string): boolean => o.impls === null || o.impls.has(impl);
  return strategies
    .filter((s) => (!o.quick && want(s) && among.includes(s)) || o.impls?.has(s + suffix) === true)
    .map((s) => s + suffix);
}

/** Parses `process.argv.slice(2)`; throws {@link UsageError} for an unknown option or a bad value. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  let parsed: ReturnType<typeof parseWithNode>;
  try {
    parsed = parseWithNode(argv);
  } catch (e) {
    const err = e as { code?: string; message: string };
    if (err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      const option = /'([^']+)'/.exec(err.message)?.[1] ?? err.message;
      throw new UsageError(`unknown option ${option} (see --help)`);
    }
    if (
      err.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" ||
      err.code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL"
    )
      throw new UsageError(`${err.message} (see --help)`);
    throw e;
  }
  const v = parsed.values;
  const quick = v.quick === true;
  const budgetMs =
    v.budget === undefined ? (quick ? 100 : 2000) : positiveInteger("--budget", v.budget, 3_600_000);
  const workloads = list(v.workload);
  // a multi-worker workload asked by name (Wx4) brings its worker count along
  const named = [...(workloads ?? [])].flatMap((name) => {
    const m = /^Wx(\d+)$/.exec(name);
    return m === null ? [] : [positiveInteger("--workload", m[1], 64)];
  });
  const workers =
    v.workers !== undefined
      ? [...(list(v.workers) ?? [])].map((w) => positiveInteger("--workers", w, 64))
      : named.length > 0
        ? named
        : quick
          ? DEFAULT_WORKERS.slice(0, 2)
          : DEFAULT_WORKERS;
  return {
    quick,
    json: v.json === true,
    runs: v.runs === undefined ? 5 : positiveInteger("--runs", v.runs, 1000),
    budgetMs,
    impls: list(v.impl),
    workloads,
    workers: [...new Set(workers)].sort((a, b) => a - b),
    page: v["no-page"] !== true,
    from: v.from ?? null,
    help: v.help === true,
  };
}

function parseWithNode(argv: readonly string[]) {
  return parseArgs({
    args: argv.filter((a) => a !== "--"),
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: "boolean" },
      json: { type: "boolean" },
      runs: { type: "string" },
      budget: { type: "string" },
      impl: { type: "string" },
      workload: { type: "string" },
      workers: { type: "string" },
      "no-page": { type: "boolean" },
      from: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}
