/**
 * The workload: a flat typed-array sequence of operations, replayed by every implementation (JS loops
 * read it with no per-operation allocation), and its binary file, which the C replay reads too.
 *
 * ```
 *  op[i]   = slot << 2 | kind      kind 0 alloc, 1 free, 2 realloc; slot = index into a pointer table
 *  size[i] = bytes asked           (alloc and realloc; 0 for free)
 *
 *  file    int32 header[8] = { MAGIC, VERSION, ops, slots, peakLive lo, peakLive hi, fillEnd, 0 }
 *          int32 op[ops]   int32 size[ops]                                    (little-endian)
 * ```
 *
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs";

/** `op & 3` of an allocation. */
export const OP_ALLOC = 0;
/** `op & 3` of a free. */
export const OP_FREE = 1;
/** `op & 3` of a realloc. */
export const OP_REALLOC = 2;

const MAGIC = 0x4c574b48; // "HKWL"
const VERSION = 1;
const HEADER_WORDS = 8;

/** A workload: a sequence of alloc/free/realloc operations on numbered slots. */
export interface Workload {
  /** Its name in the results (`W`, `W-100`, a trace's name …). */
  readonly name: string;
  /** `slot << 2 | kind` per operation. */
  readonly ops: Int32Array;
  /** Bytes asked per operation (0 for a free). */
  readonly sizes: Int32Array;
  /** Slots the pointer table needs. */
  readonly slots: number;
  /** The most payload bytes (as asked, not as rounded) live at once: the numerator of utilization. */
  readonly peakLiveBytes: number;
  /** Index of the first operation at which the live set reached its cap (0 if it never did). */
  readonly fillEnd: number;
}

/** Checks a workload is balanced and well formed (every free and realloc names a live slot); returns it. */
export function validateWorkload(w: Workload): Workload {
  const liveFlag = new Uint8Array(w.slots);
  let live = 0;
  for (let i = 0; i < w.ops.length; i++) {
    const op = w.ops[i];
    const kind = op & 3;
    const slot = op >>> 2;
    if (slot >= w.slots) throw new Error(`${w.name}: op ${i} names slot ${slot} ≥ ${w.slots}`);
    if (kind === OP_ALLOC) {
      if (liveFlag[slot]) throw new Error(`${w.name}: op ${i} allocates into live slot ${slot}`);
      liveFlag[slot] = 1;
      live++;
    } else {
      if (!liveFlag[slot]) throw new Error(`${w.name}: op ${i} frees or reallocs dead slot ${slot}`);
      if (kind === OP_FREE) {
        liveFlag[slot] = 0;
        live--;
      }
    }
  }
  if (live !== 0) throw new Error(`${w.name}: ${live} blocks still live at the end`);
  return w;
}

/** Writes a workload in the binary format the C replay reads. */
export function writeWorkload(file: string, w: Workload): void {
  const header = new Int32Array(HEADER_WORDS);
  header[0] = MAGIC;
  header[1] = VERSION;
  header[2] = w.ops.length;
  header[3] = w.slots;
  header[4] = (w.peakLiveBytes % 2 ** 32) | 0;
  header[5] = Math.floor(w.peakLiveBytes / 2 ** 32);
  header[6] = w.fillEnd;
  writeFileSync(file, Buffer.concat([bytesOf(header), bytesOf(w.ops), bytesOf(w.sizes)]));
}

/** Reads a workload written by {@link writeWorkload}; `name` names it. */
export function readWorkload(file: string, name: string): Workload {
  const bytes = readFileSync(file);
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  const header = new Int32Array(copy, 0, HEADER_WORDS);
  if (header[0] !== MAGIC || header[1] !== VERSION)
    throw new Error(`${file}: not a workload file of version ${VERSION}`);
  const count = header[2];
  const ops = new Int32Array(copy, HEADER_WORDS * 4, count);
  const sizes = new Int32Array(copy, HEADER_WORDS * 4 + count * 4, count);
  const peakLiveBytes = (header[4] >>> 0) + header[5] * 2 ** 32;
  return { name, ops, sizes, slots: header[3], peakLiveBytes, fillEnd: header[6] };
}

function bytesOf(a: Int32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}
