/**
 * A heap drawn as one line of characters: each cell stands for `bytes / width` bytes of the region
 * and shows what most of them are — payload in use, header or allocator metadata, free, or not yet
 * claimed from the memory (above the break). A cell where a block starts shows that block's header
 * even when the header is smaller than the cell, so every block stays visible.
 *
 * ```
 *  [▒██████▒██████░░░░░░░······]   ▒ header/metadata  █ used  ░ free  · unclaimed
 * ```
 *
 * @module
 */
import type { BlockInfo } from "@heapkit/contract";

/** What a byte of the heap holds, in drawing order. */
export const ByteClass = { Used: 0, Header: 1, Free: 2, Unclaimed: 3 } as const;
/** One of the {@link ByteClass} values. */
export type ByteClass = (typeof ByteClass)[keyof typeof ByteClass];

const CLASS_COUNT = 4;

/** The characters of a map. */
export interface MapGlyphs {
  readonly used: string;
  readonly header: string;
  readonly free: string;
  readonly unclaimed: string;
}

/** Block characters, for terminals. */
export const UNICODE_GLYPHS: MapGlyphs = { used: "█", header: "▒", free: "░", unclaimed: "·" };
/** Plain ASCII, for logs and files. */
export const ASCII_GLYPHS: MapGlyphs = { used: "#", header: "=", free: ".", unclaimed: " " };

/** The region a map covers and how the blocks fill it. */
export interface MapInput {
  /** First byte drawn (the heap's base). */
  readonly start: number;
  /** The break: bytes at or above it are unclaimed. */
  readonly brk: number;
  /** Last byte drawn (exclusive): the heap's limit, or its break for a map of the used part only. */
  readonly end: number;
  /** The heap's blocks, by address. */
  readonly blocks: Iterable<BlockInfo>;
}

/**
 * Classifies the cells of a map: returns one {@link ByteClass} per cell. Runs in O(blocks + width),
 * so it draws a heap of any size.
 */
export function classifyCells(input: MapInput, width: number): Uint8Array {
  const { start, brk, end } = input;
  const span = Math.max(1, end - start);
  const counts = new Float64Array(width * CLASS_COUNT);
  const startsBlock = new Uint8Array(width);
  const cellOf = (offset: number) => Math.min(width - 1, Math.floor(((offset - start) * width) / span));
  const add = (from: number, to: number, byteClass: ByteClass) => {
    if (to <= from) return;
    let cell = cellOf(from);
    let at = from;
    while (at < to) {
      const cellEnd = start + Math.ceil(((cell + 1) * span) / width);
      const upTo = Math.min(to, cellEnd);
      counts[cell * CLASS_COUNT + byteClass] += upTo - at;
      at = upTo;
      cell++;
    }
  };
  let covered = start;
  for (const block of input.blocks) {
    if (block.offset > covered) add(covered, block.offset, ByteClass.Header);
    const blockEnd = block.offset + block.size;
    if (block.state === "used") {
      const payloadStart = block.ptr;
      add(block.offset, payloadStart, ByteClass.Header);
      add(payloadStart, payloadStart + block.payload, ByteClass.Used);
      add(payloadStart + block.payload, blockEnd, ByteClass.Header);
      startsBlock[cellOf(block.offset)] = 1;
    } else if (block.state === "free") {
      add(block.offset, blockEnd, ByteClass.Free);
    } else {
      add(block.offset, blockEnd, ByteClass.Header);
    }
    covered = Math.max(covered, blockEnd);
  }
  if (covered < brk) add(covered, brk, ByteClass.Header);
  add(Math.max(brk, start), end, ByteClass.Unclaimed);

  const cells = new Uint8Array(width);
  for (let cell = 0; cell < width; cell++) {
    let best: number = ByteClass.Unclaimed;
    let bestBytes = -1;
    for (let byteClass = 0; byteClass < CLASS_COUNT; byteClass++) {
      const bytes = counts[cell * CLASS_COUNT + byteClass];
      if (bytes > bestBytes) {
        best = byteClass;
        bestBytes = bytes;
      }
    }
    if (startsBlock[cell] === 1 && counts[cell * CLASS_COUNT + ByteClass.Header] > 0) best = ByteClass.Header;
    cells[cell] = best;
  }
  return cells;
}

/** Draws a map as a string of `width` characters, coloured by `paint` if given. */
export function drawHeapLine(
  input: MapInput,
  width: number,
  glyphs: MapGlyphs = UNICODE_GLYPHS,
  paint?: (byteClass: ByteClass, text: string) => string,
): string {
  const cells = classifyCells(input, width);
  const glyphOf = [glyphs.used, glyphs.header, glyphs.free, glyphs.unclaimed];
  let line = "";
  let run = "";
  let runClass = -1;
  for (const byteClass of cells) {
    if (byteClass !== runClass && run !== "") {
      line += paint ? paint(runClass as ByteClass, run) : run;
      run = "";
    }
    runClass = byteClass;
    run += glyphOf[byteClass];
  }
  if (run !== "") line += paint ? paint(runClass as ByteClass, run) : run;
  return line;
}
