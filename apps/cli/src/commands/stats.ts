/**
 * `heapkit stats TRACE --strategy pymalloc` — the strategy's own report (pymalloc's reads like CPython's
 * `sys._debugmallocstats()`) after replaying a trace up to an op, its peak, or its end.
 *
 * @module
 */
import { strategyNames } from "@heapkit/strategies";
import type { Command } from "commander";
import type { CliIo } from "../io.js";
import { checkStrategy, heapAt, makeHeap, Progress, parseAt, parseMaxHeap } from "./trace-run.js";

interface StatsOptions {
  strategy: string;
  at: string;
  lenient?: boolean;
  maxHeap?: string;
}

/** The strategies whose engines write a report of their own. */
export function strategiesWithReport(): string[] {
  return strategyNames.filter((name) => makeHeap(name, 1 << 20).report() !== undefined);
}

/** Registers `heapkit stats`. */
export function registerStats(program: Command, io: CliIo): void {
  const withReport = strategyNames.includes("pymalloc") ? "pymalloc" : (strategyNames[0] ?? "first-fit");
  program
    .command("stats")
    .description(
      "replay a trace and print the strategy's own report (pymalloc's reads like sys._debugmallocstats())",
    )
    .argument("<trace>", "the trace file")
    .option("-s, --strategy <name>", "a strategy with a report of its own", withReport)
    .option("--at <op>", 'the number of ops to replay first, "peak" (most live bytes) or "end"', "peak")
    .option("--lenient", "skip and count malformed lines")
    .option("--max-heap <bytes>", "the heap's limit, like 256m or 1g", "1g")
    .action((trace: string, options: StatsOptions) => runStats(trace, options, io));
}

async function runStats(trace: string, options: StatsOptions, io: CliIo): Promise<void> {
  const strategy = checkStrategy(options.strategy);
  if (makeHeap(strategy, 1 << 20).report() === undefined) {
    const others = strategiesWithReport();
    throw new Error(
      `the ${strategy} strategy has no report of its own; ` +
        (others.length > 0 ? `strategies with one: ${others.join(", ")}` : "no strategy here has one yet"),
    );
  }
  const at = parseAt(options.at);
  const job = { trace, strategy, maxHeap: parseMaxHeap(options.maxHeap), lenient: options.lenient === true };
  const progress = new Progress(io, false);
  try {
    let op = at === "peak" ? Number.POSITIVE_INFINITY : at;
    if (at === "peak") {
      const first = await heapAt(job, op, (_o, f) => progress.update("finding the peak", f));
      op = first.result.peakLiveOp;
    }
    const { heap, result } = await heapAt(job, op, (_o, f) => progress.update("replaying", f));
    progress.stop();
    const done = result.stoppedAfter ?? result.ops;
    io.out(
      `# ${strategy} on ${trace} after ${done} of the trace's ops${at === "peak" ? " (the peak of live bytes)" : ""}\n`,
    );
    io.out(`${(heap.report() ?? "").trimEnd()}\n`);
  } finally {
    progress.stop();
  }
}
