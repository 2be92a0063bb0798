/**
 * Doubly linked free lists threaded through free blocks, with their heads in the policy's metadata.
 *
 * ```
 *  head word (in metadata)      free block b              free block c
 *  +--------+                  +-----------+             +-----------+
 *  |   b    |----------------> | header    |             | header    |
 *  +--------+                  | next = c  |-----------> | next = 0  |
 *                              | prev = 0  | <-----------| prev = b  |
 *                              | …  footer |             | …  footer |
 * ```
 *
 * Links are block offsets (0 ends a list); `next` is at b+4 and `prev` at b+8. Every operation is
 * O(1). All take the current `Uint32Array` view of the memory.
 *
 * @module
 */
import { HeapCorruptionError } from "@heapkit/contract";

/** Byte offset of the `next` link inside a free block. */
export const NEXT = 4;
/** Byte offset of the `prev` link inside a free block. */
export const PREV = 8;

/**
 * Pushes `block` at the front of the list whose head word is at `head` (LIFO). Returns true if the
 * list was empty before, so a policy with a bitmap of non-empty lists knows to mark it.
 */
export function pushFront(u32: Uint32Array, head: number, block: number): boolean {
  const first = u32[head >> 2];
  u32[(block + NEXT) >> 2] = first;
  u32[(block + PREV) >> 2] = 0;
  u32[head >> 2] = block;
  if (first === 0) return true;
  u32[(first + PREV) >> 2] = block;
  return false;
}

/**
 * Removes `block` from the list whose head word is at `head`. Returns true if the list is empty now,
 * so a policy with a bitmap of non-empty lists knows to unmark it.
 */
export function unlink(u32: Uint32Array, head: number, block: number): boolean {
  const next = u32[(block + NEXT) >> 2];
  const prev = u32[(block + PREV) >> 2];
  if (next !== 0) u32[(next + PREV) >> 2] = prev;
  if (prev !== 0) {
    u32[(prev + NEXT) >> 2] = next;
    return false;
  }
  u32[head >> 2] = next;
  return next === 0;
}

/**
 * Yields the blocks of a list in order, verifying each `prev` link. Stops after `limit` steps, so a
 * corrupted (cyclic) list cannot loop forever; the caller's check then sees a block twice.
 */
export function* listBlocks(u32: Uint32Array, head: number, limit: number): Generator<number> {
  let prev = 0;
  let block = u32[head >> 2];
  for (let steps = 0; block !== 0 && steps <= limit; steps++) {
    if (u32[(block + PREV) >> 2] !== prev) {
      throw new HeapCorruptionError(
        block,
        `free-list prev link is ${u32[(block + PREV) >> 2]}, expected ${prev}`,
      );
    }
    yield block;
    prev = block;
    block = u32[(block + NEXT) >> 2];
  }
}
