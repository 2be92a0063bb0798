/**
 * `@heapkit/strategy-pymalloc` — a model of CPython 3.11's small-object allocator
 * (`Objects/obmalloc.c`, 64-bit build): requests of 1..512 bytes are served from 32 size classes
 * 16 bytes apart, carved from pools of 16 KiB inside arenas of 1 MiB. Everything else — requests of
 * 0 or more than 512 bytes, and the arenas themselves — comes from a fallback strategy over the same
 * region (TLSF by default, wired by `@heapkit/strategies`), as CPython takes them from the C malloc
 * and from mmap. Composition is through the contract: this package imports no other strategy.
 *
 * ```
 *  region  base                                                  sub-base (the fallback's region)
 *          | pymalloc header | usedpools[32] | nfp2lasta[65] | arena objects | arena map | fallback heap …
 *
 *  fallback heap:   | tlsf meta | block | ARENA (memalign'd to POOL_SIZE, 1 MiB) | block | ARENA | …
 *
 *  arena (1 MiB = 64 pools, each at a multiple of POOL_SIZE):
 *  +---------+---------+---------+-----+---------------------------------------------+
 *  | pool 0  | pool 1  | pool 2  | …   | pool_address -> pools never carved yet       |
 *  +---------+---------+---------+-----+---------------------------------------------+
 *
 *  pool (16 KiB):
 *  pool+0  +------------------------------------------------+
 *          | ref.count | freeblock | nextpool | prevpool     |  POOL_OVERHEAD = 48 bytes, as
 *          | arenaindex| szidx     | nextoffset | maxnextoffset|  sizeof(pool_header) rounded to 16
 *          | POOL_TAG  | (pad)                              |
 *  pool+48 +------------------------------------------------+
 *          | block 0 | block 1 | … | block k | virgin …  | quantization tail
 *          +------------------------------------------------+
 *            free blocks form a singly linked list from `freeblock` (first word of each free block);
 *            blocks from `nextoffset` on were never handed out (carved lazily, one at a time)
 *
 *  arena object (8 words): address | pool_address | nfreepools | ntotalpools | freepools |
 *                          nextarena | prevarena | (spare)        links are index + 1, 0 = NULL
 *  arena map: per ARENA_SIZE-aligned chunk of the address space, (tail_hi, tail_lo), as the leaves
 *  of 3.11's radix tree: address_in_range(p) is two loads, independent of the number of arenas.
 * ```
 *
 * Behaviour, as obmalloc.c 3.11 does it:
 * - `usedpools[c]` lists the partly used pools of class c; malloc takes the head pool's free list,
 *   then carves a virgin block; a pool that becomes full leaves the list; a full pool that gets a
 *   block back goes to the front; a pool that becomes empty goes to its arena's `freepools`.
 * - A class with no used pool takes a pool from `usable_arenas` (head first: the arena with the
 *   fewest free pools), reusing a cached free pool (its free list kept if it held the same class)
 *   or carving the next one; with no usable arena, `new_arena()`.
 * - `usable_arenas` stays sorted by `nfreepools` ascending, kept in place by the `nfp2lasta[]`
 *   fingers; an arena whose pools are all free is given back to the fallback, unless it is the last
 *   arena of the list (bpo-37257).
 * - realloc of a small block stays in place unless shrinking saves at least 25%.
 *
 * Where the model differs: the arena objects sit in a table sized for the heap's limit (CPython
 * reallocs a vector that starts at 16 entries and doubles; the `maxarenas` word grows the same way
 * so indices match), and arenas are carved with `memalign(POOL_SIZE, ARENA_SIZE)`, so no pool is
 * lost to arena alignment. Blocks are 16-aligned whatever the heap's `align`, as on 64-bit CPython.
 *
 * The layers, one file each: `layout.ts` (header words, pool and arena shapes), `arena-map.ts`
 * (`address_in_range`), `pools.ts` (usedpools, pool_extend, allocate_from_new_pool), `arenas.ts`
 * (new_arena, the free-arena order), `engine.ts` (the hot path), `inspection.ts` (blocks, census),
 * `report.ts` (`_debugmallocstats`) and `check.ts` (one function per invariant below).
 *
 * Invariants (checked by `check()`, besides the fallback's own):
 * 1. usable_arenas is sorted by nfreepools ascending, its prev links agree, it holds exactly the
 *    allocated arenas with free pools, and nfp2lasta[n] is its last arena with n free pools.
 * 2. Unused arena objects have address 0; allocated ones are counted by narenas_currently_allocated
 *    and marked in the arena map.
 * 3. An arena's nfreepools = pools on its freepools list + pools not carved yet.
 * 4. Each carved pool names its arena; in a used pool, ref.count + free-list length = blocks carved;
 *    the free list stays inside the carved blocks, on block boundaries, without repeats.
 * 5. usedpools[c] holds exactly the pools of class c that are neither full nor empty.
 *
 * @packageDocumentation
 */
