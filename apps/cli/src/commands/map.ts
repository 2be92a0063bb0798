/**
 * `heapkit map TRACE --strategy NAME --at OP|peak --svg FILE` — the heap as a picture: replay up to an
 * op (or the peak of live bytes) and draw every byte of the heap by address, used, free or metadata.
 *
 * @module
 */
import { writeFile } from "node:fs/promises";
import { strategyNames } from "@heapkit/strategies";
import type { Command } from "commander";
import { type CliIo, parseCount } from "../io.js";
import { heapMapSvg, pictureFigures } from "./svg.js";
import {
  checkStrategy,
  count,
  formatBytes,
  heapAt,
  Progress,
  parseAt,
  parseMaxHeap,
  percent,
  pictureOf,
} from "./trace-run.js";

interface MapOptions {
  strategy: string;
  at: string;
  svg: string;
  columns: string;
  rows: string;
  lenient?: boolean;
  maxHeap?: string;
  json?: boolean;
}

/** Registers `heapkit map`. */
export function registerMap(program: Command, io: CliIo): void {
  program
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
    .option("--json", "print the figures as one JSON object")
    .action((trace: string, options: MapOptions) => runMap(trace, options, io));
}

async function runMap(trace: string, options: MapOptions, io: CliIo): Promise<void> {
  const strategy = checkStrategy(options.strategy);
  const at = parseAt(options.at);
  const columns = parseCount("--columns", options.columns, 8, 2000);
  const rows = parseCount("--rows", options.rows, 1, 2000);
  const job = { trace, strategy, maxHeap: parseMaxHeap(options.maxHeap), lenient: options.lenient === true };
  const progress = new Progress(io, options.json === true);
  let op: number;
  let picture: ReturnType<typeof pictureOf>;
  let peakLiveBytes: number;
  try {
    if (at === "peak") {
      const first = await heapAt(job, Number.POSITIVE_INFINITY, (_o, f) =>
        progress.update("finding the peak", f),
      );
      op = first.result.peakLiveOp;
      peakLiveBytes = first.result.peakLiveBytes;
    } else {
      op = at;
      peakLiveBytes = Number.NaN;
    }
    const { heap, result } = await heapAt(job, op, (_o, f) => progress.update(`replaying to op ${op}`, f));
    op = result.stoppedAfter ?? result.ops;
    picture = pictureOf(heap, op, columns * rows);
  } finally {
    progress.stop();
  }
  const heapBytes = picture.brk - picture.base;
  const figures = pictureFigures(picture);
  if (at === "peak") {
    figures.push(
      `peak live payload ${formatBytes(peakLiveBytes)} in a heap of ${formatBytes(heapBytes)}: ${percent(peakLiveBytes / Math.max(1, heapBytes))} used`,
    );
  }
  const svg = heapMapSvg(picture, {
    columns,
    cellSize: columns > 400 ? 2 : 4,
    title: `${strategy} on ${trace.split("/").pop()}, ${at === "peak" ? "at the peak of live bytes" : `after ${count(op)} ops`}`,
    figures,
  });
  await writeFile(options.svg, svg);
  if (options.json) {
    const { cells: _cells, ...figuresOnly } = picture;
    io.out(`${JSON.stringify({ strategy, trace, svg: options.svg, ...figuresOnly })}\n`);
    return;
  }
  io.out(`wrote ${options.svg}: ${strategy} after ${count(op)} ops\n`);
  for (const line of figures) io.out(`  ${line}\n`);
}
