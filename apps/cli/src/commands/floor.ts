/**
 * `heapkit floor TRACE... [--json]` — the least fragmentation any allocator can reach on a trace, for
 * two block formats (a 4-byte header with 8-byte alignment, as the boundary-tag strategies lay blocks
 * out, and no header at all): the live blocks at the peak of live payload, rounded as each format
 * rounds them, against that peak. A strategy's figure from `replay` or `compare` minus its format's
 * floor is what its placement loses.
 *
 * @module
 */
import { fragmentationFloor } from "@heapkit/trace";
import type { Command } from "commander";
import type { CliIo } from "../io.js";
import { count, formatBytes, percent } from "../lib/format.js";
import { Progress } from "../lib/progress.js";

interface FloorOptions {
  json?: boolean;
  lenient?: boolean;
}

/** Registers `heapkit floor`. */
export function registerFloor(program: Command, io: CliIo): void {
  program
    .command("floor")
    .description(
      "the least fragmentation any allocator can reach on each trace: with 4-byte headers, and with none",
    )
    .argument("<traces...>", "trace files (.rep, mtrace or .jsonl, optionally .gz)")
    .option("--json", "print one JSON array, an object per trace")
    .option("--lenient", "skip and count malformed lines instead of stopping at the first")
    .action((traces: string[], options: FloorOptions) => runFloor(traces, options, io));
}

async function runFloor(traces: string[], options: FloorOptions, io: CliIo): Promise<void> {
  const floors = [];
  const progress = new Progress(io, options.json === true);
  try {
    for (const trace of traces) {
      floors.push(
        await fragmentationFloor(trace, {
          lenient: options.lenient === true,
          onProgress: (fraction) => progress.update(`floor of ${trace}`, fraction),
        }),
      );
    }
  } finally {
    progress.stop();
  }
  if (options.json) {
    io.out(`${JSON.stringify(floors)}\n`);
    return;
  }
  for (const f of floors) {
    io.out(
      `${f.trace}: peak live payload ${count(f.peakLiveBytes)} bytes (${formatBytes(f.peakLiveBytes)}) in ` +
        `${count(f.liveBlocks)} blocks after op ${count(f.peakLiveOp)}\n` +
        `  floor with a 4-byte header (8-byte aligned, 16-byte blocks at least): ${percent(f.header)}\n` +
        `  floor with no header (8-byte rounding):                             ${percent(f.headerless)}\n`,
    );
  }
}
