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
import type { Memory } from "@heapkit/contract";
import type { PymallocLayout } from "./layout.js";

/** address_in_range over the map in the region; it keeps no state of its own. */
export class ArenaMap {
  private readonly memory: Memory;
  private readonly mapWord: number;
  private readonly arenaBits: number;
  private readonly arenaMask: number;
  private readonly chunks: number;

  constructor(memory: Memory, layout: PymallocLayout) {
    this.memory = memory;
    this.mapWord = layout.mapWord;
    this.arenaBits = layout.arenaBits;
    this.arenaMask = layout.arenaMask;
    this.chunks = layout.chunks;
  }

  /** True if `p` lies in an arena. */
  contains(p: number): boolean {
    const chunk = p >>> this.arenaBits;
    if (chunk >= this.chunks) return false;
    const i32 = this.memory.i32;
    const hi = i32[this.mapWord + chunk * 2];
    const lo = i32[this.mapWord + chunk * 2 + 1];
    const tail = p & this.arenaMask;
    return tail < lo || (tail >= hi && hi !== 0);
  }

  /** arena_map_mark_used: marks (or unmarks) the chunks an arena at `address` covers. */
  mark(address: number, used: boolean): void {
    const i32 = this.memory.i32;
    const chunk = address >>> this.arenaBits;
    const tail = address & this.arenaMask;
    if (tail === 0) {
      i32[this.mapWord + chunk * 2] = used ? -1 : 0;
    } else {
      i32[this.mapWord + chunk * 2] = used ? tail : 0;
      i32[this.mapWord + (chunk + 1) * 2 + 1] = used ? tail : 0;
    }
  }
}
