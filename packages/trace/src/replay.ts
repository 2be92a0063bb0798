/**
 * The replay engine: drives any `Allocator` of the contract through a trace and measures it.
 *
 * The hot loop reads typed-array columns of an {@link EventBatch}; a block's pointer and size live in
 * Int32Arrays indexed by the event's slot (dense, so the tables stay as small as the most blocks live
 * at once). While replaying it checks that every payload survives: each block gets a tag derived from
 * its id in its first and last bytes, checked on free and realloc, so a strategy that overlaps or
 * corrupts blocks shows up as a {@link ReplayError} naming the trace line, never as a wrong figure.
 *
 * @module
 */
import { type Allocator, InvalidSizeError, OutOfMemoryError, type TraceEvent } from "@heapkit/contract";
import { BATCH_EVENTS, BatchBuilder, type EventBatch, LiveTable, MAX_RESERVED, Op } from "./batch.js";
import type { TraceSummary } from "./parsers.js";
import {
  type BatchSource,
  fractionRead,
  type ReadTraceOptions,
  readTrace,
  type TraceSource,
} from "./reader.js";

/** Columns of figures sampled every few ops while replaying (for charts). */
export interface ReplaySeries {
  /** Ops done at each sample. */
  op: number[];
  /** Payload bytes asked for and live. */
  liveBytes: number[];
  /** Usable bytes of the live blocks (≥ live bytes: rounding inside blocks). */
  usableBytes: number[];
  /** The heap's size (its break) at the sample. */
  heapBytes: number[];
  /** Bytes in free blocks. */
  freeBytes: number[];
  /** Headers, tables and padding: heap − usable − free. */
  overheadBytes: number[];
  /** External fragmentation at the sample: 1 − largest free block / free bytes. */
  externalFragmentation: number[];
}

/** What a replay measured. */
export interface ReplayResult {
  /** The allocator's strategy. */
  strategy: string;
  /** The trace's name. */
  trace: string;
  /** The trace's format. */
  format: string | undefined;
  /** Events replayed (allocs + frees + reallocs). */
  ops: number;
  /** Allocations replayed. */
  allocs: number;
  /** Frees replayed. */
  frees: number;
  /** Reallocs replayed. */
  reallocs: number;
  /** The most payload bytes live at once (sizes as asked, as malloc-lab counts them). */
  peakLiveBytes: number;
  /** Ops done when the live payload first reached its peak. */
  peakLiveOp: number;
  /** The heap's high-water mark: its largest size (break − base), metadata included. */
  heapHighWaterBytes: number;
  /** Peak live payload / high-water mark (malloc-lab's utilization); 0 for an empty trace. */
  utilization: number;
  /** High-water / peak live − 1 (Johnstone and Wilson's fragmentation); 0 for an empty trace. */
  fragmentation: number;
  /**
   * Headers, tables and padding (`heap − usable − free`) at the sample with the most live payload:
   * what the strategy spends on its own bookkeeping near the peak.
   */
  overheadBytes: number;
  /** Usable − asked bytes at that sample: rounding inside blocks (internal fragmentation). */
  internalFragmentationBytes: number;
  /** The largest external fragmentation seen at a sample. */
  peakExternalFragmentation: number;
  /** Allocations and reallocs the allocator could not satisfy (the replay goes on without them). */
  failedAllocations: number;
  /** Ops per second of the replay loop alone (allocator calls, payload checks, bookkeeping; not parsing or sampling). */
  opsPerSecond: number;
  /** Ops per second end to end: reading, parsing, replaying and measuring. */
  endToEndOpsPerSecond: number;
  /** Wall seconds end to end. */
  seconds: number;
  /** Seconds in the replay loop alone. */
  replaySeconds: number;
  /** Figures sampled along the way. */
  series: ReplaySeries;
  /** What reading the trace found (unknown frees, blocks live at the end, lines skipped). */
  summary: TraceSummary | undefined;
  /** The op after which the replay stopped, when `stopAfter` was given; undefined if it ran to the end. */
  stoppedAfter?: number;
}

