/**
 * What each stretch of a heap holds, by address: the one classifier behind the demo's one-line maps
 * and the SVG pictures. The region is cut into equal cells and each cell takes the class of most of
 * its bytes — payload in use, header or allocator metadata, free, cached (freed into a worker's front
 * cache, neither live nor free), or not yet claimed from the memory (above the break).
 *
 * ```
 *  [▒██████▒██████░░░░░░░······]   ▒ header/metadata  █ used  ░ free  · unclaimed
 * ```
 *
 * @module
 */
import type { BlockInfo } from "@heapkit/contract";

/** What a byte of the heap holds; on a tie, the lower value wins. */
export const ByteClass = { Used: 0, Header: 1, Free: 2, Unclaimed: 3, Cached: 4 } as const;
/** One of the {@link ByteClass} values. */
export type ByteClass = (typeof ByteClass)[keyof typeof ByteClass];

const CLASS_COUNT = 5;

/** The characters of a map. */
export interface MapGlyphs {
  readonly used: string;
  readonly header: string;
  readonly free: string;
  readonly unclaimed: string;
  readonly cached: string;
}

/** Block characters, for terminals. */
export const UNICODE_GLYPHS: MapGlyphs = { used: "█", header: "▒", free: "░", unclaimed: "·", cached: "▓" };
/** Plain ASCII, for logs and files. */
export const ASCII_GLYPHS: MapGlyphs = { used: "#", header: "=", free: ".", unclaimed: " ", cached: "+" };

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

/** Options of {@link classifyCells}. */
export interface ClassifyOptions {
  /**
   * A cell where a used block starts shows that block's header even when the header is the smaller
   * part of the cell, so that every block of a short map stays visible. Default true; a picture of
   * thousands of cells leaves it off so that each cell shows what most of its bytes hold.
   */
  readonly markBlockStarts?: boolean;
}

/**
 * Classifies the cells of a map: returns one {@link ByteClass} per cell. Runs in O(blocks + cells),
 * so it draws a heap of any size.
 */
export function classifyCells(input: MapInput, cellCount: number, options: ClassifyOptions = {}): Uint8Array {
  const { start, brk, end } = input;
  const markBlockStarts = options.markBlockStarts ?? true;
  const span = Math.max(1, end - start);
  const counts = new Float64Array(cellCount * CLASS_COUNT);
  const startsBlock = new Uint8Array(cellCount);
  const cellsPerByte = cellCount / span;
  const cellOf = (offset: number) => Math.min(cellCount - 1, Math.floor((offset - start) * cellsPerByte));
  // counts are in cells, not bytes: a byte may span several cells when the heap is smaller than the map
  const add = (from: number, to: number, byteClass: ByteClass) => {
    let position = (Math.max(from, start) - start) * cellsPerByte;
    const stop = Math.min(cellCount, (Math.min(to, end) - start) * cellsPerByte);
    while (position < stop) {
      const cell = Math.min(cellCount - 1, Math.floor(position));
      const next = Math.min(stop, cell + 1);
      if (next <= position) break;
      counts[cell * CLASS_COUNT + byteClass] += next - position;
      position = next;
    }
  };
  let covered = start;
  for (const block of input.blocks) {
    if (block.offset > covered) add(covered, block.offset, ByteClass.Header);
    const blockEnd = block.offset + block.size;
    if (block.state === "used" || block.state === "cached") {
      const payloadEnd = block.ptr + block.payload;
      add(block.offset, block.ptr, ByteClass.Header);
      add(block.ptr, payloadEnd, block.state === "used" ? ByteClass.Used : ByteClass.Cached);
      add(payloadEnd, blockEnd, ByteClass.Header);
      if (block.state === "used") startsBlock[cellOf(block.offset)] = 1;
    } else {
      add(block.offset, blockEnd, block.state === "free" ? ByteClass.Free : ByteClass.Header);
    }
    covered = Math.max(covered, blockEnd);
  }
  if (covered < brk) add(covered, brk, ByteClass.Header);
  add(Math.max(brk, start), end, ByteClass.Unclaimed);

  const cells = new Uint8Array(cellCount);
  for (let cell = 0; cell < cellCount; cell++) {
    let best: number = ByteClass.Used;
    let bestBytes = -1;
    for (let byteClass = 0; byteClass < CLASS_COUNT; byteClass++) {
      const bytes = counts[cell * CLASS_COUNT + byteClass];
      if (bytes > bestBytes) {
        best = byteClass;
        bestBytes = bytes;
      }
    }
    if (markBlockStarts && startsBlock[cell] === 1 && counts[cell * CLASS_COUNT + ByteClass.Header] > 0) {
      best = ByteClass.Header;
    }
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
  const glyphOf = [glyphs.used, glyphs.header, glyphs.free, glyphs.unclaimed, glyphs.cached];
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
