/**
 * Where pymalloc keeps everything in the region: its header words, the pool header, the arena
 * object, and the sizes of its tables for given options and region (drawn in ./index.ts).
 *
 * ```
 *  region  base
 *          | header words W_* | usedpools[32] | nfp2lasta[maxPools + 1] | arena objects | arena map | fallback …
 *                                                                         capacity × 8    chunks × 2
 *  pool    | P_COUNT P_FREEBLOCK P_NEXT P_PREV P_ARENA P_SZIDX P_NEXTOFFSET P_MAXNEXTOFFSET P_TAG | pad | blocks …
 *            <------------------------------ POOL_OVERHEAD = 48 bytes ------------------------------>
 *  arena object  | A_ADDRESS A_POOL_ADDRESS A_NFREEPOOLS A_NTOTALPOOLS A_FREEPOOLS A_NEXT A_PREV spare |
 * ```
 *
 * @module
 */
import { type Alignment, alignUp, type Region } from "@heapkit/contract";

/** Blocks are this many bytes apart (ALIGNMENT on 64-bit builds). */
export const ALIGNMENT = 16;
/** log2 of {@link ALIGNMENT}. */
export const ALIGNMENT_SHIFT = 4;
/** Requests above this go to the fallback. */
export const SMALL_REQUEST_THRESHOLD = 512;
/** The number of size classes: 512 / 16. */
export const NB_SMALL_SIZE_CLASSES = SMALL_REQUEST_THRESHOLD / ALIGNMENT;
/** Bytes of a pool header: sizeof(struct pool_header) rounded up to ALIGNMENT. */
export const POOL_OVERHEAD = 48;
/** arena_object vector's first size in CPython. */
export const INITIAL_ARENA_OBJECTS = 16;
/** The most arena objects the table holds, whatever the heap's limit. */
export const MAX_ARENA_OBJECTS = 4096;
/** The most pools an arena may have (nfp2lasta holds one word per count of free pools). */
export const MAX_POOLS_PER_ARENA = 4096;
/** The smallest pool the options allow. */
export const MIN_POOL_SIZE = 4096;
/** szidx of a pool carved but never used. */
export const DUMMY_SIZE_IDX = 0xffff;
/** "HKpy": the first word of a region formatted by pymalloc. */
export const MAGIC = 0x484b_7079;
/** Word 8 of every pool header ("pool"), so a damaged header shows. */
export const POOL_TAG = 0x706f_6f6c;

/** The block size of class `index`: INDEX2SIZE. */
export function indexToSize(index: number): number {
  return (index + 1) << ALIGNMENT_SHIFT;
}

/** The size class of a request of 1..512 bytes: (nbytes − 1) >> ALIGNMENT_SHIFT. */
export function sizeToIndex(nbytes: number): number {
  return (nbytes - 1) >> ALIGNMENT_SHIFT;
}

// header words (from base >> 2)
export const W_MAGIC = 0;
export const W_SHAPE = 1;
export const W_SUB_BASE = 2;
/** usable_arenas: the head of the arenas with free pools (arena index + 1, 0 = NULL). */
export const W_USABLE = 3;
/** unused_arena_objects: the head of the arena objects with no arena. */
export const W_UNUSED = 4;
export const W_MAXARENAS = 5;
/** narenas_currently_allocated. */
export const W_NARENAS = 6;
/** ntimes_arena_allocated. */
export const W_NTIMES = 7;
/** narenas_highwater. */
export const W_HIGHWATER = 8;
export const W_CAPACITY = 9;
export const W_CHUNKS = 10;
/** The last header word in use; the words up to W_USEDPOOLS are spare. */
export const W_LAST = W_CHUNKS;
export const W_USEDPOOLS = 16;
export const W_NFP2LASTA = W_USEDPOOLS + NB_SMALL_SIZE_CLASSES;

// pool header words
export const P_COUNT = 0;
export const P_FREEBLOCK = 1;
export const P_NEXT = 2;
export const P_PREV = 3;
export const P_ARENA = 4;
export const P_SZIDX = 5;
export const P_NEXTOFFSET = 6;
export const P_MAXNEXTOFFSET = 7;
export const P_TAG = 8;
/** Words of a pool header. */
export const POOL_HEADER_WORDS = P_TAG + 1;

