/**
 * `heapkit compare TRACE... [--strategies a,b|all] [--html report.html] [--json]` — every strategy on
 * every trace, run in worker threads: a table with the best of each column coloured, JSON, and a
 * self-contained HTML report with charts and a heap map per strategy at the peak. Each trace also gets
 * its fragmentation floors (`heapkit floor`), so a strategy's figure can be read against the best any
 * allocator could do.
 *
 * @module
 */
import { writeFile } from "node:fs/promises";
import { basename } from "node:path";
import { type FragmentationFloor, fragmentationFloor, malLabScore, type ReplayResult } from "@heapkit/trace";
import Table from "cli-table3";
import type { Command } from "commander";
import { type CliIo, colorsFor } from "../io.js";
import { count, formatBytes, percent } from "../lib/format.js";
import { renderReport } from "../lib/html-report.js";
import { type JobResult, type ReplayJob, withoutSeries } from "../lib/jobs.js";
import { addCacheOptions, cacheChoice, parseCount, parseMaxHeap } from "../lib/options.js";
import { runPool } from "../lib/pool.js";
import { Progress } from "../lib/progress.js";
import { parseStrategyList } from "../lib/strategy.js";

interface CompareOptions {
  strategies?: string;
  html?: string;
  json?: boolean;
  lenient?: boolean;
  maxHeap?: string;
  jobs?: string;
  referenceOps: string;
  cache?: boolean;
}

/** Map cells of each strategy's picture in the HTML report. */
export const REPORT_MAP_COLUMNS = 192;
/** Rows of those pictures. */
export const REPORT_MAP_ROWS = 48;

/** Registers `heapkit compare`. */
export function registerCompare(program: Command, io: CliIo): void {
  const command = program
    .command("compare")
    .description("replay every trace with every strategy (in worker threads) and compare the figures")
    .argument("<traces...>", "trace files (.rep, mtrace or .jsonl, optionally .gz)")
    .option("--strategies <names>", 'strategies separated by commas, or "all"', "all")
    .option("--html <file>", "also write a self-contained HTML report with charts and heap maps")
    .option("--json", "print one JSON object: every result and each strategy's malloc-lab score")
    .option("--lenient", "skip and count malformed lines")
    .option("--max-heap <bytes>", "each heap's limit, like 256m or 1g", "1g")
    .option("--jobs <n>", "worker threads (default: one per core; 1 runs in this thread)")
    .option(
      "--reference-ops <n>",
      "ops per second that earns the malloc-lab score's full throughput share",
      "1000000",
    );
  addCacheOptions(command).action((traces: string[], options: CompareOptions) =>
    runCompare(traces, options, io),
  );
}

/** A strategy's malloc-lab score over the traces. */
interface StrategyScore {
  strategy: string;
  score: number;
  meanUtilization: number;
  throughput: number;
  worstFragmentation: number;
}

async function runCompare(traces: string[], options: CompareOptions, io: CliIo): Promise<void> {
  const strategies = parseStrategyList(options.strategies);
  const maxHeap = parseMaxHeap(options.maxHeap);
  const reference = parseCount("--reference-ops", options.referenceOps, 1);
  const threads = options.jobs === undefined ? undefined : parseCount("--jobs", options.jobs, 1, 64);
  const mapCells = options.html ? REPORT_MAP_COLUMNS * REPORT_MAP_ROWS : 0;
  const jobs: ReplayJob[] = traces.flatMap((trace) =>
    strategies.map((strategy) => ({
      trace,
      strategy,
      maxHeap,
      lenient: options.lenient === true,
      mapCells,
      cache: options.cache,
    })),
  );
  const progress = new Progress(io, options.json === true);
  const started = performance.now();
  let run: Awaited<ReturnType<typeof runPool>>;
  let floors: FragmentationFloor[];
  try {
    // the floors read each trace on this thread (gunzip on libuv's pool) while the workers replay
    [run, floors] = await Promise.all([
      runPool(
        jobs,
        (index, fraction) =>
          progress.update(`${jobs[index].strategy} on ${basename(jobs[index].trace)}`, fraction),
        threads,
      ),
      Promise.all(traces.map((trace) => fragmentationFloor(trace, { lenient: options.lenient === true }))),
    ]);
  } finally {
    progress.stop();
  }
  const floorOf = new Map(traces.map((trace, i) => [trace, floors[i]]));
  const seconds = (performance.now() - started) / 1000;
  const results = run.results;
  const scores: StrategyScore[] = strategies.map((strategy) => {
    const mine = results.filter((r) => r.result.strategy === strategy).map((r) => r.result);
    const score = malLabScore(mine, reference);
    return {
      strategy,
      score: score.score,
      meanUtilization: score.meanUtilization,
      throughput: score.throughput,
      worstFragmentation: Math.max(...mine.map((r) => r.fragmentation)),
    };
  });
  if (options.html) {
    await writeFile(
      options.html,
      renderReport(results, scores, { reference, seconds, threads: run.threads }, floorOf),
    );
  }
  if (options.json) {
    io.out(
      `${JSON.stringify({
        results: results.map((r) => withoutSeries(r.result)),
        scores,
        floors,
        referenceOpsPerSecond: reference,
        seconds,
        threads: run.threads,
        cache: cacheChoice(options.cache),
        ...(options.html ? { html: options.html } : {}),
      })}\n`,
    );
    return;
  }
  printTable(results, scores, floorOf, io);
  io.out(
    `${results.length} runs in ${seconds.toFixed(1)} s ${run.threads > 0 ? `on ${run.threads} worker threads` : "in this thread"}` +
      (options.html ? `; report written to ${options.html}` : "") +
      "\n",
  );
}