/** Options of {@link replay}. */
export interface ReplayOptions extends ReadTraceOptions {
  /** Check payloads (write tags on allocation, check them on free and realloc). Default true. */
  verify?: boolean;
  /** About how many samples the series keeps (default 200, at most twice that; each sample calls `stats()`, which may walk the free lists); 0 samples only at the start and the end, for speed. */
  samples?: number;
  /** Stop after this many ops (to look at the heap at that point, with `onStop`). */
  stopAfter?: number;
  /** Called with the allocator when the replay stops after `stopAfter` ops, or at the end. */
  onStop?: (allocator: Allocator, opsDone: number) => void;
  /**
   * Called at each sample of the series with the allocator, the ops done and the live payload bytes
   * (to look at the heap along the way without a second replay).
   */
  onSample?: (allocator: Allocator, opsDone: number, liveBytes: number) => void;
  /** Called after each batch with the ops done and the fraction of the input read (NaN if unknown). */
  onProgress?: (opsDone: number, fraction: number) => void;
  /** The trace's name in results, for events given as an iterable (default "events"). */
  name?: string;
  /**
   * `performance.now()` when reading the input began, where that was before this call (a prefetch, a
   * reader thread started ahead: the Node entry sets it from them): the end-to-end clock starts there,
   * so that `endToEndOpsPerSecond` and `seconds` count all of the reading.
   */
  readStartedAt?: number;
}

/** A replay stopped: the allocator misbehaved at an op of the trace. */
export class ReplayError extends Error {
  /** A stable code. */
  readonly code = "TRACE_REPLAY" as const;
  /** The trace. */
  readonly trace: string;
  /** The 1-based line of the op in the trace (for events without lines, the op's index + 1). */
  readonly line: number;
  /** The op (`alloc`, `free`, `realloc`). */
  readonly op: string;
  /** The block's id in the trace. */
  readonly id: number;

  constructor(trace: string, line: number, op: string, id: number, what: string, cause?: unknown) {
    super(`${trace}:${line}: ${op} of id ${id}: ${what}`, cause === undefined ? undefined : { cause });
    this.name = "ReplayError";
    this.trace = trace;
    this.line = line;
    this.op = op;
    this.id = id;
  }
}

/** An allocator, or a function that makes a fresh one. */
export type AllocatorInput = Allocator | (() => Allocator);

/** Events to replay: a trace source (read streaming), a reader, or events (objects) in memory or streamed. */
export type ReplayInput = TraceSource | BatchSource | Iterable<TraceEvent> | AsyncIterable<TraceEvent>;

const OP_NAMES = ["alloc", "free", "realloc"];

/** The tag of a block: a mix of its id, so nearby ids differ in every byte. */
function tagOf(id: number): number {
  // Math.imul takes its arguments modulo 2^32: the same as (id % 2^32) for any id below 2^53
  return Math.imul(id, 0x9e3779b1) ^ 0x5bd1e995;
}

/**
 * Replays a trace against an allocator and measures it. `input` is a file path, in-memory trace data,
 * a reader (`TraceReader`), or trace events; `allocator` an `Allocator` or a factory for a fresh one.
 * Malformed input throws `TraceFormatError`; an allocator that loses a payload or throws anything but
 * out-of-memory throws {@link ReplayError}.
 *
 * @example
 * ```ts
 * const result = await replay("gcc-as.rep.gz", createHeap({ strategy: tlsf(), maxSize: 1 << 30 }));
 * console.log(result.utilization, result.opsPerSecond);
 * ```
 */
