/**
 * The multi-worker family (Wx1, Wx2, Wx4 …): workload W split over N workers that share one heap.
 * Worker k replays, in W's order, the operations on the slots with `slot % N === k` (so the live set
 * in all is W's), and one free in four (every fourth free of W, counted in W's order) is handed to
 * the next worker, `(k + 1) % N`, which frees the block: the cross-worker frees. With one worker the
 * hand-off goes through the same queue to itself, so every worker count does the same work.
 *
 * ```
 *  op[i]   = localSlot << 2 | kind     kind 0 alloc, 1 free, 3 hand the block to the next worker to free
 *  file    int32 header[8] = { MAGIC, VERSION, workers, total ops, peakLive lo, peakLive hi, 0, 0 }
 *          then per worker: int32 count, int32 slots, int32 op[count], int32 size[count]   (little-endian)
 * ```
 *
 * The C replay reads the same file for its threaded glibc peer.
 *
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs";
import { OP_ALLOC, OP_FREE, type Workload } from "./workload-format.js";

/** `op & 3` of a free handed to the next worker. */
export const OP_HAND_OFF = 3;
/** One free in this many is handed to another worker. */
export const HAND_OFF_EVERY = 4;

const MAGIC = 0x4d574b48; // "HKWM"
const VERSION = 1;
const HEADER_WORDS = 8;

/** One worker's share of a split workload. */
export interface WorkerShare {
  /** `localSlot << 2 | kind` per operation. */
  readonly ops: Int32Array;
  /** Bytes asked per allocation (0 otherwise). */
  readonly sizes: Int32Array;
  /** Slots this worker's pointer table needs. */
  readonly slots: number;
}

/** A workload split over workers. */
export interface SplitWorkload {
  /** One share per worker. */
  readonly shares: readonly WorkerShare[];
  /** Operations in all shares together (the whole workload's count). */
  readonly totalOps: number;
  /** The whole workload's peak live payload. */
  readonly peakLiveBytes: number;
}

/** Splits an alloc/free workload (no reallocs) over `workers` workers; throws on a realloc. */
export function splitWorkload(w: Workload, workers: number): SplitWorkload {
  if (!Number.isInteger(workers) || workers < 1)
    throw new RangeError(`workers must be a whole number ≥ 1, got ${workers}`);
  const counts = new Int32Array(workers);
  for (let i = 0; i < w.ops.length; i++) counts[(w.ops[i] >>> 2) % workers]++;
  const shares = Array.from(counts, (count) => ({
    ops: new Int32Array(count),
    sizes: new Int32Array(count),
    slots: 0,
  }));
  const fill = new Int32Array(workers);
  let frees = 0;
  for (let i = 0; i < w.ops.length; i++) {
    const op = w.ops[i];
    const kind = op & 3;
    const slot = op >>> 2;
    const k = slot % workers;
    const local = Math.floor(slot / workers);
    let localKind: number;
    if (kind === OP_ALLOC) localKind = OP_ALLOC;
    else if (kind === OP_FREE) localKind = ++frees % HAND_OFF_EVERY === 0 ? OP_HAND_OFF : OP_FREE;
    else
      throw new RangeError(`${w.name}: op ${i} is a realloc; the multi-worker family splits alloc/free only`);
    const share = shares[k];
    share.ops[fill[k]] = (local << 2) | localKind;
    share.sizes[fill[k]] = kind === OP_ALLOC ? w.sizes[i] : 0;
    fill[k]++;
    if (local + 1 > share.slots) share.slots = local + 1;
  }
  return { shares, totalOps: w.ops.length, peakLiveBytes: w.peakLiveBytes };
}

/** Writes a split workload in the format the C replay's threaded mode reads. */
export function writeSplitWorkload(file: string, s: SplitWorkload): void {
  const header = new Int32Array(HEADER_WORDS);
  header[0] = MAGIC;
  header[1] = VERSION;
  header[2] = s.shares.length;
  header[3] = s.totalOps;
  header[4] = (s.peakLiveBytes % 2 ** 32) | 0;
  header[5] = Math.floor(s.peakLiveBytes / 2 ** 32);
  const parts: Buffer[] = [bytesOf(header)];
  for (const share of s.shares) {
    parts.push(
      bytesOf(Int32Array.of(share.ops.length, share.slots)),
      bytesOf(share.ops),
      bytesOf(share.sizes),
    );
  }
  writeFileSync(file, Buffer.concat(parts));
}

/** Reads a file written by {@link writeSplitWorkload}. */
export function readSplitWorkload(file: string): SplitWorkload {
  const bytes = readFileSync(file);
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  const header = new Int32Array(copy, 0, HEADER_WORDS);
  if (header[0] !== MAGIC || header[1] !== VERSION)
    throw new Error(`${file}: not a split workload file of version ${VERSION}`);
  const shares: WorkerShare[] = [];
  let at = HEADER_WORDS * 4;
  for (let k = 0; k < header[2]; k++) {
    const [count, slots] = new Int32Array(copy, at, 2);
    at += 8;
    const ops = new Int32Array(copy, at, count);
    at += count * 4;
    const sizes = new Int32Array(copy, at, count);
    at += count * 4;
    shares.push({ ops, sizes, slots });
  }
  return { shares, totalOps: header[3], peakLiveBytes: (header[4] >>> 0) + header[5] * 2 ** 32 };
}

function bytesOf(a: Int32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}
