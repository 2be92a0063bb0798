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
import {
  type Alignment,
  type AllocatorEngine,
  alignUp,
  type BlockInfo,
  type EngineStats,
  HeapCorruptionError,
  isPowerOfTwo,
  type Memory,
  OutOfMemoryError,
  type Ptr,
  type Region,
  type Strategy,
} from "@heapkit/contract";

/** Options of {@link pymalloc}. */
export interface PymallocOptions {
  /** Where requests of 0 or more than 512 bytes, and the arenas, come from (`@heapkit/strategies` wires TLSF). */
  fallback: Strategy<unknown>;
  /** Bytes per arena, a power of two (default 1 MiB, as 3.11's USE_LARGE_ARENAS). */
  arenaSize: number;
  /** Bytes per pool, a power of two from 4 KiB to the arena size (default 16 KiB, as USE_LARGE_POOLS). */
  poolSize: number;
}

/** Blocks are this many bytes apart (ALIGNMENT on 64-bit builds). */
export const ALIGNMENT = 16;
const ALIGNMENT_SHIFT = 4;
/** Requests above this go to the fallback. */
export const SMALL_REQUEST_THRESHOLD = 512;
/** The number of size classes: 512 / 16. */
export const NB_SMALL_SIZE_CLASSES = SMALL_REQUEST_THRESHOLD / ALIGNMENT;
/** Bytes of a pool header: sizeof(struct pool_header) rounded up to ALIGNMENT. */
export const POOL_OVERHEAD = 48;
/** arena_object vector's first size in CPython. */
export const INITIAL_ARENA_OBJECTS = 16;
/** szidx of a pool carved but never used. */
const DUMMY_SIZE_IDX = 0xffff;
/** "HKpy": the first word of a region formatted by pymalloc. */
const MAGIC = 0x484b_7079;
/** Word 8 of every pool header ("pool"), so a damaged header shows. */
const POOL_TAG = 0x706f_6f6c;

/** The block size of class `index`: INDEX2SIZE. */
export function indexToSize(index: number): number {
  return (index + 1) << ALIGNMENT_SHIFT;
}

/** The size class of a request of 1..512 bytes: (nbytes − 1) >> ALIGNMENT_SHIFT. */
export function sizeToIndex(nbytes: number): number {
  return (nbytes - 1) >> ALIGNMENT_SHIFT;
}

// header words (from base >> 2)
const W_MAGIC = 0;
const W_SHAPE = 1;
const W_SUB_BASE = 2;
const W_USABLE = 3;
const W_UNUSED = 4;
const W_MAXARENAS = 5;
const W_NARENAS = 6;
const W_NTIMES = 7;
const W_HIGHWATER = 8;
const W_CAPACITY = 9;
const W_CHUNKS = 10;
const W_RAW_BLOCKS = 11;
const W_USEDPOOLS = 16;
const W_NFP2LASTA = W_USEDPOOLS + NB_SMALL_SIZE_CLASSES;

// pool header words
const P_COUNT = 0;
const P_FREEBLOCK = 1;
const P_NEXT = 2;
const P_PREV = 3;
const P_ARENA = 4;
const P_SZIDX = 5;
const P_NEXTOFFSET = 6;
const P_MAXNEXTOFFSET = 7;
const P_TAG = 8;

// arena object words
const A_ADDRESS = 0;
const A_POOL_ADDRESS = 1;
const A_NFREEPOOLS = 2;
const A_NTOTALPOOLS = 3;
const A_FREEPOOLS = 4;
const A_NEXT = 5;
const A_PREV = 6;
const ARENA_WORDS = 8;

/** The fallback's view of the region: it starts after pymalloc's metadata and grows with it. */
class SubRegion implements Region {
  readonly memory: Memory;
  readonly base: number;
  readonly limit: number;
  readonly align: Alignment;
  private readonly parent: Region;

  constructor(parent: Region, base: number) {
    this.parent = parent;
    this.memory = parent.memory;
    this.base = base;
    this.limit = parent.limit;
    this.align = parent.align;
  }

  get brk(): number {
    return this.parent.brk;
  }

  sbrk(increment: number): number {
    return this.parent.sbrk(increment);
  }
}

/** Sizes of the metadata for given options and region. */
interface Shape {
  arenaBits: number;
  poolBits: number;
  maxPools: number;
  capacity: number;
  chunks: number;
  arenaTable: number; // word index
  mapTable: number; // word index
  subBase: number;
}

function shapeOf(region: Region, arenaSize: number, poolSize: number): Shape {
  const arenaBits = 31 - Math.clz32(arenaSize);
  const poolBits = 31 - Math.clz32(poolSize);
  const maxPools = arenaSize / poolSize;
  const span = Math.max(0, region.limit - region.base);
  let capacity = INITIAL_ARENA_OBJECTS;
  while (capacity * arenaSize < span && capacity < 4096) capacity *= 2;
  const chunks = Math.ceil(region.limit / arenaSize) + 1;
  const arenaTable = (region.base >> 2) + W_NFP2LASTA + maxPools + 1;
  const mapTable = arenaTable + capacity * ARENA_WORDS;
  const subBase = alignUp((mapTable + chunks * 2) << 2, 16);
  return { arenaBits, poolBits, maxPools, capacity, chunks, arenaTable, mapTable, subBase };
}