export async function replay(
  input: ReplayInput,
  allocator: AllocatorInput,
  options: ReplayOptions = {},
): Promise<ReplayResult> {
  const started = Math.min(performance.now(), options.readStartedAt ?? Number.POSITIVE_INFINITY);
  const heap = typeof allocator === "function" ? allocator() : allocator;
  const { batches, reader, name } = batchesOf(input, options);
  const verify = options.verify ?? true;
  const targetSamples =
    options.samples === 0 ? Number.POSITIVE_INFINITY : Math.max(8, options.samples ?? 200);
  const stopAfter = options.stopAfter ?? Number.POSITIVE_INFINITY;

  let ops = 0;
  let loopMs = 0;
  let sampleEvery = Number.isFinite(targetSamples) ? 256 : Number.POSITIVE_INFINITY;
  let nextSample = sampleEvery;
  let sampleMs = 0;
  let sized = false;
  let stoppedAfter: number | undefined;
  let bestSampleLive = -1;
  let overheadAtPeak = 0;
  let internalAtPeak = 0;
  let peakExternal = 0;
  const series: ReplaySeries = {
    op: [],
    liveBytes: [],
    usableBytes: [],
    heapBytes: [],
    freeBytes: [],
    overheadBytes: [],
    externalFragmentation: [],
  };
  const sample = () => {
    const t = performance.now();
    const usage = heap.usage();
    series.op.push(ops);
    const live = engine.counts[LIVE];
    series.liveBytes.push(live);
    series.usableBytes.push(usage.liveBytes);
    series.heapBytes.push(usage.heapSize);
    series.freeBytes.push(usage.freeBytes);
    series.overheadBytes.push(usage.overheadBytes);
    series.externalFragmentation.push(usage.externalFragmentation);
    if (usage.externalFragmentation > peakExternal) peakExternal = usage.externalFragmentation;
    if (live > bestSampleLive) {
      bestSampleLive = live;
      overheadAtPeak = usage.overheadBytes;
      internalAtPeak = usage.liveBytes - live;
    }
    if (series.op.length >= 2 * targetSamples) {
      for (const column of Object.values(series) as number[][]) {
        let k = 0;
        for (let j = 1; j < column.length; j += 2) column[k++] = column[j];
        column.length = k;
      }
      sampleEvery *= 2;
    }
    nextSample = ops + sampleEvery;
    options.onSample?.(heap, ops, live);
    sampleMs += performance.now() - t;
  };

  const fail = (batch: EventBatch, i: number, what: string, cause?: unknown): never => {
    const line = batch.line[i];
    throw new ReplayError(name, line, OP_NAMES[batch.op[i]], batch.id[i], what, cause);
  };
  const engine = new ReplayLoop(heap, verify, name);

  sample();
  outer: for await (const batch of batches) {
    if (!sized) {
      // a .rep header tells the length: sample evenly from the start
      sized = true;
      const header = reader?.summary.header;
      if (header !== undefined) engine.reserve(header.ids);
      if (header !== undefined && header.ops > 0 && Number.isFinite(targetSamples)) {
        sampleEvery = Math.max(1, Math.ceil(header.ops / targetSamples));
        nextSample = ops + sampleEvery;
      }
    }
    sampleMs = 0;
    const t0 = performance.now();
    const n = batch.length;
    let i = 0;
    try {
      while (i < n) {
        if (ops >= stopAfter) {
          stoppedAfter = ops;
          loopMs += performance.now() - t0 - sampleMs;
          break outer;
        }
        // run up to the next sample or stop without checking for them at each op
        const upTo = Math.min(n, i + Math.max(1, Math.min(nextSample, stopAfter) - ops));
        const from = i;
        i = engine.run(batch, i, upTo, ops);
        ops += i - from;
        if (ops >= nextSample) sample();
      }
    } catch (error) {
      if (error instanceof ReplayError) throw error;
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      fail(batch, engine.counts[AT], `the allocator threw ${message}`, error);
    }
    loopMs += performance.now() - t0 - sampleMs;
    options.onProgress?.(ops, reader ? fractionRead(reader, ops) : Number.NaN);
  }
  if (series.op[series.op.length - 1] !== ops) sample();
  options.onStop?.(heap, ops);
  const stats = heap.stats();
  const seconds = (performance.now() - started) / 1000;
  const replaySeconds = loopMs / 1000;
  const highWater = stats.peakHeapSize;
  const counts = engine.counts;
  const peakLive = counts[PEAK_LIVE];
  return {
    strategy: heap.strategy,
    trace: name,
    format: reader?.format,
    ops,
    allocs: counts[ALLOCS],
    frees: counts[FREES],
    reallocs: counts[REALLOCS],
    peakLiveBytes: peakLive,
    peakLiveOp: counts[PEAK_LIVE_OP],
    heapHighWaterBytes: highWater,
    utilization: highWater > 0 ? peakLive / highWater : 0,
    fragmentation: peakLive > 0 ? highWater / peakLive - 1 : 0,
    overheadBytes: overheadAtPeak,
    internalFragmentationBytes: internalAtPeak,
    peakExternalFragmentation: peakExternal,
    failedAllocations: counts[FAILED],
    opsPerSecond: replaySeconds > 0 ? ops / replaySeconds : 0,
    endToEndOpsPerSecond: seconds > 0 ? ops / seconds : 0,
    seconds,
    replaySeconds,
    series,
    summary: reader?.summary,
    ...(stoppedAfter === undefined ? {} : { stoppedAfter }),
  };
}

/**
 * Replays a trace against a fresh allocator from `makeAllocator` (so several runs never share a
 * heap). The same as `replay(source, makeAllocator, options)`.
 */
