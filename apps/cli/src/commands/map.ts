/**
 * `heapkit map TRACE --strategy NAME --at OP|peak|end --svg FILE` — the heap as a picture: replay up to
 * an op, the end, or the peak of live bytes, and draw every byte of the heap by address: used, free,
 * cached or metadata.
 *
 * @module
 */
import { writeFile } from "node:fs/promises";
import { strategyNames } from "@heapkit/strategies";
import type { Command } from "commander";
import type { CliIo } from "../io.js";
import { count, formatBytes, percent } from "../lib/format.js";
import { type ReplayedHeap, replayTo, replayToPeak } from "../lib/jobs.js";
import { addCacheOptions, cacheChoice, parseAt, parseCount, parseMaxHeap } from "../lib/options.js";
import { pictureOf } from "../lib/picture.js";
import { Progress } from "../lib/progress.js";
import { parseStrategyName } from "../lib/strategy.js";
import { heapMapSvg, pictureFigures } from "../lib/svg.js";

interface MapOptions {
  strategy: string;
  at: string;
  svg: string;
  columns: string;
  rows: string;
  lenient?: boolean;
  maxHeap?: string;
  json?: boolean;
  cache?: boolean;
}

/** Registers `heapkit map`. */
export function registerMap(program: Command, io: CliIo): void {
  const command = program
    .command("map")
    .description("draw the heap at an op of a trace (or at its peak) as an SVG picture")
    .argument("<trace>", "the trace file")
    .option("-s, --strategy <name>", `placement strategy: ${strategyNames.join(", ")}`, "first-fit")
    .option("--at <op>", 'the number of ops to replay first, "peak" (most live bytes) or "end"', "peak")
    .requiredOption("--svg <file>", "the SVG file to write")
    .option("--columns <n>", "cells per row", "256")
    .option("--rows <n>", "rows of cells", "128")
    .option("--lenient", "skip and count malformed lines")
    .option("--max-heap <bytes>", "the heap's limit, like 256m or 1g", "1g")
    .option("--json", "print the figures as one JSON object");
  addCacheOptions(command).action((trace: string, options: MapOptions) => runMap(trace, options, io));
}

async function runMap(trace: string, options: MapOptions, io: CliIo): Promise<void> {
  const strategy = parseStrategyName(options.strategy);
  const at = parseAt(options.at);
  const columns = parseCount("--columns", options.columns, 8, 2000);
  const rows = parseCount("--rows", options.rows, 1, 2000);
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
    const onProgress = (fraction: number) => progress.update(`${strategy} on ${trace}`, fraction);
    replayed =
      at === "peak" ? await replayToPeak(target, onProgress) : await replayTo(target, at, onProgress);
  } finally {
    progress.stop();
  }
  const { result, heap, op, liveBytes: live } = replayed;
  const picture = pictureOf(heap, op, columns * rows);
  const heapBytes = picture.brk - picture.base;
  const figures = pictureFigures(picture);
  if (at === "peak") {
    figures.push(
      `peak live payload ${formatBytes(live)} in a heap of ${formatBytes(heapBytes)}: ${percent(live / Math.max(1, heapBytes))} used`,
    );
  }
  const when = at === "peak" ? "at the peak of live bytes" : `after ${count(op)} ops`;
  const svg = heapMapSvg(picture, {
    columns,
    cellSize: columns > 400 ? 2 : 4,
    title: `${strategy} on ${trace.split("/").pop()}, ${when}`,
    figures,
  });
  await writeFile(options.svg, svg);
  if (options.json) {
    const { cells: _cells, ...figuresOnly } = picture;
    io.out(
      `${JSON.stringify({ strategy, trace, svg: options.svg, ...figuresOnly, peakLiveOp: result.peakLiveOp, peakLiveBytes: result.peakLiveBytes, cache: cacheChoice(options.cache) })}\n`,
    );
    return;
  }
  io.out(`wrote ${options.svg}: ${strategy} after ${count(op)} ops\n`);
  for (const line of figures) io.out(`  ${line}\n`);
}
