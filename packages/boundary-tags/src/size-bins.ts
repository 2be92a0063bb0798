/**
 * Size bins and a bitmap of the non-empty ones: the index shape that best fit and segregated
 * fits share.
 *
 * ```
 *  block size   16 24 32 … 1016 | 1024…1151 1152…1279 … (8 bins per power of two) … 2^30+7·2^27…
 *  bin          2  3  4  … 127  | 128       129       …                            … 295
 *               exact: one size per bin   | ranges: 8 sub-bins per power of two
 *
 *  bitmap  word 0: bins 0–31, word 1: bins 32–63, …   bit set <=> the bin's list is non-empty
 * ```
 *
 * Finding the next non-empty bin at or after a given one takes one bitmap word per 32 bins and a
 * count of trailing zeros, so a search never walks empty lists.
 *
 * @module
 */

/** log2 of the bits in a bitmap word. */
const WORD_BITS_LOG = 5;
/** Block sizes below this have a bin of their own (one per 8 bytes). */
export const EXACT_LIMIT = 1024;
/** log2 of {@link EXACT_LIMIT}. */
const EXACT_LIMIT_LOG = 10;
/** Sub-bins per power of two above the exact range (as a shift: 8 sub-bins). */
const SUB_BIN_BITS = 3;
/** The number of bins, a multiple of 32: blocks are smaller than 2^31 bytes, so bins stop below 296. */
export const BIN_COUNT = 320;
/** Words of the non-empty bitmap. */
export const BITMAP_WORDS = BIN_COUNT >>> WORD_BITS_LOG;

// The bitmap helpers are module-private functions, exported under their names below: V8 reads an
// exported binding through its module cell at every use, which the bin searches here cannot afford.
// A module that calls them on its hot path keeps module-private copies for the same reason.
function bitWord(bit: number): number {
  return bit >>> WORD_BITS_LOG;
}

function bitMask(bit: number): number {
  return 1 << (bit & ((1 << WORD_BITS_LOG) - 1));
}

function bitsFrom(bit: number): number {
  return -1 << (bit & ((1 << WORD_BITS_LOG) - 1));
}

function lowest(bits: number): number {
  return 31 - Math.clz32(bits & -bits);
}

/** The bitmap word (0 for bits 0–31, 1 for 32–63, …) that holds bit `bit`. */
export const wordOfBit: (bit: number) => number = bitWord;
/** The mask of bit `bit` inside its bitmap word. */
export const maskOfBit: (bit: number) => number = bitMask;
/** The mask of bit `bit` and every bit above it inside its bitmap word. */
export const maskFromBit: (bit: number) => number = bitsFrom;
/** The index of the lowest set bit of a non-zero word. */
export const lowestBit: (bits: number) => number = lowest;

/** The bin of a block of `size` bytes (a multiple of 8, at least 16). */
export function binOf(size: number): number {
  if (size < EXACT_LIMIT) return size >>> 3;
  const log = 31 - Math.clz32(size);
  const sub = (size >>> (log - SUB_BIN_BITS)) & ((1 << SUB_BIN_BITS) - 1);
  return (EXACT_LIMIT >>> 3) + ((log - EXACT_LIMIT_LOG) << SUB_BIN_BITS) + sub;
}

/** True if every block in `bin` has the same size (so its first block is as good as any). */
export function isExactBin(bin: number): boolean {
  return bin < EXACT_LIMIT >>> 3;
}

/** The smallest block size that falls in `bin`. */
export function binFloor(bin: number): number {
  if (bin < EXACT_LIMIT >>> 3) return bin << 3;
  const rank = bin - (EXACT_LIMIT >>> 3);
  const log = (rank >>> SUB_BIN_BITS) + EXACT_LIMIT_LOG;
  const sub = rank & ((1 << SUB_BIN_BITS) - 1);
  return (1 << log) + (sub << (log - SUB_BIN_BITS));
}

/** Marks `bin` non-empty in the bitmap whose first word is at byte offset `bitmap`. */
export function markBin(u32: Uint32Array, bitmap: number, bin: number): void {
  u32[(bitmap >> 2) + bitWord(bin)] |= bitMask(bin);
}

/** Marks `bin` empty. */
export function unmarkBin(u32: Uint32Array, bitmap: number, bin: number): void {
  u32[(bitmap >> 2) + bitWord(bin)] &= ~bitMask(bin);
}

/** True if `bin` is marked non-empty. */
export function isBinMarked(u32: Uint32Array, bitmap: number, bin: number): boolean {
  return (u32[(bitmap >> 2) + bitWord(bin)] & bitMask(bin)) !== 0;
}

/** The first non-empty bin at or after `from`, or -1. */
export function nextMarkedBin(u32: Uint32Array, bitmap: number, from: number): number {
  if (from >= BIN_COUNT) return -1;
  const first = bitmap >> 2;
  let word = bitWord(from);
  let bits = u32[first + word] & bitsFrom(from);
  while (bits === 0) {
    if (++word >= BITMAP_WORDS) return -1;
    bits = u32[first + word];
  }
  return (word << WORD_BITS_LOG) + lowest(bits);
}