export function replayFile(
  file: TraceSource,
  makeAllocator: () => Allocator,
  options?: ReplayOptions,
): Promise<ReplayResult> {
  return replay(file, makeAllocator, options);
}

// the indexes of ReplayLoop's counts
/** Payload bytes live now. */
const LIVE = 0;
/** The most payload bytes live at once. */
const PEAK_LIVE = 1;
/** Ops done when the live payload first reached its peak. */
const PEAK_LIVE_OP = 2;
/** Allocations replayed. */
const ALLOCS = 3;
/** Frees replayed. */
const FREES = 4;
/** Reallocs replayed. */
const REALLOCS = 5;
/** Allocations and reallocs that failed. */
const FAILED = 6;
/** The row being replayed (where an exception came from). */
const AT = 7;
/** How many counts there are. */
const COUNTS = 8;

/**
 * The replay loop proper, apart from the async reading around it (a small plain method that the JIT
 * optimizes early): per op a switch on the op code, the block's pointer and size in typed arrays by
 * slot, the payload's tag written and checked, live bytes and their peak counted.
 */
class ReplayLoop {
  /** Pointer of the block in each slot (0: none, or its allocation failed). */
  private ptrs = new Int32Array(1024);
  /** Size asked for the block in each slot, where it has a pointer (a block in the heap is below 2^31 bytes). */
  private sizes = new Int32Array(1024);
  /**
   * The counts, in a typed array rather than in fields of their own, and kept in locals while a run
   * of rows goes: a field that holds a number changes V8's hidden class when it first holds a
   * fraction-capable double (live bytes summed from Float64Array columns) or is first written again
   * (const to mutable), and each change threw away or deoptimized the optimized loop — one cold run
   * of python-json-10k deoptimized it ~200 times at the store of the row reached, another aborted its
   * compile ("maps became deprecated during optimization"). Indexed by the module's constants
   * {@link LIVE} to {@link AT}; read by `replay()` as they stand between runs.
   */
  readonly counts = new Float64Array(COUNTS);

  constructor(
    private readonly heap: Allocator,
    private readonly verify: boolean,
    private readonly name: string,
  ) {}