class PymallocEngine implements AllocatorEngine {
  readonly strategy = "pymalloc";
  private readonly memory: Memory;
  private readonly region: Region;
  private readonly base: number;
  private readonly hw: number;
  private readonly arenaSize: number;
  private readonly arenaBits: number;
  private readonly arenaMask: number;
  private readonly poolSize: number;
  private readonly poolMask: number;
  private readonly maxPools: number;
  private readonly capacity: number;
  private readonly chunks: number;
  /** Word index of usedpools[0]. */
  private readonly usedWord: number;
  /** Word index of nfp2lasta[0]. */
  private readonly lastaWord: number;
  /** Word index of arena object 0. */
  private readonly arenaWord: number;
  /** Word index of the arena map. */
  private readonly mapWord: number;
  private readonly subBase: number;
  private readonly fallbackStrategy: Strategy<unknown>;
  private fallback!: AllocatorEngine;

  constructor(region: Region, options: PymallocOptions) {
    this.region = region;
    this.memory = region.memory;
    this.base = region.base;
    this.hw = region.base >> 2;
    this.arenaSize = options.arenaSize;
    this.poolSize = options.poolSize;
    const shape = shapeOf(region, options.arenaSize, options.poolSize);
    this.arenaBits = shape.arenaBits;
    this.arenaMask = options.arenaSize - 1;
    this.poolMask = options.poolSize - 1;
    this.maxPools = shape.maxPools;
    this.capacity = shape.capacity;
    this.chunks = shape.chunks;
    this.usedWord = this.hw + W_USEDPOOLS;
    this.lastaWord = this.hw + W_NFP2LASTA;
    this.arenaWord = shape.arenaTable;
    this.mapWord = shape.mapTable;
    this.subBase = shape.subBase;
    this.fallbackStrategy = options.fallback;
  }

  private shapeWord(): number {
    return this.region.align | (this.arenaBits << 8) | ((31 - Math.clz32(this.poolSize)) << 16);
  }

  format(): this {
    const region = this.region;
    if (region.brk !== region.base || region.sbrk(this.subBase - region.base) < 0) {
      throw new OutOfMemoryError(this.subBase - region.base, 0, 0, region.limit - region.base);
    }
    const u32 = this.memory.u32;
    this.memory.u8.fill(0, region.base, this.subBase);
    u32[this.hw + W_MAGIC] = MAGIC;
    u32[this.hw + W_SHAPE] = this.shapeWord();
    u32[this.hw + W_SUB_BASE] = this.subBase;
    u32[this.hw + W_CAPACITY] = this.capacity;
    u32[this.hw + W_CHUNKS] = this.chunks;
    this.fallback = this.fallbackStrategy.create(new SubRegion(region, this.subBase));
    return this;
  }

  open(): this {
    const u32 = this.memory.u32;
    if (
      u32[this.hw + W_MAGIC] !== MAGIC ||
      u32[this.hw + W_SHAPE] !== this.shapeWord() ||
      u32[this.hw + W_SUB_BASE] !== this.subBase
    ) {
      throw new HeapCorruptionError(this.base, "not a region formatted by pymalloc with these options");
    }
    this.fallback = this.fallbackStrategy.attach(new SubRegion(this.region, this.subBase));
    return this;
  }

  // ------------------------------------------------------------------ address_in_range

  /** True if `p` lies in an arena (the radix tree's leaf test: tail < lo || (tail ≥ hi && hi ≠ 0)). */
  private inArena(p: number): boolean {
    const chunk = p >>> this.arenaBits;
    if (chunk >= this.chunks) return false;
    const i32 = this.memory.i32;
    const hi = i32[this.mapWord + chunk * 2];
    const lo = i32[this.mapWord + chunk * 2 + 1];
    const tail = p & this.arenaMask;
    return tail < lo || (tail >= hi && hi !== 0);
  }

