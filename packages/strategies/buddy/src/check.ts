/**
 * The buddy system's `check()`: the region header, then one function per numbered invariant of
 * ./index.ts. Each throws `HeapCorruptionError` naming the block or word and what is wrong.
 *
 * @module
 */
import { listBlocks } from "@heapkit/boundary-tags";
import { HeapCorruptionError } from "@heapkit/contract";
import {
  ASKED,
  alignmentOf,
  BUDDY_ALIGNED,
  BUDDY_INNER,
  BUDDY_TAG,
  BUDDY_USED,
  H_BITMAP,
  H_HEADS,
  H_MAGIC,
  H_ORIGIN,
  H_USED_BYTES,
  INNER_HEADER,
  MAGIC,
  MAX_ORDER,
  ORDER_MASK,
  RESERVED_BITS,
  TAG_MASK,
} from "./layout.js";

/** What the check needs to know of the engine: numbers fixed at its construction, and the break. */
export interface BuddyShape {
  base: number;
  brk: number;
  origin: number;
  minOrder: number;
  /** Header bytes in front of every payload. */
  headerBytes: number;
}

/** What the walk of the blocks counts, for invariants 3 and 4. */
interface BlockCensus {
  /** Every free block, with its order. */
  free: Map<number, number>;
  usedBytes: number;
}

/** Verifies every invariant; throws `HeapCorruptionError` at the first one broken. */
export function checkBuddy(u32: Uint32Array, shape: BuddyShape): void {
  const hw = shape.base >> 2;
  if (u32[hw + H_MAGIC] !== MAGIC)
    throw new HeapCorruptionError(shape.base, "the region's magic word is overwritten");
  if (u32[hw + H_ORIGIN] !== shape.origin) {
    throw new HeapCorruptionError(shape.base + H_ORIGIN * 4, "the origin word is damaged");
  }
  const census = checkTiling(u32, shape);
  checkFreeLists(u32, shape, census.free);
  checkCounters(u32, shape, census);
}

/**
 * Invariants 1 and 2, in one walk: blocks tile [origin, brk), each with the tag, known flags, an
 * order in range, at a multiple of its size; a memalign block's inner header points back to it;
 * no free block has a free buddy of the same order.
 */
function checkTiling(u32: Uint32Array, shape: BuddyShape): BlockCensus {
  const census: BlockCensus = { free: new Map(), usedBytes: 0 };
  let block = shape.origin;
  while (block < shape.brk) {
    const header = u32[block >> 2];
    const order = header & ORDER_MASK;
    checkHeader(block, header, order, shape);
    const size = 1 << order;
    if ((header & BUDDY_USED) !== 0) {
      if ((header & BUDDY_ALIGNED) !== 0) checkInnerHeader(u32, block, header, size, shape);
      census.usedBytes += size;
    } else {
      checkMerged(u32, block, header, order, shape);
      census.free.set(block, order);
    }
    block += size;
  }
  return census;
}

/** Invariant 1 for one block header: the tag, no unknown flag, the order's range and alignment. */
function checkHeader(block: number, header: number, order: number, shape: BuddyShape): void {
  if ((header & TAG_MASK) !== BUDDY_TAG) {
    throw new HeapCorruptionError(block, `block header 0x${header.toString(16)} lacks the buddy tag`);
  }
  if (
    (header & (BUDDY_INNER | RESERVED_BITS)) !== 0 ||
    ((header & BUDDY_ALIGNED) !== 0 && (header & BUDDY_USED) === 0)
  ) {
    throw new HeapCorruptionError(block, `block header 0x${header.toString(16)} has unknown flags`);
  }
  if (order < shape.minOrder || order > MAX_ORDER) {
    throw new HeapCorruptionError(block, `block order ${order} is outside ${shape.minOrder}..${MAX_ORDER}`);
  }
  const size = 1 << order;
  if (block % size !== 0) {
    throw new HeapCorruptionError(block, `block of order ${order} is not at a multiple of ${size}`);
  }
  if (block + size > shape.brk) {
    throw new HeapCorruptionError(block, `block of ${size} bytes runs past the break at ${shape.brk}`);
  }
}

/** Invariant 1 for a memalign block: its inner header lies inside it and points back to it. */
function checkInnerHeader(
  u32: Uint32Array,
  block: number,
  header: number,
  size: number,
  shape: BuddyShape,
): void {
  const inner = block + alignmentOf(header) - shape.headerBytes;
  if (
    inner >= block + size ||
    u32[inner >> 2] !== INNER_HEADER ||
    u32[(inner + ASKED) >> 2] !== inner - block
  ) {
    throw new HeapCorruptionError(inner, "the inner header of a memalign block does not point back to it");
  }
}

/** Invariant 2: a free block's buddy is not a free block of the same order (merging is immediate). */
function checkMerged(
  u32: Uint32Array,
  block: number,
  header: number,
  order: number,
  shape: BuddyShape,
): void {
  const size = 1 << order;
  const buddy = block ^ size;
  if (order < MAX_ORDER && buddy >= shape.origin && buddy + size <= shape.brk && u32[buddy >> 2] === header) {
    throw new HeapCorruptionError(
      block,
      `free block and its free buddy ${buddy} (order ${order}) were not merged`,
    );
  }
}

/**
 * Invariant 3: the list of order k holds exactly the free blocks of order k, each once, with valid
 * prev links; bit k of the order bitmap is set exactly when that list is non-empty.
 */
function checkFreeLists(u32: Uint32Array, shape: BuddyShape, free: Map<number, number>): void {
  const hw = shape.base >> 2;
  const bitmap = u32[hw + H_BITMAP];
  for (let order = 0; order <= MAX_ORDER; order++) {
    const head = (hw + H_HEADS + order) << 2;
    if ((u32[head >> 2] !== 0) !== (((bitmap >>> order) & 1) === 1)) {
      throw new HeapCorruptionError(
        head,
        `order bitmap bit ${order} disagrees with the free list of order ${order}`,
      );
    }
    for (const listed of listBlocks(u32, head, shape.brk >> 4)) {
      if (free.get(listed) !== order) {
        throw new HeapCorruptionError(
          listed,
          `the free list of order ${order} holds a block that is not a free block of that order (or holds it twice)`,
        );
      }
      free.delete(listed);
    }
  }
  for (const [missing] of free) {
    throw new HeapCorruptionError(missing, "a free block is missing from its order's free list");
  }
}

/** Invariant 4: the counter of used bytes agrees with the blocks. */
function checkCounters(u32: Uint32Array, shape: BuddyShape, census: BlockCensus): void {
  const counted = u32[(shape.base >> 2) + H_USED_BYTES];
  if (census.usedBytes !== counted) {
    throw new HeapCorruptionError(
      shape.base + H_USED_BYTES * 4,
      `the counter says ${counted} bytes of used blocks, the blocks say ${census.usedBytes}`,
    );
  }
}