  /**
   * Replays rows `[from, upTo)` of `batch`, `opsBefore` ops having been done before row `from`; returns
   * the row where it stopped: `upTo`, except on the first call (no op done before it), which replays
   * a few rows only (V8 compiles the loop while it runs, and code after it that has never run — the
   * counts written back — would deoptimize the compiled loop at its first exit). The first call is
   * told by `opsBefore`, not by a flag of its own: a field written again turns from const to mutable
   * (see {@link ReplayLoop.counts}).
   */
  run(batch: EventBatch, from: number, upTo: number, opsBefore: number): number {
    if (opsBefore === 0) upTo = Math.min(upTo, from + 64);
    const heap = this.heap;
    const verify = this.verify;
    const counts = this.counts;
    const opCol = batch.op;
    const slotCol = batch.slot;
    const sizeCol = batch.size;
    const idCol = batch.id;
    let ptrs = this.ptrs;
    let sizes = this.sizes;
    let live = counts[LIVE];
    let peakLive = counts[PEAK_LIVE];
    let peakLiveOp = counts[PEAK_LIVE_OP];
    let allocs = counts[ALLOCS];
    let frees = counts[FREES];
    let reallocs = counts[REALLOCS];
    let failed = counts[FAILED];
    let i = from;
    try {
      for (; i < upTo; i++) {
        const op = opCol[i];
        const slot = slotCol[i];
        if (slot >= ptrs.length) {
          this.grow(slot + 1);
          ptrs = this.ptrs;
          sizes = this.sizes;
        }
        if (op === Op.Alloc) {
          const size = sizeCol[i];
          let ptr = 0;
          try {
            ptr = heap.tryMalloc(size);
          } catch (error) {
            if (!(error instanceof InvalidSizeError)) throw error;
          }
          allocs++;
          ptrs[slot] = ptr;
          if (ptr === 0) {
            failed++;
          } else {
            sizes[slot] = size;
            live += size;
            if (live > peakLive) {
              peakLive = live;
              peakLiveOp = opsBefore + i - from + 1;
            }
            if (verify && size > 0) {
              const memory = heap.memory;
              writeTag(memory.u8, memory.i32, ptr, size, tagOf(idCol[i]));
            }
          }
        } else if (op === Op.Free) {
          const ptr = ptrs[slot];
          frees++;
          if (ptr !== 0) {
            const size = sizes[slot];
            if (verify && size > 0) {
              const memory = heap.memory;
              const where = checkTag(memory.u8, memory.i32, ptr, size, tagOf(idCol[i]));
              if (where !== null) this.mismatch(batch, i, ptr, where);
            }
            heap.free(ptr);
            live -= size;
            ptrs[slot] = 0;
          }
        } else {
          const size = sizeCol[i];
          const ptr = ptrs[slot];
          const oldSize = sizes[slot];
          const tag = tagOf(idCol[i]);
          reallocs++;
          if (ptr === 0) {
            // the block's allocation failed earlier: try again, as C's realloc(NULL, n) would
            let fresh = 0;
            try {
              fresh = heap.tryMalloc(size);
            } catch (error) {
              if (!(error instanceof InvalidSizeError)) throw error;
            }
            if (fresh === 0) failed++;
            else {
              ptrs[slot] = fresh;
              sizes[slot] = size;
              live += size;
              if (verify && size > 0) {
                const memory = heap.memory;
                writeTag(memory.u8, memory.i32, fresh, size, tag);
              }
            }
          } else {
            if (verify && oldSize > 0) {
              const memory = heap.memory;
              const where = checkTag(memory.u8, memory.i32, ptr, oldSize, tag);
              if (where !== null) this.mismatch(batch, i, ptr, where);
            }
            let moved = -1;
            try {
              moved = heap.realloc(ptr, size);
            } catch (error) {
              if (!(error instanceof OutOfMemoryError || error instanceof InvalidSizeError)) throw error;
              failed++;
            }
            if (moved >= 0) {
              ptrs[slot] = moved;
              sizes[slot] = size;
              live += size - oldSize;
              if (moved !== 0 && verify && size > 0) {
                const memory = heap.memory;
                const u8 = memory.u8;
                const kept = Math.min(size, oldSize);
                if (kept > 0 && u8[moved] !== (tag & 0xff)) this.mismatch(batch, i, moved, "first");
                if (size >= oldSize && oldSize >= 2 && u8[moved + oldSize - 1] !== tag >>> 24) {
                  this.mismatch(batch, i, moved, "last (copied by realloc)");
                }
                writeTag(u8, memory.i32, moved, size, tag);
              }
            }
          }
          if (live > peakLive) {
            peakLive = live;
            peakLiveOp = opsBefore + i - from + 1;
          }
        }
      }
    } finally {
      counts[AT] = i;
      counts[LIVE] = live;
      counts[PEAK_LIVE] = peakLive;
      counts[PEAK_LIVE_OP] = peakLiveOp;
      counts[ALLOCS] = allocs;
      counts[FREES] = frees;
      counts[REALLOCS] = reallocs;
      counts[FAILED] = failed;
    }
    return i;
  }

  /** Makes the tables hold `slots` slots (at most {@link MAX_RESERVED}) before they are needed (see `LiveTable.reserve`). */
  reserve(slots: number): void {
    const capacity = Math.min(slots, MAX_RESERVED);
    if (capacity > this.ptrs.length) this.grow(capacity);
  }

  private grow(capacity: number): void {
    capacity = Math.max(capacity, this.ptrs.length * 2);
    this.ptrs = growI32(this.ptrs, capacity);
    this.sizes = growI32(this.sizes, capacity);
  }

  private mismatch(batch: EventBatch, i: number, ptr: number, where: string): never {
    throw new ReplayError(
      this.name,
      batch.line[i],
      OP_NAMES[batch.op[i]],
      batch.id[i],
      `the payload at ${ptr} was overwritten (its ${where} bytes no longer hold the block's tag): ` +
        `the ${this.heap.strategy} allocator let another block or its metadata overlap this one`,
    );
  }
}

function growI32(array: Int32Array, capacity: number): Int32Array<ArrayBuffer> {
  const larger = new Int32Array(capacity);
  larger.set(array);
  return larger;
}

/**
 * Writes the tag: its 4 bytes at the start and again at the end of blocks of 8 bytes or more (as
 * whole 32-bit words where they are aligned and the memory has a word view); for smaller blocks its
 * low byte first and its high byte last.
 */