  /** arena_map_mark_used: marks (or unmarks) the chunks an arena at `address` covers. */
  private markArena(address: number, used: boolean): void {
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

  // ------------------------------------------------------------------ allocation

  malloc(size: number): Ptr {
    if (size - 1 < SMALL_REQUEST_THRESHOLD && size > 0) {
      const u32 = this.memory.u32;
      const index = (size - 1) >> ALIGNMENT_SHIFT;
      const pool = u32[this.usedWord + index];
      if (pool !== 0) {
        const pw = pool >> 2;
        u32[pw + P_COUNT]++;
        const bp = u32[pw + P_FREEBLOCK];
        const next = u32[bp >> 2];
        u32[pw + P_FREEBLOCK] = next;
        if (next === 0) this.poolExtend(u32, pool, index);
        return bp;
      }
      const bp = this.allocateFromNewPool(index);
      if (bp !== 0) return bp;
    }
    const ptr = this.fallback.malloc(size);
    if (ptr !== 0) this.memory.u32[this.hw + W_RAW_BLOCKS]++;
    return ptr;
  }

  /** pymalloc_pool_extend: carve the next virgin block, or unlink the pool: it is full. */
  private poolExtend(u32: Uint32Array, pool: number, index: number): void {
    const pw = pool >> 2;
    const nextoffset = u32[pw + P_NEXTOFFSET];
    if (nextoffset <= u32[pw + P_MAXNEXTOFFSET]) {
      const block = pool + nextoffset;
      u32[pw + P_FREEBLOCK] = block;
      u32[pw + P_NEXTOFFSET] = nextoffset + indexToSize(index);
      u32[block >> 2] = 0;
      return;
    }
    this.unlinkPool(u32, pool, index);
  }

  private unlinkPool(u32: Uint32Array, pool: number, index: number): void {
    const pw = pool >> 2;
    const next = u32[pw + P_NEXT];
    const prev = u32[pw + P_PREV];
    if (next !== 0) u32[(next >> 2) + P_PREV] = prev;
    if (prev !== 0) u32[(prev >> 2) + P_NEXT] = next;
    else u32[this.usedWord + index] = next;
  }

  /** Links `pool` at the front of usedpools[index]. */
  private frontlinkPool(u32: Uint32Array, pool: number, index: number): void {
    const pw = pool >> 2;
    const first = u32[this.usedWord + index];
    u32[pw + P_NEXT] = first;
    u32[pw + P_PREV] = 0;
    if (first !== 0) u32[(first >> 2) + P_PREV] = pool;
    u32[this.usedWord + index] = pool;
  }

  /** Word index of arena object `ref − 1` (`ref` is index + 1). */
  private ao(ref: number): number {
    return this.arenaWord + (ref - 1) * ARENA_WORDS;
  }

  /** allocate_from_new_pool: a block of class `index` from a free or new pool; 0 if no arena can be had. */
  private allocateFromNewPool(index: number): number {
    const hw = this.hw;
    let u32 = this.memory.u32;
    let usable = u32[hw + W_USABLE];
    if (usable === 0) {
      usable = this.newArena();
      if (usable === 0) return 0;
      u32 = this.memory.u32;
      u32[hw + W_USABLE] = usable;
      const a = this.ao(usable);
      u32[a + A_NEXT] = 0;
      u32[a + A_PREV] = 0;
      u32[this.lastaWord + u32[a + A_NFREEPOOLS]] = usable;
    }
    const a = this.ao(usable);
    const nf = u32[a + A_NFREEPOOLS];
    if (u32[this.lastaWord + nf] === usable) u32[this.lastaWord + nf] = 0;
    if (nf > 1) u32[this.lastaWord + nf - 1] = usable;
    let pool = u32[a + A_FREEPOOLS];
    if (pool !== 0) {
      u32[a + A_FREEPOOLS] = u32[(pool >> 2) + P_NEXT];
    } else {
      pool = u32[a + A_POOL_ADDRESS];
      u32[(pool >> 2) + P_ARENA] = usable - 1;
      u32[(pool >> 2) + P_SZIDX] = DUMMY_SIZE_IDX;
      u32[(pool >> 2) + P_TAG] = POOL_TAG;
      u32[a + A_POOL_ADDRESS] = pool + this.poolSize;
    }
    u32[a + A_NFREEPOOLS] = nf - 1;
    if (nf - 1 === 0) {
      // wholly allocated: off usable_arenas
      const next = u32[a + A_NEXT];
      u32[hw + W_USABLE] = next;
      if (next !== 0) u32[this.ao(next) + A_PREV] = 0;
    }
    this.frontlinkPool(u32, pool, index);
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
    u32[pw + P_MAXNEXTOFFSET] = this.poolSize - size;
    const bp = pool + POOL_OVERHEAD;
    u32[pw + P_FREEBLOCK] = bp + size;
    u32[(bp + size) >> 2] = 0;
    return bp;
  }

  /** new_arena: an arena object (index + 1) with a fresh arena from the fallback, or 0. */
  private newArena(): number {
    const hw = this.hw;
    let u32 = this.memory.u32;
    let unused = u32[hw + W_UNUSED];
    const maxarenas = u32[hw + W_MAXARENAS];
    if (unused === 0 && maxarenas >= this.capacity) return 0;
    // the arena first, so that a failure changes nothing
    const address = this.fallback.memalign(this.poolSize, this.arenaSize);
    if (address === 0) return 0;
    u32 = this.memory.u32;
    if (unused === 0) {
      // the vector "doubles": the new objects join the unused list in index order
      const grown = maxarenas === 0 ? INITIAL_ARENA_OBJECTS : Math.min(maxarenas * 2, this.capacity);
      for (let i = maxarenas; i < grown; i++) {
        const a = this.arenaWord + i * ARENA_WORDS;
        u32[a + A_ADDRESS] = 0;
        u32[a + A_NEXT] = i + 1 < grown ? i + 2 : 0;
      }
      u32[hw + W_MAXARENAS] = grown;
      unused = maxarenas + 1;
    }
    const a = this.ao(unused);
    u32[hw + W_UNUSED] = u32[a + A_NEXT];
    u32[a + A_ADDRESS] = address;
    this.markArena(address, true);
    u32[hw + W_NARENAS]++;
    u32[hw + W_NTIMES]++;
    if (u32[hw + W_NARENAS] > u32[hw + W_HIGHWATER]) u32[hw + W_HIGHWATER] = u32[hw + W_NARENAS];
    u32[a + A_FREEPOOLS] = 0;
    u32[a + A_POOL_ADDRESS] = address; // memalign'd to POOL_SIZE: no pool lost to alignment
    u32[a + A_NFREEPOOLS] = this.maxPools;
    u32[a + A_NTOTALPOOLS] = this.maxPools;
    return unused;
  }

  free(ptr: Ptr): void {
    if (!this.inArena(ptr)) {
      this.fallback.free(ptr);
      this.memory.u32[this.hw + W_RAW_BLOCKS]--;
      return;
    }
    const u32 = this.memory.u32;
    const pool = ptr & ~this.poolMask;
    const pw = pool >> 2;
    const lastfree = u32[pw + P_FREEBLOCK];
    u32[ptr >> 2] = lastfree;
    u32[pw + P_FREEBLOCK] = ptr;
    const count = u32[pw + P_COUNT] - 1;
    u32[pw + P_COUNT] = count;
    if (lastfree === 0) {
      // the pool was full: front of usedpools
      this.frontlinkPool(u32, pool, u32[pw + P_SZIDX]);
      return;
    }
    if (count !== 0) return;
    this.insertToFreepool(u32, pool);
  }

  /** insert_to_freepool: the pool became empty; arena bookkeeping as obmalloc's four cases. */
  private insertToFreepool(u32: Uint32Array, pool: number): void {
    const hw = this.hw;
    const pw = pool >> 2;
    this.unlinkPool(u32, pool, u32[pw + P_SZIDX]);
    const ref = u32[pw + P_ARENA] + 1;
    const a = this.ao(ref);
    u32[pw + P_NEXT] = u32[a + A_FREEPOOLS];
    u32[a + A_FREEPOOLS] = pool;
    let nf = u32[a + A_NFREEPOOLS];
    const lastnf = u32[this.lastaWord + nf];
    if (lastnf === ref) {
      const p = u32[a + A_PREV];
      u32[this.lastaWord + nf] = p !== 0 && u32[this.ao(p) + A_NFREEPOOLS] === nf ? p : 0;
    }
    nf++;
    u32[a + A_NFREEPOOLS] = nf;
    const next = u32[a + A_NEXT];
    const prev = u32[a + A_PREV];
    if (nf === u32[a + A_NTOTALPOOLS] && next !== 0) {
      // case 1: every pool free and not the last arena: give it back
      if (prev === 0) u32[hw + W_USABLE] = next;
      else u32[this.ao(prev) + A_NEXT] = next;
      u32[this.ao(next) + A_PREV] = prev;
      u32[a + A_NEXT] = u32[hw + W_UNUSED];
      u32[hw + W_UNUSED] = ref;
      const address = u32[a + A_ADDRESS];
      this.markArena(address, false);
      u32[a + A_ADDRESS] = 0;
      u32[hw + W_NARENAS]--;
      this.fallback.free(address);
      return;
    }
    if (nf === 1) {
      // case 2: the arena was full; it goes to the head of usable_arenas
      const head = u32[hw + W_USABLE];
      u32[a + A_NEXT] = head;
      u32[a + A_PREV] = 0;
      if (head !== 0) u32[this.ao(head) + A_PREV] = ref;
      u32[hw + W_USABLE] = ref;
      if (u32[this.lastaWord + 1] === 0) u32[this.lastaWord + 1] = ref;
      return;
    }
    if (u32[this.lastaWord + nf] === 0) u32[this.lastaWord + nf] = ref;
    if (ref === lastnf) return; // case 4: still in order
    // case 3: slide the arena right, to follow lastnf
    if (prev !== 0) u32[this.ao(prev) + A_NEXT] = next;
    else u32[hw + W_USABLE] = next;
    u32[this.ao(next) + A_PREV] = prev;
    const l = this.ao(lastnf);
    const after = u32[l + A_NEXT];
    u32[a + A_PREV] = lastnf;
    u32[a + A_NEXT] = after;
    if (after !== 0) u32[this.ao(after) + A_PREV] = ref;
    u32[l + A_NEXT] = ref;
  }

  realloc(ptr: Ptr, size: number): Ptr {
    if (!this.inArena(ptr)) return this.fallback.realloc(ptr, size);
    const u32 = this.memory.u32;
    const pool = ptr & ~this.poolMask;
    let kept = indexToSize(u32[(pool >> 2) + P_SZIDX]);
    if (size <= kept) {
      if (4 * size > 3 * kept) return ptr;
      kept = size;
    }
    const moved = this.malloc(size);
    if (moved === 0) return 0;
    this.memory.u8.copyWithin(moved, ptr, ptr + kept);
    this.free(ptr);
    return moved;
  }

  memalign(alignment: number, size: number): Ptr {
    const ptr = this.fallback.memalign(alignment, size);
    if (ptr !== 0) this.memory.u32[this.hw + W_RAW_BLOCKS]++;
    return ptr;
  }

  usableSize(ptr: Ptr): number {
    if (!this.inArena(ptr)) return this.fallback.usableSize(ptr);
    return indexToSize(this.memory.u32[((ptr & ~this.poolMask) >> 2) + P_SZIDX]);
  }

  isFreeBlock(ptr: Ptr): boolean {
    if (!this.inArena(ptr)) return this.fallback.isFreeBlock(ptr);
    const u32 = this.memory.u32;
    const pool = ptr & ~this.poolMask;
    const pw = pool >> 2;
    const arena = u32[pw + P_ARENA];
    if (arena >= u32[this.hw + W_MAXARENAS]) return false;
    const a = this.arenaWord + arena * ARENA_WORDS;
    if (pool >= u32[a + A_POOL_ADDRESS] || u32[pw + P_SZIDX] >= NB_SMALL_SIZE_CLASSES) return false;
    const size = indexToSize(u32[pw + P_SZIDX]);
    const offset = ptr - pool - POOL_OVERHEAD;
    if (offset < 0 || offset % size !== 0 || ptr >= pool + u32[pw + P_NEXTOFFSET]) return false;
    if (u32[pw + P_COUNT] === 0) return true;
    let block = u32[pw + P_FREEBLOCK];
    for (let steps = 0; block !== 0 && steps < this.poolSize / ALIGNMENT; steps++) {
      if (block === ptr) return true;
      block = u32[block >> 2];
    }
    return false;
  }

  largestFreePayload(): number {
    const fallback = this.fallback.largestFreePayload();
    return Math.max(fallback, this.hasSmallRoom() ? SMALL_REQUEST_THRESHOLD : 0);
  }

  /** True if some class could be served without a new arena. */
  private hasSmallRoom(): boolean {
    const u32 = this.memory.u32;
    if (u32[this.hw + W_USABLE] !== 0) return true;
    for (let c = 0; c < NB_SMALL_SIZE_CLASSES; c++) if (u32[this.usedWord + c] !== 0) return true;
    return false;
  }

  // ------------------------------------------------------------------ inspection

  /** Every allocated arena: [arena object word, address]. */
  private *allocatedArenas(): Generator<[number, number]> {
    const u32 = this.memory.u32;
    const maxarenas = u32[this.hw + W_MAXARENAS];
    for (let i = 0; i < maxarenas; i++) {
      const a = this.arenaWord + i * ARENA_WORDS;
      if (u32[a + A_ADDRESS] !== 0) yield [a, u32[a + A_ADDRESS]];
    }
  }

  /** The free blocks of a carved, non-empty pool, bounded so that a cycle cannot hang. */
  private freeBlocksOf(u32: Uint32Array, pool: number): Set<number> {
    const set = new Set<number>();
    let block = u32[(pool >> 2) + P_FREEBLOCK];
    const limit = this.poolSize / ALIGNMENT;
    while (block !== 0 && set.size <= limit && !set.has(block)) {
      set.add(block);
      block = u32[block >> 2];
    }
    return set;
  }

  *blocks(): IterableIterator<BlockInfo> {
    yield { offset: this.base, size: this.subBase - this.base, state: "meta", ptr: 0, payload: 0 };
    const arenas = new Map<number, number>();
    for (const [a, address] of this.allocatedArenas()) arenas.set(address, a);
    for (const block of this.fallback.blocks()) {
      const a = block.state === "used" ? arenas.get(block.ptr) : undefined;
      if (a === undefined) {
        yield block;
        continue;
      }
      const address = block.ptr;
      if (address > block.offset) {
        yield { offset: block.offset, size: address - block.offset, state: "meta", ptr: 0, payload: 0 };
      }
      yield* this.arenaBlocks(a, address);
      const end = address + this.arenaSize;
      if (block.offset + block.size > end) {
        yield { offset: end, size: block.offset + block.size - end, state: "meta", ptr: 0, payload: 0 };
      }
    }
  }

  private *arenaBlocks(a: number, address: number): Generator<BlockInfo> {
    const u32 = this.memory.u32;
    const carvedEnd = u32[a + A_POOL_ADDRESS];
    const empty = new Set<number>();
    for (let pool = u32[a + A_FREEPOOLS], n = 0; pool !== 0 && n < this.maxPools; n++) {
      empty.add(pool);
      pool = u32[(pool >> 2) + P_NEXT];
    }
    for (let pool = address; pool < carvedEnd; pool += this.poolSize) {
      const pw = pool >> 2;
      if (empty.has(pool) || u32[pw + P_SZIDX] >= NB_SMALL_SIZE_CLASSES) {
        yield { offset: pool, size: this.poolSize, state: "free", ptr: 0, payload: 0 };
        continue;
      }
      yield { offset: pool, size: POOL_OVERHEAD, state: "meta", ptr: 0, payload: 0 };
      const size = indexToSize(u32[pw + P_SZIDX]);
      const free = this.freeBlocksOf(u32, pool);
      const carved = pool + Math.min(u32[pw + P_NEXTOFFSET], this.poolSize);
      let block = pool + POOL_OVERHEAD;
      for (; block + size <= carved; block += size) {
        if (free.has(block)) yield { offset: block, size, state: "free", ptr: 0, payload: 0 };
        else yield { offset: block, size, state: "used", ptr: block, payload: size };
      }
      const usableEnd = pool + POOL_OVERHEAD + Math.floor((this.poolSize - POOL_OVERHEAD) / size) * size;
      if (usableEnd > block)
        yield { offset: block, size: usableEnd - block, state: "free", ptr: 0, payload: 0 };
      if (pool + this.poolSize > usableEnd) {
        yield {
          offset: usableEnd,
          size: pool + this.poolSize - usableEnd,
          state: "meta",
          ptr: 0,
          payload: 0,
        };
      }
    }
    const end = address + this.arenaSize;
    if (carvedEnd < end)
      yield { offset: carvedEnd, size: end - carvedEnd, state: "free", ptr: 0, payload: 0 };
  }

  /** Per-class figures and arena counters, as `_PyObject_DebugMallocStats` gathers them. */
  private census(): Census {
    const u32 = this.memory.u32;
    const numpools = new Array<number>(NB_SMALL_SIZE_CLASSES).fill(0);
    const numblocks = new Array<number>(NB_SMALL_SIZE_CLASSES).fill(0);
    const numfree = new Array<number>(NB_SMALL_SIZE_CLASSES).fill(0);
    let freePools = 0;
    for (const [a, address] of this.allocatedArenas()) {
      freePools += u32[a + A_NFREEPOOLS];
      const carvedEnd = u32[a + A_POOL_ADDRESS];
      for (let pool = address; pool < carvedEnd; pool += this.poolSize) {
        const pw = pool >> 2;
        const count = u32[pw + P_COUNT];
        if (count === 0) continue;
        const index = u32[pw + P_SZIDX];
        numpools[index]++;
        numblocks[index] += count;
        numfree[index] += Math.floor((this.poolSize - POOL_OVERHEAD) / indexToSize(index)) - count;
      }
    }
    return {
      numpools,
      numblocks,
      numfree,
      freePools,
      narenas: u32[this.hw + W_NARENAS],
      ntimes: u32[this.hw + W_NTIMES],
      highwater: u32[this.hw + W_HIGHWATER],
    };
  }

  stats(): EngineStats {
    const fb = this.fallback.stats();
    const c = this.census();
    let freeSmallBlocks = 0;
    let freeSmallBytes = 0;
    let usedPools = 0;
    let blocksInUse = 0;
    for (let i = 0; i < NB_SMALL_SIZE_CLASSES; i++) {
      freeSmallBlocks += c.numfree[i];
      freeSmallBytes += c.numfree[i] * indexToSize(i);
      usedPools += c.numpools[i];
      blocksInUse += c.numblocks[i];
    }
    const details: Record<string, number | string> = {
      smallRequestThreshold: SMALL_REQUEST_THRESHOLD,
      sizeClasses: NB_SMALL_SIZE_CLASSES,
      arenaSize: this.arenaSize,
      poolSize: this.poolSize,
      arenasAllocatedTotal: c.ntimes,
      arenasReclaimed: c.ntimes - c.narenas,
      arenasHighwater: c.highwater,
      arenasCurrent: c.narenas,
      usedPools,
      unusedPools: c.freePools,
      smallBlocksInUse: blocksInUse,
      smallBlocksAvailable: freeSmallBlocks,
      rawBlocks: this.memory.u32[this.hw + W_RAW_BLOCKS],
      fallback: this.fallback.strategy,
    };
    for (const [key, value] of Object.entries(fb.details)) details[`fallback.${key}`] = value;
    return {
      freeBlocks: fb.freeBlocks + freeSmallBlocks + c.freePools,
      freeBytes: fb.freeBytes + freeSmallBytes + c.freePools * this.poolSize,
      largestFreeBlock: Math.max(fb.largestFreeBlock, c.freePools > 0 ? this.poolSize : 0),
      details,
    };
  }

  report(): string {
    const c = this.census();
    const lines: string[] = [];
    lines.push(
      `Small block threshold = ${SMALL_REQUEST_THRESHOLD}, in ${NB_SMALL_SIZE_CLASSES} size classes.`,
    );
    lines.push("");
    lines.push("class   size   num pools   blocks in use  avail blocks");
    lines.push("-----   ----   ---------   -------------  ------------");
    let allocated = 0;
    let available = 0;
    let headers = 0;
    let quantization = 0;
    for (let i = 0; i < NB_SMALL_SIZE_CLASSES; i++) {
      const p = c.numpools[i];
      if (p === 0) continue;
      const size = indexToSize(i);
      lines.push(
        `${pad(i, 5)} ${pad(size, 6)} ${pad(p, 11)} ${pad(c.numblocks[i], 15)} ${pad(c.numfree[i], 13)}`,
      );
      allocated += c.numblocks[i] * size;
      available += c.numfree[i] * size;
      headers += p * POOL_OVERHEAD;
      quantization += p * ((this.poolSize - POOL_OVERHEAD) % size);
    }
    lines.push("");
    lines.push(printone("# arenas allocated total", c.ntimes));
    lines.push(printone("# arenas reclaimed", c.ntimes - c.narenas));
    lines.push(printone("# arenas highwater mark", c.highwater));
    lines.push(printone("# arenas allocated current", c.narenas));
    lines.push(printone(`${c.narenas} arenas * ${this.arenaSize} bytes/arena`, c.narenas * this.arenaSize));
    lines.push("");
    lines.push(printone("# bytes in allocated blocks", allocated));
    lines.push(printone("# bytes in available blocks", available));
    lines.push(printone(`${c.freePools} unused pools * ${this.poolSize} bytes`, c.freePools * this.poolSize));
    lines.push(printone("# bytes lost to pool headers", headers));
    lines.push(printone("# bytes lost to quantization", quantization));
    lines.push(printone("# bytes lost to arena alignment", 0));
    lines.push(
      printone("Total", allocated + available + c.freePools * this.poolSize + headers + quantization),
    );
    lines.push("");
    lines.push("arena map counts");
    lines.push(printone("# arena map chunks (flat leaf)", this.chunks));
    lines.push("");
    lines.push(printone("# bytes lost to arena map", this.chunks * 8));
    lines.push(printone("# bytes of arena objects", this.capacity * ARENA_WORDS * 4));
    lines.push(printone("Total", this.chunks * 8 + this.capacity * ARENA_WORDS * 4));
    lines.push("");
    lines.push(
      `fallback (${this.fallback.strategy}) for requests of 0 or > ${SMALL_REQUEST_THRESHOLD} bytes:`,
    );
    lines.push(printone("# raw blocks in use", this.memory.u32[this.hw + W_RAW_BLOCKS]));
    return `${lines.join("\n")}\n`;
  }

  check(): void {
    const u32 = this.memory.u32;
    const hw = this.hw;
    if (u32[hw + W_MAGIC] !== MAGIC)
      throw new HeapCorruptionError(this.base, "the region's magic word is overwritten");
    if (u32[hw + W_SHAPE] !== this.shapeWord() || u32[hw + W_SUB_BASE] !== this.subBase) {
      throw new HeapCorruptionError(this.base + 4, "pymalloc's shape words are damaged");
    }
    this.fallback.check();
    const maxarenas = u32[hw + W_MAXARENAS];
    if (maxarenas > this.capacity) {
      throw new HeapCorruptionError(
        (hw + W_MAXARENAS) << 2,
        `maxarenas ${maxarenas} exceeds the table's ${this.capacity}`,
      );
    }
    const arenaAt = (ref: number, where: number, what: string): number => {
      if (ref < 1 || ref > maxarenas)
        throw new HeapCorruptionError(where << 2, `${what} ${ref - 1} is not an arena object`);
      return this.ao(ref);
    };
    // unused arena objects
    const seen = new Set<number>();
    for (let ref = u32[hw + W_UNUSED]; ref !== 0; ) {
      const a = arenaAt(ref, hw + W_UNUSED, "unused_arena_objects entry");
      if (seen.has(ref)) throw new HeapCorruptionError(a << 2, "the unused arena list has a cycle");
      seen.add(ref);
      if (u32[a + A_ADDRESS] !== 0)
        throw new HeapCorruptionError(a << 2, "an unused arena object has an address");
      ref = u32[a + A_NEXT];
    }
    // allocated arenas
    let allocated = 0;
    const withFreePools = new Set<number>();
    for (let i = 0; i < maxarenas; i++) {
      const a = this.arenaWord + i * ARENA_WORDS;
      const address = u32[a + A_ADDRESS];
      if (address === 0) {
        if (!seen.has(i + 1))
          throw new HeapCorruptionError(a << 2, `arena object ${i} is neither allocated nor unused`);
        continue;
      }
      allocated++;
      this.checkArena(u32, i, a, address);
      if (u32[a + A_NFREEPOOLS] > 0) withFreePools.add(i + 1);
    }
    if (allocated !== u32[hw + W_NARENAS]) {
      throw new HeapCorruptionError(
        (hw + W_NARENAS) << 2,
        `narenas_currently_allocated is ${u32[hw + W_NARENAS]}, the table holds ${allocated}`,
      );
    }
    // usable_arenas: sorted by nfreepools, with nfp2lasta fingers
    let prev = 0;
    let prevNf = 0;
    const lasta = new Map<number, number>();
    for (let ref = u32[hw + W_USABLE]; ref !== 0; ) {
      const a = arenaAt(ref, hw + W_USABLE, "usable_arenas entry");
      if (!withFreePools.delete(ref)) {
        throw new HeapCorruptionError(
          a << 2,
          `usable_arenas holds arena ${ref - 1}, which has no free pool or is listed twice`,
        );
      }
      if (u32[a + A_PREV] !== prev)
        throw new HeapCorruptionError(a << 2, `arena ${ref - 1}'s prevarena link is wrong`);
      const nf = u32[a + A_NFREEPOOLS];
      if (nf < prevNf) {
        throw new HeapCorruptionError(
          a << 2,
          `usable_arenas is not sorted by nfreepools (${nf} after ${prevNf})`,
        );
      }
      lasta.set(nf, ref);
      prev = ref;
      prevNf = nf;
      ref = u32[a + A_NEXT];
    }
    for (const missing of withFreePools) {
      throw new HeapCorruptionError(
        this.ao(missing) << 2,
        `arena ${missing - 1} has free pools but is not in usable_arenas`,
      );
    }
    for (let nf = 0; nf <= this.maxPools; nf++) {
      if (u32[this.lastaWord + nf] !== (lasta.get(nf) ?? 0)) {
        throw new HeapCorruptionError(
          (this.lastaWord + nf) << 2,
          `nfp2lasta[${nf}] is not the last usable arena with ${nf} free pools`,
        );
      }
    }
    // usedpools
    const listed = new Set<number>();
    for (let c = 0; c < NB_SMALL_SIZE_CLASSES; c++) {
      let prevPool = 0;
      for (let pool = u32[this.usedWord + c]; pool !== 0; ) {
        if (!this.inArena(pool) || (pool & this.poolMask) !== 0 || listed.has(pool)) {
          throw new HeapCorruptionError(
            (this.usedWord + c) << 2,
            `usedpools[${c}] holds ${pool}, not a pool (or twice)`,
          );
        }
        listed.add(pool);
        const pw = pool >> 2;
        if (u32[pw + P_PREV] !== prevPool)
          throw new HeapCorruptionError(pool, "the pool's prevpool link is wrong");
        if (u32[pw + P_SZIDX] !== c)
          throw new HeapCorruptionError(pool, `pool of class ${u32[pw + P_SZIDX]} is in usedpools[${c}]`);
        if (u32[pw + P_COUNT] === 0 || u32[pw + P_FREEBLOCK] === 0) {
          throw new HeapCorruptionError(
            pool,
            `a ${u32[pw + P_COUNT] === 0 ? "empty" : "full"} pool is in usedpools[${c}]`,
          );
        }
        prevPool = pool;
        pool = u32[pw + P_NEXT];
      }
    }
    for (const [a, address] of this.allocatedArenas()) {
      const carvedEnd = u32[a + A_POOL_ADDRESS];
      for (let pool = address; pool < carvedEnd; pool += this.poolSize) {
        const pw = pool >> 2;
        const partly = u32[pw + P_COUNT] !== 0 && u32[pw + P_FREEBLOCK] !== 0;
        if (partly !== listed.has(pool)) {
          throw new HeapCorruptionError(
            pool,
            partly ? "a partly used pool is missing from usedpools" : "pool listed in usedpools wrongly",
          );
        }
      }
    }
  }

  private checkArena(u32: Uint32Array, index: number, a: number, address: number): void {
    if ((address & this.poolMask) !== 0)
      throw new HeapCorruptionError(a << 2, `arena ${index} at ${address} is not pool-aligned`);
    if (!this.inArena(address) || !this.inArena(address + this.arenaSize - 1)) {
      throw new HeapCorruptionError(a << 2, `arena ${index} at ${address} is not marked in the arena map`);
    }
    const end = address + this.arenaSize;
    const carvedEnd = u32[a + A_POOL_ADDRESS];
    if (carvedEnd < address || carvedEnd > end || (carvedEnd & this.poolMask) !== 0) {
      throw new HeapCorruptionError(
        a << 2,
        `arena ${index}'s pool_address ${carvedEnd} is outside the arena`,
      );
    }
    if (u32[a + A_NTOTALPOOLS] !== this.maxPools) {
      throw new HeapCorruptionError(
        a << 2,
        `arena ${index}'s ntotalpools is ${u32[a + A_NTOTALPOOLS]}, not ${this.maxPools}`,
      );
    }
    const empty = new Set<number>();
    for (let pool = u32[a + A_FREEPOOLS]; pool !== 0; ) {
      if (pool < address || pool >= carvedEnd || (pool & this.poolMask) !== 0 || empty.has(pool)) {
        throw new HeapCorruptionError(
          a << 2,
          `arena ${index}'s freepools list holds ${pool}, not one of its carved pools (or twice)`,
        );
      }
      empty.add(pool);
      if (u32[(pool >> 2) + P_COUNT] !== 0)
        throw new HeapCorruptionError(pool, "a pool on freepools has blocks in use");
      pool = u32[(pool >> 2) + P_NEXT];
    }
    const uncarved = (end - carvedEnd) / this.poolSize;
    if (u32[a + A_NFREEPOOLS] !== empty.size + uncarved) {
      throw new HeapCorruptionError(
        a << 2,
        `arena ${index}'s nfreepools is ${u32[a + A_NFREEPOOLS]}, but it has ${empty.size} free and ${uncarved} uncarved pools`,
      );
    }
    for (let pool = address; pool < carvedEnd; pool += this.poolSize) {
      const pw = pool >> 2;
      if (u32[pw + P_TAG] !== POOL_TAG)
        throw new HeapCorruptionError(pool, "the pool header's tag is overwritten");
      if (u32[pw + P_ARENA] !== index) {
        throw new HeapCorruptionError(
          pool,
          `pool's arenaindex is ${u32[pw + P_ARENA]}, it lies in arena ${index}`,
        );
      }
      const szidx = u32[pw + P_SZIDX];
      if (szidx === DUMMY_SIZE_IDX && empty.has(pool)) continue;
      if (szidx >= NB_SMALL_SIZE_CLASSES)
        throw new HeapCorruptionError(pool, `pool's szidx ${szidx} is not a size class`);
      const size = indexToSize(szidx);
      const nextoffset = u32[pw + P_NEXTOFFSET];
      if (
        u32[pw + P_MAXNEXTOFFSET] !== this.poolSize - size ||
        nextoffset < POOL_OVERHEAD + size ||
        (nextoffset - POOL_OVERHEAD) % size !== 0 ||
        nextoffset > this.poolSize
      ) {
        throw new HeapCorruptionError(
          pool,
          `pool's nextoffset ${nextoffset} / maxnextoffset ${u32[pw + P_MAXNEXTOFFSET]} do not fit class ${szidx}`,
        );
      }
      const carved = (nextoffset - POOL_OVERHEAD) / size;
      let free = 0;
      const visited = new Set<number>();
      for (let block = u32[pw + P_FREEBLOCK]; block !== 0; block = u32[block >> 2]) {
        if (
          block < pool + POOL_OVERHEAD ||
          block >= pool + nextoffset ||
          (block - pool - POOL_OVERHEAD) % size !== 0 ||
          visited.has(block)
        ) {
          throw new HeapCorruptionError(
            pool,
            `pool's free list holds ${block}, not a carved block of ${size} bytes (or twice)`,
          );
        }
        visited.add(block);
        free++;
      }
      if (u32[pw + P_COUNT] + free !== carved) {
        throw new HeapCorruptionError(
          pool,
          `pool's ref.count ${u32[pw + P_COUNT]} + ${free} free blocks ≠ ${carved} carved blocks`,
        );
      }
    }
  }
}

/** What the statistics report counts. */
interface Census {
  numpools: number[];
  numblocks: number[];
  numfree: number[];
  freePools: number;
  narenas: number;
  ntimes: number;
  highwater: number;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width);
}

