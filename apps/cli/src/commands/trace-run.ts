/**
 * What the trace commands share: making a heap of a named strategy, replaying a trace into it with a
 * progress bar, looking at the heap at a chosen op, number formats, and a worker-thread pool for
 * independent runs.
 *
 * @module
 */
import { createHeap, type Heap, type HeapSnapshot } from "@heapkit/heap";
import { strategyByName, strategyNames } from "@heapkit/strategies";
import { type ReplayResult, replay } from "@heapkit/trace";
import { MultiBar, type SingleBar } from "cli-progress";
import { type CliIo, parseCount, UsageError } from "../io.js";

/** The default limit of a replay heap: 1 GiB (the largest given trace peaks at 13.6 MB of live data). */
export const DEFAULT_MAX_HEAP = 1 << 30;

/** The strategy called `name`, or a {@link UsageError} listing the names. */
export function checkStrategy(name: string): string {
  try {
    strategyByName(name);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return name;
}

/** Parses `--strategies a,b|all`. */
export function parseStrategies(value: string | undefined): string[] {
  if (value === undefined || value === "all") return [...strategyNames];
  const names = value
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  if (names.length === 0) throw new UsageError(`--strategies expects names separated by commas, or "all"`);
  return [...new Set(names.map(checkStrategy))];
}

/** Parses `--max-heap BYTES` (accepts suffixes k, m, g). */
export function parseMaxHeap(value: string | undefined): number {
  if (value === undefined) return DEFAULT_MAX_HEAP;
  const match = /^(\d+)([kmg]?)i?b?$/i.exec(value.trim());
  if (match === null)
    throw new UsageError(`--max-heap expects bytes like 268435456, 256m or 1g, got "${value}"`);
  const scale = { "": 1, k: 1024, m: 1 << 20, g: 1 << 30 }[match[2].toLowerCase() as "" | "k" | "m" | "g"];
  return parseCount("--max-heap", String(Number(match[1]) * scale), 4096, 0x7fff_0000);
}

/** A fresh heap of the named strategy (at most `maxHeap` bytes). */
export function makeHeap(strategy: string, maxHeap: number): Heap {
  return createHeap({
    strategy: strategyByName(strategy),
    size: Math.min(1 << 20, maxHeap),
    maxSize: maxHeap,
  });
}

/** One replay job: a strategy on a trace, optionally looking at the heap at the peak or an op. */
export interface ReplayJob {
  /** The trace file. */
  trace: string;
  /** The strategy's name. */
  strategy: string;
  /** The heap's limit in bytes. */
  maxHeap: number;
  /** Skip malformed lines. */
  lenient: boolean;
  /** Cells of a heap map to take at the peak of live bytes (a second replay up to that op); 0 for none. */
  mapCells: number;
}

/** What a heap looked like at one op: its cells by class, and its figures. */
export interface HeapPicture {
  /** Ops done when the picture was taken. */
  op: number;
  /** The heap's first byte. */
  base: number;
  /** The heap's break. */
  brk: number;
  /** One class per cell, see {@link CellClass}; cells cover [base, brk) in address order. */
  cells: number[];
  /** Live blocks. */
  liveBlocks: number;
  /** Usable bytes of the live blocks. */
  liveBytes: number;
  /** Free blocks. */
  freeBlocks: number;
  /** Bytes in free blocks. */
  freeBytes: number;
  /** Headers, tables and padding. */
  overheadBytes: number;
  /** Largest free block. */
  largestFreeBlock: number;
}

/** What a byte of the heap holds, as a map colours it. */
export const CellClass = { Used: 0, Meta: 1, Free: 2 } as const;

/** The heap's bytes in `cells` equal spans, each classed by what most of its bytes hold. */
export function pictureOf(heap: Heap, op: number, cellCount: number): HeapPicture {
  const start = heap.base;
  const end = Math.max(heap.brk, start + 1);
  const span = end - start;
  const counts = new Float64Array(cellCount * 3);
  const add = (from: number, to: number, cls: number) => {
    let at = Math.max(from, start);
    to = Math.min(to, end);
    while (at < to) {
      const cell = Math.min(cellCount - 1, Math.floor(((at - start) * cellCount) / span));
      const cellEnd = start + Math.ceil(((cell + 1) * span) / cellCount);
      const upTo = Math.min(to, Math.max(cellEnd, at + 1));
      counts[cell * 3 + cls] += upTo - at;
      at = upTo;
    }
  };
  let covered = start;
  for (const block of heap.blocks()) {
    if (block.offset > covered) add(covered, block.offset, CellClass.Meta);
    const blockEnd = block.offset + block.size;
    if (block.state === "used") {
      add(block.offset, block.ptr, CellClass.Meta);
      add(block.ptr, block.ptr + block.payload, CellClass.Used);
      add(block.ptr + block.payload, blockEnd, CellClass.Meta);
    } else {
      add(block.offset, blockEnd, block.state === "free" ? CellClass.Free : CellClass.Meta);
    }
    covered = Math.max(covered, blockEnd);
  }
  if (covered < end) add(covered, end, CellClass.Meta);
  const cells: number[] = new Array(cellCount);
  for (let cell = 0; cell < cellCount; cell++) {
    const used = counts[cell * 3];
    const meta = counts[cell * 3 + 1];
    const free = counts[cell * 3 + 2];
    cells[cell] =
      used >= meta && used >= free ? CellClass.Used : free >= meta ? CellClass.Free : CellClass.Meta;
  }
  const stats = heap.stats();
  return {
    op,
    base: heap.base,
    brk: heap.brk,
    cells,
    liveBlocks: stats.liveBlocks,
    liveBytes: stats.liveBytes,
    freeBlocks: stats.freeBlocks,
    freeBytes: stats.freeBytes,
    overheadBytes: stats.overheadBytes,
    largestFreeBlock: stats.largestFreeBlock,
  };
}

/** Replays a trace into a heap and stops after `op` ops (Infinity: the end), returning the heap there. */
export async function heapAt(
  job: Pick<ReplayJob, "trace" | "strategy" | "maxHeap" | "lenient">,
  op: number,
  onProgress?: (ops: number, fraction: number) => void,
): Promise<{ heap: Heap; result: ReplayResult }> {
  const heap = makeHeap(job.strategy, job.maxHeap);
  const result = await replay(job.trace, heap, {
    lenient: job.lenient,
    ...(Number.isFinite(op) ? { stopAfter: op } : {}),
    ...(onProgress ? { onProgress } : {}),
  });
  return { heap, result };
}

/** The outcome of a {@link ReplayJob}. */
export interface JobResult {
  /** The replay's figures. */
  result: ReplayResult;
  /** The heap at the peak of live bytes, if asked for. */
  picture?: HeapPicture;
}

/**
 * Runs one job in this thread. With `mapCells`, the heap is pictured from the same replay, at the series
 * sample with the most live bytes (at most one sample interval from the exact peak): each new best
 * sample takes a snapshot of the heap (a copy of its bytes), and the picture is drawn once, at the end,
 * from the best one — much cheaper than a second replay or a block walk at every sample.
 */
export async function runJob(job: ReplayJob, onProgress?: (fraction: number) => void): Promise<JobResult> {
  const heap = makeHeap(job.strategy, job.maxHeap);
  let snapshot: HeapSnapshot | undefined;
  let snapshotOp = 0;
  let best = -1;
  const result = await replay(job.trace, heap, {
    lenient: job.lenient,
    ...(onProgress ? { onProgress: (_ops: number, fraction: number) => onProgress(fraction) } : {}),
    ...(job.mapCells > 0
      ? {
          onSample: (_allocator: unknown, ops: number, live: number) => {
            if (live > best) {
              best = live;
              snapshot = heap.snapshot();
              snapshotOp = ops;
            }
          },
        }
      : {}),
  });
  if (snapshot === undefined) return { result };
  heap.restore(snapshot);
  return { result, picture: pictureOf(heap, snapshotOp, job.mapCells) };
}

// ------------------------------------------------------------------------------------------ progress

/** A progress display on standard error, shown only for work that lasts over a second on a terminal. */
export class Progress {
  private readonly started = performance.now();
  private multi: MultiBar | undefined;
  private readonly bars = new Map<string, SingleBar>();
  private readonly enabled: boolean;

  constructor(io: CliIo, quiet: boolean) {
    this.enabled = io.errIsTTY && !quiet;
  }

  /** Sets the fraction done (0…1) of the task called `label`. */
  update(label: string, fraction: number): void {
    if (!this.enabled || !Number.isFinite(fraction)) return;
    if (this.multi === undefined) {
      if (performance.now() - this.started < 1000) return;
      this.multi = new MultiBar({
        stream: process.stderr,
        format: " {bar} {percentage}% | {label}",
        hideCursor: true,
        clearOnComplete: true,
        barsize: 30,
      });
    }
    let bar = this.bars.get(label);
    if (bar === undefined) {
      bar = this.multi.create(1000, 0, { label });
      this.bars.set(label, bar);
    }
    bar.update(Math.round(Math.min(1, fraction) * 1000), { label });
  }

  /** Removes the bars. */
  stop(): void {
    this.multi?.stop();
    this.multi = undefined;
  }
}

// ------------------------------------------------------------------------------------------ formats

/** Bytes in a short human form: 2.17 MiB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** A fraction as a percentage with two decimals. */
export function percent(value: number): string {
  return `${(value * 100).toFixed(2)} %`;
}

/** A count with thousands separators. */
export function count(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/** A replay result without its series, for JSON output. */
export function withoutSeries(result: ReplayResult): Omit<ReplayResult, "series"> {
  const { series: _series, ...rest } = result;
  return rest;
}

/** Parses `--at OP|peak|end`. */
export function parseAt(value: string): number | "peak" {
  if (value === "peak") return "peak";
  if (value === "end") return Number.POSITIVE_INFINITY;
  return parseCount("--at", value, 0);
}
