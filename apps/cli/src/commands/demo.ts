/**
 * `heapkit demo` — the seed program made real. The article's toy allocator scans a 1024-byte
 * `bytearray` first-fit; its program allocates 256 bytes twice, frees the first block and asks for
 * 1024 bytes, which fails with `MemoryError('Out of memory')`. Here the same four steps run on a
 * real heap with any strategy, and a one-line map after each step shows why the last one fails:
 * headers and the second block leave no 1024-byte hole.
 *
 * @module
 */
import { OutOfMemoryError } from "@heapkit/contract";
import { createHeap, type Heap } from "@heapkit/heap";
import { strategyNames } from "@heapkit/strategies";
import type { Command } from "commander";
import { type CliIo, colorsFor, errorFields } from "../io.js";
import { ASCII_GLYPHS, ByteClass, drawHeapLine, type MapGlyphs, UNICODE_GLYPHS } from "../lib/heap-line.js";
import { parseCount } from "../lib/options.js";
import { regionStart } from "../lib/picture.js";
import { strategyNamed } from "../lib/strategy.js";

/** The seed's steps. */
const BLOCK_BYTES = 256;
const LAST_REQUEST = 1024;
const HEAP_BASE = 16;

interface DemoOptions {
  strategy: string;
  size: string;
  width: string;
  ascii?: boolean;
  json?: boolean;
}

/** Registers `heapkit demo`. */
export function registerDemo(program: Command, io: CliIo): void {
  program
    .command("demo")
    .description("run the seed program (malloc 256, malloc 256, free, malloc 1024) and draw the heap")
    .option("-s, --strategy <name>", `placement strategy: ${strategyNames.join(", ")}`, "first-fit")
    .option("--size <bytes>", "bytes of heap for blocks (the seed's bytearray)", "1024")
    .option("-w, --width <cells>", "characters in each heap map", "64")
    .option("--ascii", "draw maps with plain ASCII characters")
    .option("--json", "print one JSON object: each step's call, result, figures and ASCII map")
    .action((options: DemoOptions) => runDemo(options, io));
}

/**
 * The bytes the seed's heap needs for blocks: `size` plus the strategy's own metadata, measured by a
 * probe heap. A strategy that reserves memory in big units (pymalloc's arenas) gets the least that
 * lets the seed's first three steps succeed, so the demo shows its real behaviour, not a trivial failure.
 */
function demoHeapBytes(strategyName: string, size: number): number {
  const probe = createHeap({
    strategy: strategyNamed(strategyName),
    size: 64 * 1024,
    maxSize: 64 << 20,
    cache: false,
  });
  const metadata = probe.stats().heapSize;
  const first = probe.malloc(BLOCK_BYTES);
  probe.malloc(BLOCK_BYTES);
  probe.free(first);
  return Math.max(size + metadata, probe.stats().peakHeapSize);
}

/** A heap of the seed's shape: no front cache (the seed is about placement), its memory ending at `limit`. */
function seedHeap(strategyName: string, limit: number): Heap {
  return createHeap({
    strategy: strategyNamed(strategyName),
    size: limit,
    maxSize: limit,
    base: HEAP_BASE,
    cache: false,
  });
}

/**
 * A heap with exactly room for `blockBytes` of blocks. The pointer map in front of the blocks grows
 * with the memory's size, so the layout is measured at a generous size first, then at the size that
 * gives; the second is never larger, so the blocks get at least `blockBytes`.
 */
function demoHeap(strategyName: string, blockBytes: number): Heap {
  const generous = regionStart(seedHeap(strategyName, HEAP_BASE + blockBytes + 64 * 1024));
  const start = regionStart(seedHeap(strategyName, generous + blockBytes));
  return seedHeap(strategyName, start + blockBytes);
}

/** One step of the seed program and the heap after it. */
interface DemoStep {
  title: string;
  call: string;
  /** What the call did, in words. */
  outcome: string;
  /** The pointer malloc returned, for a malloc that succeeded. */
  ptr?: number;
  /** Why the call failed, for one that did. */
  error?: Record<string, unknown>;
  stats: {
    liveBlocks: number;
    liveBytes: number;
    freeBlocks: number;
    freeBytes: number;
    overheadBytes: number;
    heapSize: number;
    heapLimit: number;
  };
  /** The heap map's cells, one character each, in the glyphs asked for (ASCII under --json). */
  map: string;
  /** The same map coloured for the terminal. */
  painted: string;
  /** Whether a block sits in a front cache (freed, neither live nor free). */
  cached: boolean;
}

