/**
 * The ring of batches in shared memory that a reader thread fills and the replaying thread takes
 * (see `worker-reader.ts`), and the job and messages that pass between them.
 *
 * @module
 */
import type { EventBatch } from "./batch.js";
import type { TraceFormat, TraceSummary } from "./parsers.js";
import type { ReadTraceOptions } from "./reader.js";

/** Batches in the ring: how far the reader thread may run ahead of the replay (16 × 4 096 events by default). */
export const RING_BATCHES = 16;

/** Control words (Int32): batches published by the reader thread. */
export const C_PUBLISHED = 0;
/** Batches the replaying thread is done with (their places may be filled again). */
export const C_TAKEN = 1;
/** The reader thread's state: {@link S_RUNNING}, {@link S_DONE}, {@link S_CANCELLED}. */
export const C_STATE = 2;
/** Words of the control block. */
export const CONTROL_WORDS = 4;

/** Reading. */
export const S_RUNNING = 0;
/** Stopped: all batches published, and its last message (the end or an error) posted. */
export const S_DONE = 1;
/** The replay no longer wants batches. */
export const S_CANCELLED = 2;

/**
 * Float64 words per batch of the meta block: its length, the file's bytes read when it was
 * published; with the first batch also the format (0 rep, 1 mtrace, 2 jsonl, NaN not known), whether
 * a `.rep` header was read (1) and its heap size, ids, ops and weight (NaN if none).
 */
export const BATCH_META = 8;

/** The formats by their code in the meta block. */
const FORMATS: readonly TraceFormat[] = ["rep", "mtrace", "jsonl"];

/** Writes the format and `.rep` header of `summary` into the first batch's meta words, from word `m`. */
export function writeFirstMeta(meta: Float64Array, m: number, summary: TraceSummary): void {
  meta[m + 2] = summary.format === undefined ? Number.NaN : FORMATS.indexOf(summary.format);
  const header = summary.header;
  meta[m + 3] = header === undefined ? 0 : 1;
  meta[m + 4] = header?.heapSize ?? 0;
  meta[m + 5] = header?.ids ?? 0;
  meta[m + 6] = header?.ops ?? 0;
  meta[m + 7] = header?.weight ?? Number.NaN;
}

/** Sets `summary`'s format and `.rep` header from the first batch's meta words, from word `m`. */
export function readFirstMeta(meta: Float64Array, m: number, summary: TraceSummary): void {
  summary.format = FORMATS[meta[m + 2]];
  if (meta[m + 3] === 1) {
    const weight = meta[m + 7];
    summary.header = {
      heapSize: meta[m + 4],
      ids: meta[m + 5],
      ops: meta[m + 6],
      ...(Number.isNaN(weight) ? {} : { weight }),
    };
  }
}

/** Bytes of one batch of `capacity` events in the ring: op (1), slot (4), id, size, line, time (8 each). */
function batchBytes(capacity: number): number {
  // the 8-byte columns first, then slot, then op, each at its alignment
  return capacity * (8 * 4 + 4 + 1);
}

/** Bytes from one batch's start in the ring to the next's: a batch's bytes rounded up to 8. */
function batchStride(capacity: number): number {
  return Math.ceil(batchBytes(capacity) / 8) * 8;
}

/** Bytes of the whole ring. */
export function ringBytes(capacity: number): number {
  return RING_BATCHES * batchStride(capacity);
}

/** The views of batch `k` of the ring. */
export function ringBatch(ring: SharedArrayBuffer, capacity: number, k: number): EventBatch {
  let at = k * batchStride(capacity);
  const f64 = () => {
    const column = new Float64Array(ring, at, capacity);
    at += capacity * 8;
    return column;
  };
  const id = f64();
  const size = f64();
  const line = f64();
  const time = f64();
  const slot = new Int32Array(ring, at, capacity);
  at += capacity * 4;
  const op = new Uint8Array(ring, at, capacity);
  return { length: 0, op, id, slot, size, line, time };
}

/** The read options a reader thread takes. */
export type RingOptions = Pick<ReadTraceOptions, "format" | "lenient" | "batchSize" | "maxLineBytes">;

/** What the replaying thread sends the reader thread, once. */
export interface ReadJob {
  readonly path: string;
  /** The options, with `lenient` and `batchSize` given. */
  readonly options: RingOptions & { batchSize: number; lenient: boolean };
  /** The batches (see {@link ringBatch}). */
  readonly ring: SharedArrayBuffer;
  /** {@link CONTROL_WORDS} Int32 words. */
  readonly control: SharedArrayBuffer;
  /** {@link BATCH_META} Float64 words per batch. */
  readonly meta: SharedArrayBuffer;
}

/** What the reader thread posts: its end (with the summary) or the error it stopped at. */
export type ReadMessage =
  | { kind: "end"; bytesRead: number; summary: unknown }
  | { kind: "format-error"; file: string; line: number; expected: string }
  | { kind: "error"; message: string };
