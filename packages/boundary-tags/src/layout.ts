/**
 * The block layout every boundary-tag strategy shares (Knuth's boundary tags, with dlmalloc's
 * trick of keeping a footer only in free blocks).
 *
 * ```
 *  region  base                            firstBlock                                  brk
 *          | header | policy metadata | pad | block | block | block | … | epilogue |
 *            16 B     (list heads,            ≡ align−4 (mod align), so every payload
 *                      bitmaps)               starts at a multiple of align
 *
 *  used block                                free block
 *  b     +--------------------------+        b     +--------------------------+
 *        | size | PREV_USED | USED  |              | size | PREV_USED | 0     |
 *  b+4   +--------------------------+ <- ptr b+4   +--------------------------+
 *        | payload                  |              | next free (policy link)  |
 *        |   size − 4 bytes         |        b+8   | prev free (policy link)  |
 *        |                          |              | …                        |
 *        |                          |        b+s−4 | size (footer)            |
 *  b+s   +--------------------------+              +--------------------------+
 * ```
 *
 * Invariants (checked by `check()`):
 * 1. Sizes are multiples of `align` and at least {@link MIN_BLOCK}; blocks tile
 *    `[firstBlock, brk − 4)` exactly, and the epilogue (size 0, USED) is the last word.
 * 2. PREV_USED of every block equals USED of the block before it; the first block's is set.
 * 3. A free block's footer equals its size; no two free blocks are adjacent (coalescing is immediate).
 * 4. The policy's index holds exactly the free blocks, each once, in lists ordered by size class
 *    (the largest free block is in the last non-empty list).
 *
 * A used block needs no footer: the block after it knows from PREV_USED that it must not coalesce
 * backwards, so the payload may run to the block's last byte. The overhead is one 4-byte word per
 * used block — half of a 64-bit C allocator's, because offsets here are 32-bit.
 *
 * @module
 */

/** Bit 0 of a header: this block is in use. */
export const USED = 1;
/** Bit 1 of a header: the block before this one is in use. */
export const PREV_USED = 2;
/** Bits 0–2 of a header are flags; the rest is the size. */
export const FLAG_MASK = 7;
/** The size bits of a header: a block size is a multiple of 8, so its low three bits hold the flags. */
export const SIZE_MASK = ~FLAG_MASK;
/** Bytes of a header word. */
export const HEADER_BYTES = 4;
/** The smallest block: header, two links, footer. */
export const MIN_BLOCK = 16;
/** Bytes the mechanism keeps at the region's base before the policy's metadata. */
export const ENGINE_HEADER_BYTES = 16;
/** The first word of a formatted region ("HKbt"), so `attach` can tell a formatted region from garbage. */
export const MAGIC = 0x48_4b_62_74;

/** The block size a header word holds. */
export function sizeOfHeader(header: number): number {
  return header & SIZE_MASK;
}

/** True if a header word marks its block used. */
export function isUsedHeader(header: number): boolean {
  return (header & USED) !== 0;
}

/** True if a header word says the block before it is used. */
export function isPrevUsedHeader(header: number): boolean {
  return (header & PREV_USED) !== 0;
}

/** The size of the block at byte offset `block`, from its header. */
export function blockSizeAt(u32: Uint32Array, block: number): number {
  return u32[block >> 2] & SIZE_MASK;
}
