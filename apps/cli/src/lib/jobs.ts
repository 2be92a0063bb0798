/**
 * Replays as the trace commands run them: a heap of a named strategy, a trace replayed into it up to
 * an op, to its end, or to its end with the heap kept as it was at the peak of live bytes, and the
 * figures of the run with the trace's summary brought in line with what the replay did.
 *
 * @module
 */
import { createHeap, type Heap, type HeapSnapshot } from "@heapkit/heap";
import { type ReplayResult, replay, type TraceSummary } from "@heapkit/trace";
import { type HeapPicture, pictureOf } from "./picture.js";
import { strategyNamed } from "./strategy.js";

/** The heap every replay starts from: 1 MiB, growing up to its limit. */
const INITIAL_HEAP_BYTES = 1 << 20;

/** A fresh heap of the named strategy (at most `maxHeap` bytes). */
export function makeHeap(strategy: string, maxHeap: number): Heap {
  return createHeap({
    strategy: strategyNamed(strategy),
    size: Math.min(INITIAL_HEAP_BYTES, maxHeap),
    maxSize: maxHeap,
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
  /** The heap, as it was where the replay stopped or (from {@link replayToPeak}) at the peak. */
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
  options: {
    stopAfter?: number;
    onProgress?: (fraction: number) => void;
    onSample?: (ops: number, liveBytes: number) => void;
  },
): Promise<ReplayResult> {
  let liveBlocksAtEnd = 0;
  const { onProgress, onSample, stopAfter } = options;
  const result = await replay(target.trace, heap, {
    lenient: target.lenient,
    ...(stopAfter === undefined ? {} : { stopAfter }),
    ...(onProgress ? { onProgress: (_ops: number, fraction: number) => onProgress(fraction) } : {}),
    ...(onSample ? { onSample: (_heap: unknown, ops: number, live: number) => onSample(ops, live) } : {}),
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
  const heap = makeHeap(target.strategy, target.maxHeap);
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
 * Replays the whole trace once and returns the heap as it was at the series sample with the most live
 * bytes (at most one sample interval from the exact peak, `result.peakLiveOp`): each new best sample
 * takes a snapshot of the heap (a copy of its bytes), and the heap is put back to the best one at the
 * end. One replay instead of a second one up to the peak, and no block walk at every sample.
 */
export async function replayToPeak(
  target: ReplayTarget,
  onProgress?: (fraction: number) => void,
): Promise<ReplayedHeap> {
  const heap = makeHeap(target.strategy, target.maxHeap);
  let snapshot: HeapSnapshot | undefined;
  let snapshotOp = 0;
  let best = -1;
  const result = await replayInto(target, heap, {
    ...(onProgress ? { onProgress } : {}),
    onSample: (ops, live) => {
      if (live > best) {
        best = live;
        snapshot = heap.snapshot();
        snapshotOp = ops;
      }
    },
  });
  if (snapshot !== undefined) heap.restore(snapshot);
  return { result, heap, op: snapshotOp, liveBytes: Math.max(best, 0) };
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
