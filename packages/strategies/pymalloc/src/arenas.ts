/**
 * Arenas: `new_arena`, taking a pool from the most used arena, and giving an empty pool back while
 * keeping `usable_arenas` sorted by `nfreepools` (the free-arena order of obmalloc.c 3.11).
 *
 * ```
 *  usable_arenas -> [nf 1] <-> [nf 1] <-> [nf 3] <-> [nf 7] -> 0     sorted ascending by nfreepools
 *                              ^ nfp2lasta[1]  ^ nfp2lasta[3]         the last arena with n free pools,
 *                                                                     so a re-sort is one splice
 * ```
 *
 * Arena references are index + 1 (0 = NULL), as the lists hold them.
 *
 * @module
 */

import { markArena } from "./arena-map.js";
import * as words from "./layout.js";
import type { PymallocParts } from "./parts.js";

// Module-private copies of the layout's words: V8 reads an imported binding through its module
// cell at every use, and these are read in every malloc and free.
const {
  A_ADDRESS,
  A_FREEPOOLS,
  A_NEXT,
  A_NFREEPOOLS,
  A_NTOTALPOOLS,
  A_POOL_ADDRESS,
  A_PREV,
  ARENA_WORDS,
  DUMMY_SIZE_IDX,
  INITIAL_ARENA_OBJECTS,
  P_ARENA,
  P_NEXT,
  P_SZIDX,
  P_TAG,
  POOL_TAG,
  W_HIGHWATER,
  W_MAXARENAS,
  W_NARENAS,
  W_NTIMES,
  W_UNUSED,
  W_USABLE,
} = words;

/** new_arena: an arena object (index + 1) with a fresh arena from the fallback, or 0. */
export function newArena(parts: PymallocParts): number {
  const { layout } = parts;
  const hw = layout.hw;
  let u32 = parts.memory.u32;
  let unused = u32[hw + W_UNUSED];
  const maxarenas = u32[hw + W_MAXARENAS];
  if (unused === 0 && maxarenas >= layout.capacity) return 0;
  // the arena first, so that a failure changes nothing
  const address = parts.fallback.memalign(layout.poolSize, layout.arenaSize);
  if (address === 0) return 0;
  u32 = parts.memory.u32;
  if (unused === 0) {
    // the vector "doubles": the new objects join the unused list in index order
    const grown = maxarenas === 0 ? INITIAL_ARENA_OBJECTS : Math.min(maxarenas * 2, layout.capacity);
    for (let i = maxarenas; i < grown; i++) {
      const a = layout.arenaWord + i * ARENA_WORDS;
      u32[a + A_ADDRESS] = 0;
      u32[a + A_NEXT] = i + 1 < grown ? i + 2 : 0;
    }
    u32[hw + W_MAXARENAS] = grown;
    unused = maxarenas + 1;
  }
  const a = layout.arenaObject(unused);
  u32[hw + W_UNUSED] = u32[a + A_NEXT];
  u32[a + A_ADDRESS] = address;
  markArena(parts.memory.i32, layout, address, true);
  u32[hw + W_NARENAS]++;
  u32[hw + W_NTIMES]++;
  if (u32[hw + W_NARENAS] > u32[hw + W_HIGHWATER]) u32[hw + W_HIGHWATER] = u32[hw + W_NARENAS];
  u32[a + A_FREEPOOLS] = 0;
  u32[a + A_POOL_ADDRESS] = address; // memalign'd to POOL_SIZE: no pool lost to alignment
  u32[a + A_NFREEPOOLS] = layout.maxPools;
  u32[a + A_NTOTALPOOLS] = layout.maxPools;
  return unused;
}

/**
 * The first half of allocate_from_new_pool: a pool from the head of usable_arenas (a cached free
 * pool, else the next one carved), with a new arena when there is none; 0 if no arena can be had.
 * The pool is not yet on any usedpools list.
 */
export function takePool(parts: PymallocParts): number {
  const { layout } = parts;
  const hw = layout.hw;
  let u32 = parts.memory.u32;
  let usable = u32[hw + W_USABLE];
  if (usable === 0) {
    usable = newArena(parts);
    if (usable === 0) return 0;
    u32 = parts.memory.u32;
    u32[hw + W_USABLE] = usable;
    const a = layout.arenaObject(usable);
    u32[a + A_NEXT] = 0;
    u32[a + A_PREV] = 0;
    u32[layout.lastaWord + u32[a + A_NFREEPOOLS]] = usable;
  }
  const a = layout.arenaObject(usable);
  const nf = u32[a + A_NFREEPOOLS];
  if (u32[layout.lastaWord + nf] === usable) u32[layout.lastaWord + nf] = 0;
  if (nf > 1) u32[layout.lastaWord + nf - 1] = usable;
  let pool = u32[a + A_FREEPOOLS];
  if (pool !== 0) {
    u32[a + A_FREEPOOLS] = u32[(pool >> 2) + P_NEXT];
  } else {
    pool = u32[a + A_POOL_ADDRESS];
    u32[(pool >> 2) + P_ARENA] = usable - 1;
    u32[(pool >> 2) + P_SZIDX] = DUMMY_SIZE_IDX;
    u32[(pool >> 2) + P_TAG] = POOL_TAG;
    u32[a + A_POOL_ADDRESS] = pool + layout.poolSize;
  }
  u32[a + A_NFREEPOOLS] = nf - 1;
  if (nf - 1 === 0) {
    // wholly allocated: off usable_arenas
    const next = u32[a + A_NEXT];
    u32[hw + W_USABLE] = next;
    if (next !== 0) u32[layout.arenaObject(next) + A_PREV] = 0;
  }
  return pool;
}