// arena object words
export const A_ADDRESS = 0;
export const A_POOL_ADDRESS = 1;
export const A_NFREEPOOLS = 2;
export const A_NTOTALPOOLS = 3;
export const A_FREEPOOLS = 4;
export const A_NEXT = 5;
export const A_PREV = 6;
// Module-private: arenaObject runs in every pool taken and returned, and V8 reads an exported
// binding through its module cell at every use.
const ARENA_OBJECT_WORDS = 8;
/** Words of an arena object (one spare, so an object is a power of two of words). */
export const ARENA_WORDS = ARENA_OBJECT_WORDS;

/** Pymalloc's options that shape its layout. */
export interface LayoutOptions {
  /** Bytes per arena, a power of two. */
  arenaSize: number;
  /** Bytes per pool, a power of two. */
  poolSize: number;
}

/**
 * Where everything sits for one region and one set of options: numbers derived once, never changed,
 * so any number of engine objects over the same region agree.
 */
export class PymallocLayout {
  /** The region's base. */
  readonly base: number;
  /** Word index of the header. */
  readonly hw: number;
  readonly align: Alignment;
  readonly arenaSize: number;
  readonly arenaBits: number;
  /** `arenaSize − 1`. */
  readonly arenaMask: number;
  readonly poolSize: number;
  readonly poolBits: number;
  /** `poolSize − 1`. */
  readonly poolMask: number;
  /** Pools per arena. */
  readonly maxPools: number;
  /** Arena objects the table holds. */
  readonly capacity: number;
  /** Chunks of `arenaSize` bytes the arena map covers. */
  readonly chunks: number;
  /** Word index of usedpools[0]. */
  readonly usedWord: number;
  /** Word index of nfp2lasta[0]. */
  readonly lastaWord: number;
  /** Word index of arena object 0. */
  readonly arenaWord: number;
  /** Word index of the arena map. */
  readonly mapWord: number;
  /** Where the fallback's region starts: after all of pymalloc's metadata. */
  readonly subBase: number;

  constructor(region: Region, options: LayoutOptions) {
    this.base = region.base;
    this.hw = region.base >> 2;
    this.align = region.align;
    this.arenaSize = options.arenaSize;
    this.arenaBits = 31 - Math.clz32(options.arenaSize);
    this.arenaMask = options.arenaSize - 1;
    this.poolSize = options.poolSize;
    this.poolBits = 31 - Math.clz32(options.poolSize);
    this.poolMask = options.poolSize - 1;
    this.maxPools = options.arenaSize / options.poolSize;
    const span = Math.max(0, region.limit - region.base);
    let capacity = INITIAL_ARENA_OBJECTS;
    while (capacity * options.arenaSize < span && capacity < MAX_ARENA_OBJECTS) capacity *= 2;
    this.capacity = capacity;
    this.chunks = Math.ceil(region.limit / options.arenaSize) + 1;
    this.usedWord = this.hw + W_USEDPOOLS;
    this.lastaWord = this.hw + W_NFP2LASTA;
    this.arenaWord = this.lastaWord + this.maxPools + 1;
    this.mapWord = this.arenaWord + capacity * ARENA_WORDS;
    this.subBase = alignUp((this.mapWord + this.chunks * 2) << 2, 16);
  }

  /** The word that tells a region formatted with these options: align, log2 arena and pool sizes. */
  shapeWord(): number {
    return this.align | (this.arenaBits << 8) | (this.poolBits << 16);
  }

  /** Word index of arena object `ref − 1` (`ref` is index + 1, as the arena lists hold them). */
  arenaObject(ref: number): number {
    return this.arenaWord + (ref - 1) * ARENA_OBJECT_WORDS;
  }

  /** Blocks of class `index` a pool holds. */
  blocksPerPool(index: number): number {
    return Math.floor((this.poolSize - POOL_OVERHEAD) / indexToSize(index));
  }
}
