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
import { createHeap } from "@heapkit/heap";
import { strategyByName, strategyNames } from "@heapkit/strategies";
import type { Command } from "commander";
import { ASCII_GLYPHS, ByteClass, drawHeapLine, UNICODE_GLYPHS } from "../heap-line.js";
import { type CliIo, colorsFor, parseCount, UsageError } from "../io.js";

/** The seed's steps. */
const BLOCK_BYTES = 256;
const LAST_REQUEST = 1024;
const HEAP_BASE = 16;

interface DemoOptions {
  strategy: string;
  size: string;
  width: string;
  ascii?: boolean;
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
    .action((options: DemoOptions) => runDemo(options, io));
}

function makeStrategy(name: string) {
  try {
    return strategyByName(name);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * The heap's limit: `size` bytes for blocks plus the strategy's own metadata, measured by a probe
 * heap. A strategy that reserves memory in big units (pymalloc's arenas) gets the least that lets
 * the seed's first three steps succeed, so the demo shows its real behaviour, not a trivial failure.
 */
function demoHeapBytes(strategyName: string, size: number): number {
  const probe = createHeap({ strategy: makeStrategy(strategyName), size: 64 * 1024, maxSize: 64 << 20 });
  const metadata = probe.stats().heapSize;
  const first = probe.malloc(BLOCK_BYTES);
  probe.malloc(BLOCK_BYTES);
  probe.free(first);
  return Math.max(size + metadata, probe.stats().peakHeapSize);
}

function runDemo(options: DemoOptions, io: CliIo): void {
  const size = parseCount("--size", options.size, 64, 1 << 30);
  const width = parseCount("--width", options.width, 8, 1000);
  const strategy = makeStrategy(options.strategy);
  const alignedTotal = (demoHeapBytes(options.strategy, size) + 15) & ~15;
  const heap = createHeap({
    strategy,
    size: HEAP_BASE + alignedTotal,
    maxSize: HEAP_BASE + alignedTotal,
    base: HEAP_BASE,
  });
  const colors = colorsFor(io);
  const glyphs = options.ascii ? ASCII_GLYPHS : UNICODE_GLYPHS;
  const paint = (byteClass: ByteClass, text: string) =>
    byteClass === ByteClass.Used
      ? colors.green(text)
      : byteClass === ByteClass.Header
        ? colors.yellow(text)
        : byteClass === ByteClass.Free
          ? colors.cyan(text)
          : colors.dim(text);

  const extra = alignedTotal - size;
  io.out(
    `The seed program on a ${size}-byte heap, placed by ${heap.strategy}` +
      (extra > 0 ? ` (+${extra} bytes for its own metadata)` : "") +
      ".\n",
  );
  io.out(
    `legend: ${paint(ByteClass.Used, glyphs.used)} used  ${paint(ByteClass.Header, glyphs.header)} header/metadata  ` +
      `${paint(ByteClass.Free, glyphs.free)} free  ${paint(ByteClass.Unclaimed, glyphs.unclaimed)} not yet claimed\n\n`,
  );
  const show = (title: string, what: string) => {
    const stats = heap.stats();
    const map = drawHeapLine(
      { start: heap.base, brk: heap.brk, end: heap.limit, blocks: heap.blocks() },
      width,
      glyphs,
      paint,
    );
    io.out(`${colors.bold(title)}\n`);
    io.out(`  [${map}]  ${what}\n`);
    io.out(
      `  ${stats.liveBytes} bytes used in ${stats.liveBlocks} block${stats.liveBlocks === 1 ? "" : "s"}, ` +
        `${stats.freeBytes} free in ${stats.freeBlocks} free block${stats.freeBlocks === 1 ? "" : "s"}, ` +
        `${stats.overheadBytes} header/metadata, heap ${stats.heapSize} of ${stats.heapLimit} bytes\n`,
    );
  };

  const block1 = heap.malloc(BLOCK_BYTES);
  show("Block1 allocated", `malloc(${BLOCK_BYTES}) → ${block1}`);
  const block2 = heap.malloc(BLOCK_BYTES);
  show("Block2 allocated", `malloc(${BLOCK_BYTES}) → ${block2}`);
  heap.free(block1);
  show("Block1 freed", `free(${block1})`);
  try {
    heap.malloc(LAST_REQUEST);
    show("Block3 allocated", `malloc(${LAST_REQUEST}) succeeded: this strategy had room`);
  } catch (error) {
    if (!(error instanceof OutOfMemoryError)) throw error;
    show(colors.red("Out of memory"), `malloc(${LAST_REQUEST}) threw OutOfMemoryError`);
    io.out(`  ${error.message}\n`);
  }
  heap.check();
}