/** obmalloc's printone(): the label padded to 35 columns, '=', the value with commas in 21. */
function printone(label: string, value: number): string {
  return `${label.padEnd(35)}=${value.toLocaleString("en-US").padStart(21)}`;
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
  if (!isPowerOfTwo(poolSize) || poolSize < 4096) {
    throw new RangeError(`pymalloc: poolSize must be a power of two of at least 4096, got ${poolSize}`);
  }
  // At least two pools: obmalloc's free path tells "the arena was full" (nfreepools becomes 1) from
  // "every pool is free" (nfreepools becomes ntotalpools), and a one-pool arena is both at once.
  if (!isPowerOfTwo(arenaSize) || arenaSize < 2 * poolSize || arenaSize / poolSize > 4096) {
    throw new RangeError(
      `pymalloc: arenaSize must be a power of two from 2 to 4096 pools (${2 * poolSize} to ${4096 * poolSize} bytes), got ${arenaSize}`,
    );
  }
  const resolved: PymallocOptions = { fallback: options.fallback, arenaSize, poolSize };
  return {
    name: "pymalloc",
    description: `CPython 3.11 obmalloc: 32 classes up to 512 B in ${poolSize / 1024} KiB pools and ${arenaSize / 1024} KiB arenas, else ${options.fallback.name}`,
    options: resolved,
    create: (region) => new PymallocEngine(region, resolved).format(),
    attach: (region) => new PymallocEngine(region, resolved).open(),
  };
}
