/**
 * Replays as the trace commands run them: a heap of a named strategy, a trace replayed into it up to
 * an op, to its end, or to its peak of live bytes, and the figures of the run with the trace's
 * summary brought in line with what the replay did.
 *
 * @module
 */
import { createHeap, type Heap } from "@heapkit/heap";
import { prefetchTrace, type ReplayResult, replay, type TraceSummary } from "@heapkit/trace/node";
import { type HeapPicture, pictureOf } from "./picture.js";
import { type ReaderChoice, readerFor, takeEarlyReader } from "./read-ahead.js";
import { strategyNamed } from "./strategy.js";

/** The heap every replay starts from: 1 MiB, growing up to its limit. */
const INITIAL_HEAP_BYTES = 1 << 20;

/**
 * A fresh heap of the named strategy (at most `maxHeap` bytes), with its front cache on or off as
 * `cache` says (`--cache`, `--no-cache`), or as the heap decides by default when `cache` is undefined.
 */
export function makeHeap(strategy: string, maxHeap: number, cache?: boolean): Heap {
  return createHeap({
    strategy: strategyNamed(strategy),
    size: Math.min(INITIAL_HEAP_BYTES, maxHeap),
    maxSize: maxHeap,
    ...(cache === undefined ? {} : { cache }),
  });
}

/** A strategy on a trace. */
export interface ReplayTarget {
  /** The trace file. */
  trace: string;
  /** The strategy's name. */
  strategy: string;
  /** The heap's limit in bytes. */
  maxHeap: number;
  /** Skip malformed lines. */
  lenient: boolean;
  /** The heap's front cache: on, off, or (undefined) the heap's default. */
  cache?: boolean;
  /** Where the trace is read (`--reader`; default "main": all on the replay's thread, once it starts). */
  reader?: ReaderChoice;
}

/** One job of `compare`: a strategy on a trace, optionally with a picture of the heap at the peak. */
export interface ReplayJob extends ReplayTarget {
  /** Cells of a heap map to take at the peak of live bytes; 0 for none. */
  mapCells: number;
}

/** A replay and the heap it left. */
export interface ReplayedHeap {
  /** The replay's figures. */
  result: ReplayResult;
  /** The heap where the replay stopped. */
  heap: Heap;
  /** The ops done when the heap was in that state. */
  op: number;
  /** The payload bytes live then, as the trace asked for them. */
  liveBytes: number;
}

/**
 * The trace's summary with the replay's own failures in it: an allocation the heap refused counts in
 * `failedAllocations`, and its block is not among those live at the end. Without this, a summary says
 * what the traced program saw, and the same run's `failedAllocations` says something else.
 */
export function replayedSummary(result: ReplayResult, liveBlocksAtEnd: number): TraceSummary | undefined {
  const summary = result.summary;
  if (summary === undefined) return undefined;
  const replayed = { ...summary, failedAllocations: summary.failedAllocations + result.failedAllocations };
  if (result.stoppedAfter === undefined) {
    replayed.liveAtEnd = liveBlocksAtEnd;
    replayed.liveBytesAtEnd = result.series.liveBytes.at(-1) ?? 0;
  }
  return replayed;
}

async function replayInto(
  target: ReplayTarget,
  heap: Heap,
  options: { stopAfter?: number; onProgress?: (fraction: number) => void },
): Promise<ReplayResult> {
  let liveBlocksAtEnd = 0;
  const { onProgress, stopAfter } = options;
  const mode = readerFor(target.trace, target.reader ?? "main");
  const early = takeEarlyReader(target.trace);
  if (early?.thread !== undefined && mode !== "thread") early.thread.stop();
  const result = await replay(target.trace, heap, {
    lenient: target.lenient,
    readInWorker: mode === "thread" ? (early?.thread ?? true) : false,
    ...(mode === "prefetch" ? { prefetched: early?.prefetched ?? prefetchTrace(target.trace) } : {}),
    ...(stopAfter === undefined ? {} : { stopAfter }),
    ...(onProgress ? { onProgress: (_ops: number, fraction: number) => onProgress(fraction) } : {}),
    onStop: () => {
      liveBlocksAtEnd = heap.stats().liveBlocks;
    },
  });
  return { ...result, summary: replayedSummary(result, liveBlocksAtEnd) };
}

/** Replays a trace into a fresh heap and stops after `op` ops (or at the end), returning the heap there. */
export async function replayTo(
  target: ReplayTarget,
  op: number | "end",
  onProgress?: (fraction: number) => void,
): Promise<ReplayedHeap> {
  const heap = makeHeap(target.strategy, target.maxHeap, target.cache);
  const result = await replayInto(target, heap, {
    ...(op === "end" ? {} : { stopAfter: op }),
    ...(onProgress ? { onProgress } : {}),
  });
  return {
    result,
    heap,
    op: result.stoppedAfter ?? result.ops,
    liveBytes: result.series.liveBytes.at(-1) ?? 0,
  };
}

/**
 * Replays the whole trace, then again up to its peak of live bytes (the first op where the live
 * payload reaches its most), and returns the heap there with the whole trace's figures. Two replays
 * measured faster than one that snapshots the heap at each new best sample of its series: each
 * snapshot is a fresh copy of the heap, and those copies cost more than the second replay on every
 * real trace of the repository.
 */
export async function replayToPeak(
  target: ReplayTarget,
  onProgress?: (fraction: number) => void,
): Promise<ReplayedHeap> {
  const whole = await replayTo(target, "end", onProgress && ((fraction) => onProgress(fraction / 2)));
  const peakOp = whole.result.peakLiveOp;
  const atPeak = await replayTo(
    target,
    peakOp,
    onProgress && ((fraction) => onProgress(0.5 + Math.min(1, fraction) / 2)),
  );
  return { result: whole.result, heap: atPeak.heap, op: atPeak.op, liveBytes: atPeak.liveBytes };
}

/** The outcome of a {@link ReplayJob}. */
export interface JobResult {
  /** The replay's figures. */
  result: ReplayResult;
  /** The heap at the peak of live bytes, if asked for. */
  picture?: HeapPicture;
}

/** Runs one job in this thread. */
export async function runJob(job: ReplayJob, onProgress?: (fraction: number) => void): Promise<JobResult> {
  if (job.mapCells === 0) {
    return { result: (await replayTo(job, "end", onProgress)).result };
  }
  const { result, heap, op } = await replayToPeak(job, onProgress);
  return { result, picture: pictureOf(heap, op, job.mapCells) };
}

/** A replay result without its series, for JSON output. */
export function withoutSeries(result: ReplayResult): Omit<ReplayResult, "series"> {
  const { series: _series, ...rest } = result;
  return rest;
}