function writeTag(u8: Uint8Array, i32: Int32Array | undefined, ptr: number, size: number, tag: number): void {
  if (size >= 8) {
    const end = ptr + size;
    if (i32 !== undefined && (ptr & 3) === 0) {
      i32[ptr >>> 2] = tag;
      if ((end & 3) === 0) {
        i32[(end >>> 2) - 1] = tag;
        return;
      }
    } else {
      u8[ptr] = tag;
      u8[ptr + 1] = tag >>> 8;
      u8[ptr + 2] = tag >>> 16;
      u8[ptr + 3] = tag >>> 24;
    }
    u8[end - 4] = tag;
    u8[end - 3] = tag >>> 8;
    u8[end - 2] = tag >>> 16;
    u8[end - 1] = tag >>> 24;
  } else {
    u8[ptr] = tag;
    if (size >= 2) u8[ptr + size - 1] = tag >>> 24;
  }
}

/** Checks a tag written by {@link writeTag}: null if intact, else "first" or "last". */
function checkTag(
  u8: Uint8Array,
  i32: Int32Array | undefined,
  ptr: number,
  size: number,
  tag: number,
): string | null {
  if (size >= 8) {
    const end = ptr + size;
    if (i32 !== undefined && (ptr & 3) === 0) {
      if (i32[ptr >>> 2] !== tag) return "first";
      if ((end & 3) === 0) return i32[(end >>> 2) - 1] !== tag ? "last" : null;
    } else {
      if (u8[ptr] !== (tag & 0xff) || u8[ptr + 1] !== ((tag >>> 8) & 0xff)) return "first";
      if (u8[ptr + 2] !== ((tag >>> 16) & 0xff) || u8[ptr + 3] !== tag >>> 24) return "first";
    }
    if (u8[end - 4] !== (tag & 0xff) || u8[end - 3] !== ((tag >>> 8) & 0xff)) return "last";
    if (u8[end - 2] !== ((tag >>> 16) & 0xff) || u8[end - 1] !== tag >>> 24) return "last";
    return null;
  }
  if (u8[ptr] !== (tag & 0xff)) return "first";
  if (size >= 2 && u8[ptr + size - 1] !== tag >>> 24) return "last";
  return null;
}

/** Whether a replay input is a trace source (a path or `{ name, data }`) rather than a reader or events. */
export function isTraceSource(input: ReplayInput): input is TraceSource {
  return (
    typeof input === "string" ||
    (typeof input === "object" && input !== null && "data" in input && "name" in input)
  );
}

/** Batches from any replay input; for events in memory, ids are mapped to dense slots here. */
function batchesOf(
  input: ReplayInput,
  options: ReplayOptions,
): { batches: AsyncIterable<EventBatch>; reader: BatchSource | undefined; name: string } {
  if (isTraceSource(input)) {
    const reader = readTrace(input, options);
    return { batches: reader.batches({ recycle: true }), reader, name: reader.name };
  }
  if (input instanceof Object && "batches" in input && typeof (input as BatchSource).batches === "function") {
    const reader = input as BatchSource;
    return { batches: reader.batches({ recycle: true }), reader, name: reader.name };
  }
  return {
    batches: eventBatches(input as Iterable<TraceEvent>),
    reader: undefined,
    name: options.name ?? "events",
  };
}

async function* eventBatches(
  events: Iterable<TraceEvent> | AsyncIterable<TraceEvent>,
): AsyncGenerator<EventBatch> {
  const out = new BatchBuilder(BATCH_EVENTS);
  const live = new LiveTable();
  let index = 0;
  for await (const event of events) {
    index++;
    const known = live.get(event.id);
    const where = `events[${index - 1}] (${event.op} of id ${event.id})`;
    if (event.op === "alloc") {
      if (known >= 0)
        throw new ReplayError("events", index, "alloc", event.id, `${where}: the id is still live`);
      out.push(Op.Alloc, event.id, live.add(event.id, event.id, event.size), event.size, index, event.time);
    } else if (known < 0) {
      throw new ReplayError("events", index, event.op, event.id, `${where}: the id is not live`);
    } else if (event.op === "free") {
      live.remove(event.id, known);
      out.push(Op.Free, event.id, known, 0, index, event.time);
    } else {
      live.rekey(event.id, event.id, known, event.size);
      out.push(Op.Realloc, event.id, known, event.size, index, event.time);
    }
    if (out.full.length > 0) yield* out.full.splice(0);
  }
  out.flush();
  yield* out.full.splice(0);
}
