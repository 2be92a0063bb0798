/**
 * `heapkit replay TRACE --strategy NAME [--json]` — one strategy on one trace: utilization,
 * fragmentation, speed and what reading the trace found.
 *
 * @module
 */
import { strategyNames } from "@heapkit/strategies";
import type { Command } from "commander";
import { type CliIo, colorsFor } from "../io.js";
import { count, formatBytes, percent } from "../lib/format.js";
import { replayTo, withoutSeries } from "../lib/jobs.js";
import { addCacheOptions, cacheChoice, parseMaxHeap } from "../lib/options.js";
import { Progress } from "../lib/progress.js";
import { parseReader, READER_CHOICES, readerFor } from "../lib/read-ahead.js";
import { parseStrategyName } from "../lib/strategy.js";

interface ReplayCommandOptions {
  strategy: string;
  json?: boolean;
  lenient?: boolean;
  maxHeap?: string;
  cache?: boolean;
  reader?: string;
}

/** Registers `heapkit replay`. */
export function registerReplay(program: Command, io: CliIo): void {
  const command = program
    .command("replay")
    .description(
      "replay a trace (.rep, mtrace or .jsonl, optionally .gz) against one strategy and measure it",
    )
    .argument("<trace>", "the trace file")
    .option("-s, --strategy <name>", `placement strategy: ${strategyNames.join(", ")}`, "first-fit")
    .option("--json", "print one JSON object with the figures")
    .option("--lenient", "skip and count malformed lines instead of stopping at the first")
    .option("--max-heap <bytes>", "the heap's limit, like 256m or 1g", "1g")
    .option(
      "--reader <where>",
      `where the trace is read: ${READER_CHOICES.join(", ")} (auto: a thread for a trace of 1 MiB of text or more on 4 or more cores with two free, else main)`,
      "auto",
    );
  addCacheOptions(command).action((trace: string, options: ReplayCommandOptions) =>
    runReplay(trace, options, io),
  );
}

async function runReplay(trace: string, options: ReplayCommandOptions, io: CliIo): Promise<void> {
  const strategy = parseStrategyName(options.strategy);
  const maxHeap = parseMaxHeap(options.maxHeap);
  const reader = parseReader(options.reader);
  const progress = new Progress(io, options.json === true);
  let result: Awaited<ReturnType<typeof replayTo>>["result"];
  try {
    ({ result } = await replayTo(
      { trace, strategy, maxHeap, lenient: options.lenient === true, cache: options.cache, reader },
      "end",
      (fraction) => progress.update(`${strategy} on ${trace}`, fraction),
    ));
  } finally {
    progress.stop();
  }
  if (options.json) {
    io.out(
      `${JSON.stringify({ ...withoutSeries(result), cache: cacheChoice(options.cache), reader: readerFor(trace, reader) })}\n`,
    );
    return;
  }
  const c = colorsFor(io);
  const summary = result.summary;
  const rows: [string, string][] = [
    [
      "ops",
      `${count(result.ops)} (${count(result.allocs)} alloc, ${count(result.frees)} free, ${count(result.reallocs)} realloc)`,
    ],
    [
      "peak live payload",
      `${count(result.peakLiveBytes)} bytes (${formatBytes(result.peakLiveBytes)}) after op ${count(result.peakLiveOp)}`,
    ],
    [
      "heap high-water",
      `${count(result.heapHighWaterBytes)} bytes (${formatBytes(result.heapHighWaterBytes)})`,
    ],
    ["utilization", `${percent(result.utilization)}  (peak live / high-water)`],
    ["fragmentation", `${percent(result.fragmentation)}  (high-water / peak live − 1)`],
    [
      "overhead near peak",
      `${count(result.overheadBytes)} bytes of headers and tables, ${count(result.internalFragmentationBytes)} bytes of rounding`,
    ],
    ["failed allocations", count(result.failedAllocations)],
    [
      "speed",
      `${count(result.opsPerSecond)} ops/s replaying, ${count(result.endToEndOpsPerSecond)} ops/s end to end (${result.seconds.toFixed(2)} s)`,
    ],
  ];
  if (summary && (summary.unknownFrees > 0 || summary.liveAtEnd > 0 || summary.skippedLines > 0)) {
    rows.push([
      "trace notes",
      `${count(summary.unknownFrees)} frees of unknown pointers, ${count(summary.liveAtEnd)} blocks ` +
        `(${count(summary.liveBytesAtEnd)} bytes) live at the end, ${count(summary.skippedLines)} lines skipped`,
    ]);
  }
  io.out(`${c.bold(`${result.strategy}`)} on ${result.trace} (${result.format})\n`);
  const width = Math.max(...rows.map(([label]) => label.length));
  for (const [label, value] of rows) io.out(`  ${label.padEnd(width)}  ${value}\n`);
  for (const problem of summary?.problems ?? []) io.out(`  ${c.yellow("skipped")} ${problem}\n`);
}