/** Columns of the table: label, value, format, and whether lower is better. */
const COLUMNS: [string, (r: ReplayResult) => number, (v: number) => string, boolean][] = [
  ["utilization", (r) => r.utilization, percent, false],
  ["fragmentation", (r) => r.fragmentation, percent, true],
  ["high-water", (r) => r.heapHighWaterBytes, formatBytes, true],
  ["overhead", (r) => r.overheadBytes, formatBytes, true],
  ["failed", (r) => r.failedAllocations, count, true],
  ["ops/s", (r) => r.opsPerSecond, count, false],
];

/** One line on a trace's floors. */
export function floorLine(floor: FragmentationFloor | undefined): string {
  if (floor === undefined) return "";
  return `fragmentation floor: ${percent(floor.header)} for any allocator with 4-byte headers, ${percent(floor.headerless)} for any at all (8-byte aligned, no headers)`;
}

function printTable(
  results: JobResult[],
  scores: StrategyScore[],
  floors: Map<string, FragmentationFloor>,
  io: CliIo,
): void {
  const c = colorsFor(io);
  const traces = [...new Set(results.map((r) => r.result.trace))];
  for (const trace of traces) {
    const rows = results.map((r) => r.result).filter((r) => r.trace === trace);
    const first = rows[0];
    io.out(
      `${c.bold(basename(trace))}: ${count(first.ops)} ops, peak live ${formatBytes(first.peakLiveBytes)}` +
        (first.summary && first.summary.unknownFrees > 0
          ? `, ${count(first.summary.unknownFrees)} unknown frees`
          : "") +
        "\n" +
        `${floorLine(floors.get(trace))}\n`,
    );
    const table = new Table({
      head: ["strategy", ...COLUMNS.map(([label]) => label)],
      style: { head: io.color ? ["cyan"] : [], border: io.color ? ["grey"] : [] },
      colAligns: ["left", ...COLUMNS.map(() => "right" as const)],
    });
    const best = COLUMNS.map(([, value, , lower]) => {
      const values = rows.map(value);
      return lower ? Math.min(...values) : Math.max(...values);
    });
    for (const row of rows) {
      table.push([
        row.strategy,
        ...COLUMNS.map(([, value, format], k) => {
          const text = format(value(row));
          return value(row) === best[k] && rows.length > 1 ? c.green(c.bold(text)) : text;
        }),
      ]);
    }
    io.out(`${table.toString()}\n\n`);
  }
  const table = new Table({
    head: ["strategy", "malloc-lab score", "mean utilization", "worst fragmentation", "throughput ops/s"],
    style: { head: io.color ? ["cyan"] : [], border: io.color ? ["grey"] : [] },
    colAligns: ["left", "right", "right", "right", "right"],
  });
  const bestScore = Math.max(...scores.map((s) => s.score));
  for (const s of scores) {
    const score = s.score.toFixed(1);
    table.push([
      s.strategy,
      s.score === bestScore && scores.length > 1 ? c.green(c.bold(score)) : score,
      percent(s.meanUtilization),
      percent(s.worstFragmentation),
      count(s.throughput),
    ]);
  }
  io.out(`${c.bold("over all traces")}\n${table.toString()}\n`);
}