/** Runs the seed's four calls, recording the heap after each. */
function seedSteps(
  heap: Heap,
  width: number,
  glyphs: MapGlyphs,
  paint: (byteClass: ByteClass, text: string) => string,
): DemoStep[] {
  const steps: DemoStep[] = [];
  const record = (
    title: string,
    call: string,
    outcome: string,
    result: { ptr?: number; error?: Record<string, unknown> },
  ) => {
    const s = heap.stats();
    const blocks = [...heap.blocks()];
    const region = { start: regionStart(heap), brk: heap.brk, end: heap.limit, blocks };
    steps.push({
      title,
      call,
      outcome,
      ...result,
      stats: {
        liveBlocks: s.liveBlocks,
        liveBytes: s.liveBytes,
        freeBlocks: s.freeBlocks,
        freeBytes: s.freeBytes,
        overheadBytes: s.overheadBytes,
        heapSize: s.heapSize,
        heapLimit: s.heapLimit,
      },
      map: drawHeapLine(region, width, glyphs),
      painted: drawHeapLine(region, width, glyphs, paint),
      cached: blocks.some((block) => block.state === "cached"),
    });
  };
  const block1 = heap.malloc(BLOCK_BYTES);
  record("Block1 allocated", `malloc(${BLOCK_BYTES})`, `→ ${block1}`, { ptr: block1 });
  const block2 = heap.malloc(BLOCK_BYTES);
  record("Block2 allocated", `malloc(${BLOCK_BYTES})`, `→ ${block2}`, { ptr: block2 });
  heap.free(block1);
  record("Block1 freed", `free(${block1})`, "", {});
  try {
    const block3 = heap.malloc(LAST_REQUEST);
    record("Block3 allocated", `malloc(${LAST_REQUEST})`, "succeeded: this strategy had room", {
      ptr: block3,
    });
  } catch (error) {
    if (!(error instanceof OutOfMemoryError)) throw error;
    record("Out of memory", `malloc(${LAST_REQUEST})`, "threw OutOfMemoryError", {
      error: errorFields(error),
    });
  }
  heap.check();
  return steps;
}

function runDemo(options: DemoOptions, io: CliIo): void {
  const size = parseCount("--size", options.size, 64, 1 << 30);
  const width = parseCount("--width", options.width, 8, 1000);
  const alignedTotal = (demoHeapBytes(options.strategy, size) + 15) & ~15;
  const heap = demoHeap(options.strategy, alignedTotal);
  const extra = alignedTotal - size;
  const glyphs = options.ascii || options.json ? ASCII_GLYPHS : UNICODE_GLYPHS;
  const colors = colorsFor(io);
  const paintOf: Record<ByteClass, (text: string) => string> = {
    [ByteClass.Used]: colors.green,
    [ByteClass.Header]: colors.yellow,
    [ByteClass.Free]: colors.cyan,
    [ByteClass.Unclaimed]: colors.dim,
    [ByteClass.Cached]: colors.magenta,
  };
  const paint = (byteClass: ByteClass, text: string) => paintOf[byteClass](text);
  const steps = seedSteps(heap, width, glyphs, paint);
  if (options.json) {
    const plain = steps.map(({ painted: _painted, ...step }) => step);
    io.out(`${JSON.stringify({ strategy: heap.strategy, size, metadataBytes: extra, steps: plain })}\n`);
    return;
  }

  io.out(
    `The seed program on a ${size}-byte heap, placed by ${heap.strategy}` +
      (extra > 0 ? ` (+${extra} bytes for its own metadata)` : "") +
      ".\n",
  );
  const legend = [
    `${paint(ByteClass.Used, glyphs.used)} used`,
    `${paint(ByteClass.Header, glyphs.header)} header/metadata`,
    `${paint(ByteClass.Free, glyphs.free)} free`,
    `${paint(ByteClass.Unclaimed, glyphs.unclaimed)} not yet claimed`,
  ];
  if (steps.some((step) => step.cached))
    legend.push(`${paint(ByteClass.Cached, glyphs.cached)} cached (freed, in the front cache)`);
  io.out(`legend: ${legend.join("  ")}\n\n`);
  for (const step of steps) {
    const { stats } = step;
    io.out(`${colors.bold(step.error !== undefined ? colors.red(step.title) : step.title)}\n`);
    io.out(`  [${step.painted}]  ${`${step.call} ${step.outcome}`.trimEnd()}\n`);
    io.out(
      `  ${stats.liveBytes} bytes used in ${stats.liveBlocks} block${stats.liveBlocks === 1 ? "" : "s"}, ` +
        `${stats.freeBytes} free in ${stats.freeBlocks} free block${stats.freeBlocks === 1 ? "" : "s"}, ` +
        `${stats.overheadBytes} header/metadata, heap ${stats.heapSize} of ${stats.heapLimit} bytes\n`,
    );
    if (step.error !== undefined) io.out(`  ${String(step.error.message)}\n`);
  }
}