import { isPowerOfTwo, type Strategy } from "@heapkit/contract";
import { attachPymalloc, createPymalloc } from "./engine.js";
import { MAX_POOLS_PER_ARENA, MIN_POOL_SIZE } from "./layout.js";

export {
  ALIGNMENT,
  INITIAL_ARENA_OBJECTS,
  indexToSize,
  NB_SMALL_SIZE_CLASSES,
  POOL_OVERHEAD,
  SMALL_REQUEST_THRESHOLD,
  sizeToIndex,
} from "./layout.js";

/** Options of {@link pymalloc}. */
export interface PymallocOptions {
  /** Where requests of 0 or more than 512 bytes, and the arenas, come from (`@heapkit/strategies` wires TLSF). */
  fallback: Strategy<unknown>;
  /** Bytes per arena, a power of two (default 1 MiB, as 3.11's USE_LARGE_ARENAS). */
  arenaSize: number;
  /** Bytes per pool, a power of two from 4 KiB to the arena size (default 16 KiB, as USE_LARGE_POOLS). */
  poolSize: number;
}

/**
 * pymalloc: CPython 3.11's obmalloc over a fallback strategy. `fallback` is required: it serves
 * large requests and the arenas (`@heapkit/strategies` registers `pymalloc` with TLSF).
 */
export function pymalloc(
  options: Partial<PymallocOptions> & Pick<PymallocOptions, "fallback">,
): Strategy<PymallocOptions> {
  const arenaSize = options.arenaSize ?? 1 << 20;
  const poolSize = options.poolSize ?? 1 << 14;
  if (options.fallback === undefined || typeof options.fallback.create !== "function") {
    throw new RangeError("pymalloc: a fallback strategy is required (for example tlsf())");
  }
  if (!isPowerOfTwo(poolSize) || poolSize < MIN_POOL_SIZE) {
    throw new RangeError(
      `pymalloc: poolSize must be a power of two of at least ${MIN_POOL_SIZE}, got ${poolSize}`,
    );
  }
  // At least two pools: obmalloc's free path tells "the arena was full" (nfreepools becomes 1) from
  // "every pool is free" (nfreepools becomes ntotalpools), and a one-pool arena is both at once.
  if (!isPowerOfTwo(arenaSize) || arenaSize < 2 * poolSize || arenaSize / poolSize > MAX_POOLS_PER_ARENA) {
    throw new RangeError(
      `pymalloc: arenaSize must be a power of two from 2 to ${MAX_POOLS_PER_ARENA} pools (${2 * poolSize} to ${MAX_POOLS_PER_ARENA * poolSize} bytes), got ${arenaSize}`,
    );
  }
  const resolved: PymallocOptions = { fallback: options.fallback, arenaSize, poolSize };
  return {
    name: "pymalloc",
    description: `CPython 3.11 obmalloc: 32 classes up to 512 B in ${poolSize / 1024} KiB pools and ${arenaSize / 1024} KiB arenas, else ${options.fallback.name}`,
    options: resolved,
    create: (region) => createPymalloc(region, resolved, resolved.fallback),
    attach: (region) => attachPymalloc(region, resolved, resolved.fallback),
  };
}
