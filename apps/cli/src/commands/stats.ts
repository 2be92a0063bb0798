/**
 * `heapkit stats TRACE --strategy pymalloc` — the strategy's own report (pymalloc's reads like CPython's
 * `sys._debugmallocstats()`) after replaying a trace up to an op, its end, or its peak of live bytes.
 *
 * @module
 */
import { strategyNames } from "@heapkit/strategies";
import type { Command } from "commander";
import type { CliIo } from "../io.js";
import { makeHeap, type ReplayedHeap, replayTo, replayToPeak } from "../lib/jobs.js";
import { addCacheOptions, cacheChoice, parseAt, parseMaxHeap } from "../lib/options.js";
import { Progress } from "../lib/progress.js";
import { parseStrategyName } from "../lib/strategy.js";

interface StatsOptions {
  strategy: string;
  at: string;
  lenient?: boolean;
  maxHeap?: string;
  json?: boolean;
  cache?: boolean;
}

/** The strategies whose engines write a report of their own. */
export function strategiesWithReport(): string[] {
  return strategyNames.filter((name) => makeHeap(name, 1 << 20).report() !== undefined);
}

/** Registers `heapkit stats`. */
export function registerStats(program: Command, io: CliIo): void {
  const withReport = strategyNames.includes("pymalloc") ? "pymalloc" : (strategyNames[0] ?? "first-fit");
  const command = program
    .command("stats")
    .description(
      "replay a trace and print the strategy's own report (pymalloc's reads like sys._debugmallocstats())",
    )
    .argument("<trace>", "the trace file")
    .option("-s, --strategy <name>", "a strategy with a report of its own", withReport)
    .option("--at <op>", 'the number of ops to replay first, "peak" (most live bytes) or "end"', "peak")
    .option("--lenient", "skip and count malformed lines")
    .option("--max-heap <bytes>", "the heap's limit, like 256m or 1g", "1g")
    .option("--json", "print one JSON object: the op, the heap's stats and the report's text");
  addCacheOptions(command).action((trace: string, options: StatsOptions) => runStats(trace, options, io));
}

async function runStats(trace: string, options: StatsOptions, io: CliIo): Promise<void> {
  const strategy = parseStrategyName(options.strategy);
  if (makeHeap(strategy, 1 << 20).report() === undefined) {
    const others = strategiesWithReport();
    throw new Error(
      `the ${strategy} strategy has no report of its own; ` +
        (others.length > 0 ? `strategies with one: ${others.join(", ")}` : "no strategy here has one yet"),
    );
  }
  const at = parseAt(options.at);
  const target = {
    trace,
    strategy,
    maxHeap: parseMaxHeap(options.maxHeap),
    lenient: options.lenient === true,
    cache: options.cache,
  };
  const progress = new Progress(io, options.json === true);
  let replayed: ReplayedHeap;
  try {
    const onProgress = (fraction: number) => progress.update("replaying", fraction);
    replayed =
      at === "peak" ? await replayToPeak(target, onProgress) : await replayTo(target, at, onProgress);
  } finally {
    progress.stop();
  }
  const { heap, op, result } = replayed;
  const report = (heap.report() ?? "").trimEnd();
  if (options.json) {
    io.out(
      `${JSON.stringify({ strategy, trace, op, peakLiveOp: result.peakLiveOp, stats: heap.stats(), report, cache: cacheChoice(options.cache) })}\n`,
    );
    return;
  }
  const where = at === "peak" ? " (the peak of live bytes)" : "";
  io.out(`# ${strategy} on ${trace} after ${op} of the trace's ops${where}\n`);
  io.out(`${report}\n`);
}
