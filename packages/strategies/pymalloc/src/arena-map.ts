/**
 * The arena map: CPython 3.11's `address_in_range`, as the leaves of its radix tree. For each
 * `arenaSize`-aligned chunk of the address space it keeps two words, (tail_hi, tail_lo): an arena
 * at a chunk-aligned address sets its chunk's hi to −1; one that straddles two chunks sets the
 * first chunk's hi and the second chunk's lo to its offset in the chunk.
 *
 * ```
 *  chunk k                       chunk k+1
 *  |.......[arena ...............|.......]......|     hi[k] = tail,  lo[k+1] = tail
 *          ^ tail                        ^ tail
 *  p in an arena  <=>  tail(p) < lo[chunk(p)]  ||  (tail(p) ≥ hi[chunk(p)] && hi[chunk(p)] ≠ 0)
 * ```
 *
 * Two loads per test, whatever the number of arenas.
 *
 * @module
 */
import type { PymallocLayout } from "./layout.js";

/** address_in_range: true if `p` lies in an arena. */
export function addressInRange(i32: Int32Array, layout: PymallocLayout, p: number): boolean {
  const chunk = p >>> layout.arenaBits;
  if (chunk >= layout.chunks) return false;
  const hi = i32[layout.mapWord + chunk * 2];
  const lo = i32[layout.mapWord + chunk * 2 + 1];
  const tail = p & layout.arenaMask;
  return tail < lo || (tail >= hi && hi !== 0);
}

/** arena_map_mark_used: marks (or unmarks) the chunks an arena at `address` covers. */
export function markArena(i32: Int32Array, layout: PymallocLayout, address: number, used: boolean): void {
  const chunk = address >>> layout.arenaBits;
  const tail = address & layout.arenaMask;
  if (tail === 0) {
    i32[layout.mapWord + chunk * 2] = used ? -1 : 0;
  } else {
    i32[layout.mapWord + chunk * 2] = used ? tail : 0;
    i32[layout.mapWord + (chunk + 1) * 2 + 1] = used ? tail : 0;
  }
}
