/**
 * Pools: the `usedpools` lists of partly used pools, `pymalloc_pool_extend` (carving the next
 * virgin block), `allocate_from_new_pool`, and a pool that becomes empty leaving its list.
 *
 * ```
 *  usedpools[c] -> pool <-> pool <-> pool -> 0      partly used pools of class c, most recently
 *                                                    refilled first
 *  pool: | header | used | free | used | … | nextoffset -> virgin … | quantization tail |
 *          freeblock -> free -> free -> 0 (first word of each free block)
 * ```
 *
 * @module
 */
import { returnPool, takePool } from "./arenas.js";
import type { PymallocLayout } from "./layout.js";
import * as words from "./layout.js";
import type { PymallocParts } from "./parts.js";

// Module-private copies of the layout's words: V8 reads an imported binding through its module
// cell at every use, and these are read in every malloc and free.
const {
  indexToSize,
  P_COUNT,
  P_FREEBLOCK,
  P_MAXNEXTOFFSET,
  P_NEXT,
  P_NEXTOFFSET,
  P_PREV,
  P_SZIDX,
  POOL_OVERHEAD,
} = words;

/** pymalloc_pool_extend: carve the next virgin block, or unlink the pool: it is full. */
export function poolExtend(u32: Uint32Array, layout: PymallocLayout, pool: number, index: number): void {
  const pw = pool >> 2;
  const nextoffset = u32[pw + P_NEXTOFFSET];
  if (nextoffset <= u32[pw + P_MAXNEXTOFFSET]) {
    const block = pool + nextoffset;
    u32[pw + P_FREEBLOCK] = block;
    u32[pw + P_NEXTOFFSET] = nextoffset + indexToSize(index);
    u32[block >> 2] = 0;
    return;
  }
  unlinkPool(u32, layout, pool, index);
}

/** Takes `pool` off usedpools[index]. */
export function unlinkPool(u32: Uint32Array, layout: PymallocLayout, pool: number, index: number): void {
  const pw = pool >> 2;
  const next = u32[pw + P_NEXT];
  const prev = u32[pw + P_PREV];
  if (next !== 0) u32[(next >> 2) + P_PREV] = prev;
  if (prev !== 0) u32[(prev >> 2) + P_NEXT] = next;
  else u32[layout.usedWord + index] = next;
}

/** Links `pool` at the front of usedpools[index]. */
export function frontlinkPool(u32: Uint32Array, layout: PymallocLayout, pool: number, index: number): void {
  const pw = pool >> 2;
  const first = u32[layout.usedWord + index];
  u32[pw + P_NEXT] = first;
  u32[pw + P_PREV] = 0;
  if (first !== 0) u32[(first >> 2) + P_PREV] = pool;
  u32[layout.usedWord + index] = pool;
}

/** allocate_from_new_pool: a block of class `index` from a free or new pool; 0 if no arena can be had. */
export function allocateFromNewPool(parts: PymallocParts, index: number): number {
  const pool = takePool(parts);
  if (pool === 0) return 0;
  const u32 = parts.memory.u32;
  const layout = parts.layout;
  frontlinkPool(u32, layout, pool, index);
  const pw = pool >> 2;
  u32[pw + P_COUNT] = 1;
  if (u32[pw + P_SZIDX] === index) {
    // it last held this class: its free list is intact
    const bp = u32[pw + P_FREEBLOCK];
    u32[pw + P_FREEBLOCK] = u32[bp >> 2]; // an empty pool holds ≥ 2 carved blocks: never NULL here
    return bp;
  }
  const size = indexToSize(index);
  u32[pw + P_SZIDX] = index;
  u32[pw + P_NEXTOFFSET] = POOL_OVERHEAD + (size << 1);
  u32[pw + P_MAXNEXTOFFSET] = layout.poolSize - size;
  const bp = pool + POOL_OVERHEAD;
  u32[pw + P_FREEBLOCK] = bp + size;
  u32[(bp + size) >> 2] = 0;
  return bp;
}

/** insert_to_freepool: the pool became empty: off its usedpools list, back to its arena. */
export function insertToFreepool(parts: PymallocParts, u32: Uint32Array, pool: number): void {
  unlinkPool(u32, parts.layout, pool, u32[(pool >> 2) + P_SZIDX]);
  returnPool(parts, u32, pool);
}
