/**
 * A heap pictured at one op of a replay: its cells by class (the SVG map draws them) and its figures.
 *
 * @module
 */
import type { Heap } from "@heapkit/heap";
import { classifyCells } from "./heap-line.js";

/** What a heap looked like at one op: its cells by class, and its figures. */
export interface HeapPicture {
  /** Ops done when the picture was taken. */
  op: number;
  /** The first byte of the heap's blocks. */
  base: number;
  /** The heap's break. */
  brk: number;
  /** One {@link ByteClass} per cell; cells cover [base, brk) in address order. */
  cells: Uint8Array;
  /** Live blocks. */
  liveBlocks: number;
  /** Usable bytes of the live blocks. */
  liveBytes: number;
  /** Free blocks. */
  freeBlocks: number;
  /** Bytes in free blocks. */
  freeBytes: number;
  /** Headers, tables and padding. */
  overheadBytes: number;
  /** Largest free block. */
  largestFreeBlock: number;
}

/**
 * Where a heap's blocks begin: after the control block, worker slots and pointer map it keeps in
 * front of them (the pointer map alone has a bit for every aligned word up to the limit), which a
 * picture of the blocks leaves out.
 */
export function regionStart(heap: Heap): number {
  return heap.limit - heap.stats().heapLimit;
}

/** The heap's blocks, from their first byte to the break, in `cellCount` equal cells, each classed by what most of its bytes hold. */
export function pictureOf(heap: Heap, op: number, cellCount: number): HeapPicture {
  const base = regionStart(heap);
  const brk = Math.max(heap.brk, base + 1);
  const cells = classifyCells({ start: base, brk, end: brk, blocks: heap.blocks() }, cellCount, {
    markBlockStarts: false,
  });
  const stats = heap.stats();
  return {
    op,
    base,
    brk: heap.brk,
    cells,
    liveBlocks: stats.liveBlocks,
    liveBytes: stats.liveBytes,
    freeBlocks: stats.freeBlocks,
    freeBytes: stats.freeBytes,
    overheadBytes: stats.overheadBytes,
    largestFreeBlock: stats.largestFreeBlock,
  };
}
