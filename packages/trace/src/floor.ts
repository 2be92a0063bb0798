/**
 * The least fragmentation any allocator of a given block format can reach on a trace, whatever its
 * placement policy.
 *
 * Fragmentation is high-water / peak live − 1, and the high-water is at least the memory the live
 * blocks take at the moment live payload peaks. For a block format — how a request of n bytes becomes
 * a block — the blocks live at that moment give a floor:
 *
 * - `header`: the boundary-tag strategies' format, max(16, round8(n + 4)) (a 4-byte header, 8-byte
 *   payload alignment, room for a free block's two links and footer);
 * - `headerless`: max(8, round8(n)), blocks with no header at all, 8-byte aligned (size-class pages).
 *
 * A policy's own loss is the gap between its figure and the floor of its format. The trace is read
 * twice (once to find the peak, once to take the live set there), streaming: memory follows the
 * blocks live at once.
 *
 * @module
 */
import { Op } from "./batch.js";
import {
  fractionRead,
  type ReadTraceOptions,
  readTrace,
  type TraceReader,
  type TraceSource,
} from "./reader.js";
import type { ReplayResult } from "./replay.js";

/** What {@link fragmentationFloor} finds. */
export interface FragmentationFloor {
  /** The trace's name. */
  trace: string;
  /** Events read. */
  events: number;
  /** Peak live payload, in bytes as asked. */
  peakLiveBytes: number;
  /** Events read when live payload first reached its peak (as {@link ReplayResult.peakLiveOp} counts). */
  peakLiveOp: number;
  /** Blocks live at that peak. */
  liveBlocks: number;
  /** Least fragmentation with a 4-byte header, 8-byte alignment and blocks of 16 bytes at least. */
  header: number;
  /** Least fragmentation with no header and 8-byte rounding. */
  headerless: number;
}

/** Bytes a block of the boundary-tag format takes for a request of `n` bytes. */
export function blockWithHeader(n: number): number {
  return Math.max(16, Math.ceil((n + 4) / 8) * 8);
}

/** Bytes a headerless, 8-byte-aligned block takes for a request of `n` bytes. */
export function blockWithoutHeader(n: number): number {
  return Math.max(8, Math.ceil(n / 8) * 8);
}

/** Options of {@link fragmentationFloor}. */
export interface FragmentationFloorOptions extends ReadTraceOptions {
  /** Called after each batch with the fraction done of both passes, 0…1 (NaN when the size is unknown). */
  onProgress?: (fraction: number) => void;
}

/**
 * The floors of a trace (in-memory data as {@link readTrace} takes; a file name with
 * `@heapkit/trace/node`). The trace is read twice, so streamed data must be given as whole text or
 * bytes. A trace whose live payload never rises above 0 has floors of 0.
 */
export function fragmentationFloor(
  source: TraceSource,
  options: FragmentationFloorOptions = {},
): Promise<FragmentationFloor> {
  return floorOf(source, options, readTrace);
}

/** {@link fragmentationFloor} with the reader `open` makes (the Node entry's opens files). */
export async function floorOf(
  source: TraceSource,
  options: FragmentationFloorOptions,
  open: (source: TraceSource, options: ReadTraceOptions) => TraceReader,
): Promise<FragmentationFloor> {
  const { onProgress, ...readOptions } = options;
  const sizes = new Map<number, number>();
  let live = 0;
  let peak = 0;
  let peakAt = 0;
  let events = 0;
  const first = open(source, readOptions);
  for await (const batch of first.batches()) {
    for (let i = 0; i < batch.length; i++, events++) {
      const id = batch.id[i];
      live -= sizes.get(id) ?? 0;
      if (batch.op[i] === Op.Free) sizes.delete(id);
      else {
        sizes.set(id, batch.size[i]);
        live += batch.size[i];
      }
      if (live > peak) {
        peak = live;
        peakAt = events + 1;
      }
    }
    onProgress?.(fractionRead(first, events) / 2);
  }
  sizes.clear();
  let index = 0;
  if (peakAt > 0) {
    for await (const batch of open(source, readOptions).batches()) {
      for (let i = 0; i < batch.length && index < peakAt; i++, index++) {
        if (batch.op[i] === Op.Free) sizes.delete(batch.id[i]);
        else sizes.set(batch.id[i], batch.size[i]);
      }
      onProgress?.(0.5 + index / peakAt / 2);
      if (index >= peakAt) break;
    }
  }
  let withHeader = 0;
  let headerless = 0;
  for (const n of sizes.values()) {
    withHeader += blockWithHeader(n);
    headerless += blockWithoutHeader(n);
  }
  return {
    trace: first.name,
    events,
    peakLiveBytes: peak,
    peakLiveOp: peakAt,
    liveBlocks: sizes.size,
    header: peak > 0 ? withHeader / peak - 1 : 0,
    headerless: peak > 0 ? headerless / peak - 1 : 0,
  };
}