/**
 * The arena half of insert_to_freepool: an empty pool (already off usedpools) goes on its arena's
 * freepools, and the arena moves in usable_arenas as obmalloc's four cases say.
 */
export function returnPool(parts: PymallocParts, u32: Uint32Array, pool: number): void {
  const { layout } = parts;
  const ref = u32[(pool >> 2) + P_ARENA] + 1;
  const a = layout.arenaObject(ref);
  u32[(pool >> 2) + P_NEXT] = u32[a + A_FREEPOOLS];
  u32[a + A_FREEPOOLS] = pool;
  let nf = u32[a + A_NFREEPOOLS];
  const lastnf = u32[layout.lastaWord + nf];
  if (lastnf === ref) {
    const p = u32[a + A_PREV];
    u32[layout.lastaWord + nf] = p !== 0 && u32[layout.arenaObject(p) + A_NFREEPOOLS] === nf ? p : 0;
  }
  nf++;
  u32[a + A_NFREEPOOLS] = nf;
  if (nf === u32[a + A_NTOTALPOOLS] && u32[a + A_NEXT] !== 0) {
    freeArena(parts, u32, ref);
  } else if (nf === 1) {
    pushUsableArena(parts, u32, ref);
  } else {
    if (u32[layout.lastaWord + nf] === 0) u32[layout.lastaWord + nf] = ref;
    if (ref !== lastnf) slideArena(parts, u32, ref, lastnf);
  }
}

/** Case 1: every pool free and not the last arena of the list: the arena goes back to the fallback. */
function freeArena(parts: PymallocParts, u32: Uint32Array, ref: number): void {
  const { layout } = parts;
  const hw = layout.hw;
  const a = layout.arenaObject(ref);
  const next = u32[a + A_NEXT];
  const prev = u32[a + A_PREV];
  if (prev === 0) u32[hw + W_USABLE] = next;
  else u32[layout.arenaObject(prev) + A_NEXT] = next;
  u32[layout.arenaObject(next) + A_PREV] = prev;
  u32[a + A_NEXT] = u32[hw + W_UNUSED];
  u32[hw + W_UNUSED] = ref;
  const address = u32[a + A_ADDRESS];
  markArena(parts.memory.i32, layout, address, false);
  u32[a + A_ADDRESS] = 0;
  u32[hw + W_NARENAS]--;
  parts.fallback.free(address);
}

/** Case 2: the arena was full; with one free pool it goes to the head of usable_arenas. */
function pushUsableArena(parts: PymallocParts, u32: Uint32Array, ref: number): void {
  const { layout } = parts;
  const hw = layout.hw;
  const a = layout.arenaObject(ref);
  const head = u32[hw + W_USABLE];
  u32[a + A_NEXT] = head;
  u32[a + A_PREV] = 0;
  if (head !== 0) u32[layout.arenaObject(head) + A_PREV] = ref;
  u32[hw + W_USABLE] = ref;
  if (u32[layout.lastaWord + 1] === 0) u32[layout.lastaWord + 1] = ref;
}

/**
 * Case 3: the arena now has more free pools than those after it up to `lastnf` (the last arena
 * that had its old count): it moves right, to just after `lastnf`. (Case 4, already in order, is
 * when the arena was that last one itself.)
 */
function slideArena(parts: PymallocParts, u32: Uint32Array, ref: number, lastnf: number): void {
  const { layout } = parts;
  const a = layout.arenaObject(ref);
  const next = u32[a + A_NEXT];
  const prev = u32[a + A_PREV];
  if (prev !== 0) u32[layout.arenaObject(prev) + A_NEXT] = next;
  else u32[layout.hw + W_USABLE] = next;
  u32[layout.arenaObject(next) + A_PREV] = prev;
  const l = layout.arenaObject(lastnf);
  const after = u32[l + A_NEXT];
  u32[a + A_PREV] = lastnf;
  u32[a + A_NEXT] = after;
  if (after !== 0) u32[layout.arenaObject(after) + A_PREV] = ref;
  u32[l + A_NEXT] = ref;
}
