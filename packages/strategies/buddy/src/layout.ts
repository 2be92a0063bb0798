/**
 * The buddy system's words: the region header, and the header word of every block with its tag,
 * flags and order (drawn in ./index.ts).
 *
 * ```
 *  block header word
 *  bit  31 …………… 16 | 15 …… 11 | 10       | 9     | 8    | 7 … 5    | 4 … 0
 *       TAG "BD"     | log2 A   | ALIGNED  | INNER | USED | reserved | order
 * ```
 *
 * @module
 */
import { NEXT } from "@heapkit/boundary-tags";

/** The tag in the top half of every block header ("BD"). */
export const BUDDY_TAG = 0x4244_0000;
/** The bits of a header that hold the tag. */
export const TAG_MASK = 0xffff_0000;
/** Header flag: the block is in use. */
export const BUDDY_USED = 0x100;
/** Header flag: an inner header in front of a memalign payload (word 1 = distance back to the block). */
export const BUDDY_INNER = 0x200;
/** Header flag of a memalign block: its payload is at block + 2^(bits 11–15), behind an inner header. */
export const BUDDY_ALIGNED = 0x400;
/** The first bit of a memalign block's log2 alignment. */
export const ALIGN_SHIFT = 11;
/** The bits of a header that hold a memalign block's log2 alignment. */
export const ALIGN_FIELD = 0x1f << ALIGN_SHIFT;
/** The bits of a header that hold the block's order. */
export const ORDER_MASK = 0x1f;
/** Header bits no block sets: a header with any of them is damaged. */
export const RESERVED_BITS = 0xe0;
/** The largest order: blocks of 1 GiB. */
export const MAX_ORDER = 30;
/** The smallest order with 8-byte alignment (16-byte blocks: header, two links); one more with 16. */
export const MIN_ORDER = 4;
/** "HKbd": the first word of a region formatted by the buddy strategy. */
export const MAGIC = 0x484b_6264;

/**
 * Byte offset, in a used block, of the word with the bytes asked for (an inner header keeps its
 * distance back to the block there). A free block keeps its next link in the same word.
 */
export const ASKED = NEXT;

// region header word indices (from base >> 2)
export const H_MAGIC = 0;
export const H_ALIGN = 1;
export const H_ORIGIN = 2;
/** Bit k set <=> the free list of order k is non-empty. */
export const H_BITMAP = 3;
/**
 * Bytes of used blocks (below 2^31: the heap is smaller): the one counter malloc and free keep, for
 * `freeSpace()` in O(1). The count of used blocks and the bytes asked are walked by `stats()`: two
 * more counters cost every malloc and free two read-modify-writes of the buffer.
 */
export const H_USED_BYTES = 4;
/**
 * heads[0..MAX_ORDER]: the first free block of each order. Words 5 and 6 are spare (they held the
 * dropped counters): the heads stay where they were, and so does the origin, which decides where
 * blocks of each size can start (with two words fewer, W's utilization fell from 0.7048 to 0.7040).
 */
export const H_HEADS = 7;
/** Words of the region header. */
export const HEADER_WORDS = H_HEADS + MAX_ORDER + 1;

/** The order of the smallest block holding `bytes` bytes (at least `minOrder`). */
export function buddyOrder(bytes: number, minOrder: number): number {
  const order = bytes <= 1 ? 0 : 32 - Math.clz32(bytes - 1);
  return Math.max(order, minOrder);
}

/** The address of the buddy of the block of order `order` at `block`. */
export function buddyOf(block: number, order: number): number {
  return block ^ (1 << order);
}

/** The header of a free block of `order`. */
export function freeHeader(order: number): number {
  return BUDDY_TAG | order;
}

/** The header of a used block of `order`. */
export function usedHeader(order: number): number {
  return BUDDY_TAG | BUDDY_USED | order;
}

/** The alignment of a memalign block, from its header's log2 alignment field. */
export function alignmentOf(header: number): number {
  return 1 << ((header & ALIGN_FIELD) >>> ALIGN_SHIFT);
}

/** The header in front of a memalign payload; the word after it holds the distance back to the block. */
export const INNER_HEADER = BUDDY_TAG | BUDDY_USED | BUDDY_INNER;
