/**
 * `@heapkit/strategy-tlsf` — Two-Level Segregated Fit (Masmano, Ripoll, Crespo, Real; ECRTS 2004):
 * malloc and free in O(1) whatever the number of live blocks, with immediate coalescing.
 *
 * ```
 *  metadata (after the 16-byte engine header of @heapkit/boundary-tags):
 *  +---------+-------------------+--------------------------------------------+
 *  | FL map  | SL maps: FL words | heads: FL × SL words (block offset, 0=empty)|
 *  +---------+-------------------+--------------------------------------------+
 *
 *  block size s (bytes, a multiple of 8, header included)
 *    s < SMALL = SL·8:   fl = 0,                         sl = s / 8           (linear classes)
 *    s ≥ SMALL:          fl = ⌊log2 s⌋ − log2(SMALL) + 1, sl = the next log2(SL) bits below the top bit
 *
 *        fl 0     fl 1            fl 2            …   (SL = 32: SMALL = 256)
 *     [0,256)  [256,512)      [512,1024)
 *     32 × 8   32 × 8 B       32 × 16 B           each fl range is cut into SL equal classes
 *
 *  FL map bit f       <=> SL map of f is non-zero
 *  SL map[f] bit s    <=> heads[f][s] is non-empty
 *
 *  malloc(n): round n's block size up to the next class boundary (so that every block of the
 *  class found fits), then:   SL map[f] & (~0 << s)  -> a class at or above s in the same fl,
 *                       else  FL map & (~0 << (f+1)) -> the first fl above, its lowest class.
 *  Both are one Math.clz32 each: no loop depends on the number of blocks.
 * ```
 *
 * Blocks, headers, footers, splitting, coalescing, growth and memalign are the shared boundary-tag
 * mechanism (`@heapkit/boundary-tags`, drawn in its layout.ts): a 4-byte header per used block.
 *
 * Invariants (checked by `check()`, besides the mechanism's):
 * 1. Every free block is in exactly the list `heads[fl][sl]` of its own size's mapping.
 * 2. SL map bit (f, s) is set exactly when `heads[f][s]` is non-empty.
 * 3. FL map bit f is set exactly when SL map[f] is non-zero.
 *
 * One refinement over the textbook (option `probe`, default on): before rounding up, the head of
 * the request's own class is tried. It is one more read, still O(1), and it takes blocks that
 * rounding up would otherwise skip, which lifts utilization on real traces. (Below SMALL the classes
 * are exact, nothing is rounded and nothing is probed: the search starts at the own class.)
 *
 * @packageDocumentation
 */
import {
  BoundaryTagEngine,
  listBlocks,
  policyId,
  NEXT as SHARED_NEXT,
  PREV as SHARED_PREV,
  SIZE_MASK as SHARED_SIZE_MASK,
  maskOfBit as sharedMaskOfBit,
  sizeOfHeader,
} from "@heapkit/boundary-tags";
import { HeapCorruptionError, type Region, type Strategy } from "@heapkit/contract";

// Module-private copies of what the hot path reads from @heapkit/boundary-tags: V8 reads an
// imported binding through its module cell at every use.
const SIZE_MASK = SHARED_SIZE_MASK;
const NEXT = SHARED_NEXT;
const PREV = SHARED_PREV;
const maskOfBit = sharedMaskOfBit;

/** Options of {@link tlsf}. */
export interface TlsfOptions {
  /** Second-level subdivisions per power of two: 2, 4, 8, 16 or 32 (default 32). */
  secondLevel: 2 | 4 | 8 | 16 | 32;
  /** Try the head of the request's own class before rounding up (default true). */
  probe: boolean;
}

// The mapping's constants are module-private: V8 reads an exported binding through its module cell
// at every use, and mappingInsert runs in every malloc and free; through exported bindings, pairs of
// malloc(64) and free lost about a fifth of their throughput (CPU time of alternated fresh
// processes). The exported names below hold the same values, for tests and callers.
const GRANULE_BITS = 3;
const FIRST_LEVELS = 32;
const SL_FIELD_BITS = 5;

/** log2 of the size granularity of the linear classes (8 bytes). */
export const GRANULE_LOG = GRANULE_BITS;
/** First-level classes: block sizes stay below 2^31, so 32 covers every size with any SL count. */
export const FL_COUNT = FIRST_LEVELS;
/** Bits of a packed class (`fl << SL_BITS | sl`) that hold sl: enough for {@link SL_COUNT_MAX} classes. */
export const SL_BITS = SL_FIELD_BITS;
/** The most second-level classes per first level: one SL bitmap word. */
export const SL_COUNT_MAX = 1 << SL_FIELD_BITS;
/** Bytes of TLSF's metadata with `slCount` second-level classes: FL map, SL maps, list heads. */
export function metadataBytes(slCount: number): number {
  return 4 + FIRST_LEVELS * 4 + FIRST_LEVELS * slCount * 4;
}

/** The first-level index of a packed class. */
export function flOf(mapping: number): number {
  return mapping >>> SL_FIELD_BITS;
}

/** The second-level index of a packed class. */
export function slOf(mapping: number): number {
  return mapping & ((1 << SL_FIELD_BITS) - 1);
}

/** A packed class from its first-level and second-level indices. */
export function packClass(fl: number, sl: number): number {
  return (fl << SL_FIELD_BITS) | sl;
}

/**
 * The paper's `mapping_insert`: the class (fl, sl) a free block of `size` bytes is filed in,
 * packed as {@link packClass} does. `slLog` is log2 of the second-level count.
 */
export function mappingInsert(size: number, slLog: number): number {
  const smallShift = slLog + GRANULE_BITS;
  if (size < 1 << smallShift) return size >>> GRANULE_BITS;
  const log = 31 - Math.clz32(size);
  const sl = (size >>> (log - slLog)) ^ (1 << slLog);
  return packClass(log - smallShift + 1, sl);
}

/**
 * The size a request of `size` bytes is rounded up to before the search (the first half of the
 * paper's `mapping_search`), so that every block of the class it maps to fits. Beyond 2^31 it
 * wraps to 0 or below: nothing can fit.
 */
export function roundUpToClass(size: number, slLog: number): number {
  if (size < 1 << (slLog + GRANULE_BITS)) return size;
  const log = 31 - Math.clz32(size);
  const round = (1 << (log - slLog)) - 1;
  return (size + round) & ~round;
}

/**
 * The paper's `mapping_search`: the class where the search for a block of `size` bytes starts
 * (every block there and above fits), or -1 when no block can be that big.
 */
export function mappingSearch(size: number, slLog: number): number {
  const rounded = roundUpToClass(size, slLog);
  return rounded <= 0 ? -1 : mappingInsert(rounded, slLog);
}

/** log2 of the size step between the classes of a block of `size` bytes: the bits below sl. */
function classShift(size: number, slLog: number): number {
  const shift = 31 - Math.clz32(size) - slLog;
  // biome-ignore lint/complexity/useMathMinMax: a plain compare on small integers; with Math.max here (and in the engine's blockSize) tlsf alone on W, without the heap, ran 3-4 % slower over 12 alternated processes
  return shift > GRANULE_BITS ? shift : GRANULE_BITS;
}

/**
 * The class of a free block of `size` bytes as one number, `fl · SL + sl`: the index of its list
 * head, {@link mappingInsert}'s class without the unpacking. `size >>> shift` is sl with the top bit
 * of the size above it (worth one first level), so one add gives the index for every first level,
 * the linear fl 0 included (its shift is 3). The class above is the index plus one: sl's carry moves
 * to the next first level, which is what a search needs.
 */
export function classIndex(size: number, slLog: number): number {
  const shift = classShift(size, slLog);
  return (size >>> shift) + ((shift - GRANULE_BITS) << slLog);
}

/** The smallest block size of class (fl, sl). */
export function classFloor(fl: number, sl: number, slLog: number): number {
  if (fl === 0) return sl << GRANULE_BITS;
  const log = fl + slLog + GRANULE_BITS - 1;
  return (1 << log) + (sl << (log - slLog));
}

class TlsfEngine extends BoundaryTagEngine {
  readonly strategy = "tlsf";
  private readonly slLog: number;
  private readonly slCount: number;
  private readonly probe: boolean;
  /** Word index of the FL map. */
  private readonly flWord: number;
  /** Word index of SL map 0. */
  private readonly slWord: number;
  /** Word index of heads[0][0]. */
  private readonly headWord: number;
  protected readonly listHeads: number;
  protected readonly listCount: number;

  constructor(region: Region, slLog: number, probe: boolean) {
    const slCount = 1 << slLog;
    super(region, metadataBytes(slCount), policyId("tlsf", (slLog << 1) | (probe ? 1 : 0)));
    this.slLog = slLog;
    this.slCount = slCount;
    this.probe = probe;
    this.flWord = this.meta >> 2;
    this.slWord = this.flWord + 1;
    this.headWord = this.slWord + FIRST_LEVELS;
    this.listHeads = this.headWord << 2;
    this.listCount = FIRST_LEVELS * slCount;
  }

  /** Word index of the list head of class (fl, sl). */
  private headOf(fl: number, sl: number): number {
    return this.headWord + (fl << this.slLog) + sl;
  }

  // The list operations are free-list.ts's pushFront/unlink written out, on purpose: they index the
  // head by class index and update both bitmaps in the same branch, which the shared helpers cannot
  // do. The hot path works with classIndex (fl · SL + sl) throughout and splits it into fl and sl
  // only where a bitmap needs them: small functions with few buffer reads, which V8 inlines into
  // the heap's malloc and free. Compare on workload W: `npx -y pnpm@12.4.2 bench --impl tlsf --workload W`.
  protected insertFree(u32: Uint32Array, block: number, size: number): void {
    const index = classIndex(size, this.slLog);
    const head = this.headWord + index;
    const first = u32[head];
    u32[(block + NEXT) >> 2] = first;
    u32[(block + PREV) >> 2] = 0;
    u32[head] = block;
    if (first !== 0) u32[(first + PREV) >> 2] = block;
    else this.classFilled(u32, index);
  }

  protected removeFree(u32: Uint32Array, block: number, size: number): void {
    const next = u32[(block + NEXT) >> 2];
    const prev = u32[(block + PREV) >> 2];
    if (next !== 0) u32[(next + PREV) >> 2] = prev;
    if (prev !== 0) {
      u32[(prev + NEXT) >> 2] = next;
      return;
    }
    // the block heads its list: only now is its class needed
    const index = classIndex(size, this.slLog);
    u32[this.headWord + index] = next;
    if (next === 0) this.classEmptied(u32, index);
  }

  /**
   * The paper's `mapping_search` and `search_suitable_block`, then the found head's unlink. A size
   * between two class floors may not fit every block of its own class: the head is probed
   * (option `probe`), else the search starts one class up (the size rounded up to the next floor).
   */
  protected takeFree(u32: Uint32Array, size: number): number {
    const slLog = this.slLog;
    const shift = classShift(size, slLog);
    let index = (size >>> shift) + ((shift - GRANULE_BITS) << slLog);
    let block = u32[this.headWord + index];
    if (
      (size & ((1 << shift) - 1)) !== 0 &&
      (block === 0 || !this.probe || (u32[block >> 2] & SIZE_MASK) < size)
    ) {
      block = 0;
      index++;
    }
    if (block === 0) {
      index = this.nextClass(u32, index);
      if (index < 0) return 0;
      block = u32[this.headWord + index];
    }
    const next = u32[(block + NEXT) >> 2];
    u32[this.headWord + index] = next;
    if (next !== 0) u32[(next + PREV) >> 2] = 0;
    else this.classEmptied(u32, index);
    return block;
  }

  /** The first non-empty class at or above class index `index` (two bitmap look-ups), or -1. */
  private nextClass(u32: Uint32Array, index: number): number {
    const slLog = this.slLog;
    let fl = index >>> slLog;
    let slMap = u32[this.slWord + fl] & (-1 << (index - (fl << slLog)));
    if (slMap === 0) {
      // the first levels above fl (a shift count is taken mod 32: fl 31 leaves none)
      const flMap = u32[this.flWord] & (-2 << fl);
      if (flMap === 0) return -1;
      fl = 31 - Math.clz32(flMap & -flMap);
      slMap = u32[this.slWord + fl];
    }
    return (fl << slLog) + 31 - Math.clz32(slMap & -slMap);
  }

  /** Class `index`'s list was empty and is not: set its SL bit and its FL bit. */
  private classFilled(u32: Uint32Array, index: number): void {
    const fl = index >>> this.slLog;
    u32[this.flWord] |= 1 << fl;
    u32[this.slWord + fl] |= 1 << (index - (fl << this.slLog));
  }

  /** Class `index`'s list became empty: clear its SL bit, and its FL bit when the SL map empties. */
  private classEmptied(u32: Uint32Array, index: number): void {
    const fl = index >>> this.slLog;
    const slMap = u32[this.slWord + fl] & ~(1 << (index - (fl << this.slLog)));
    u32[this.slWord + fl] = slMap;
    if (slMap === 0) u32[this.flWord] &= ~(1 << fl);
  }

  protected override indexDetails(): Record<string, number | string> {
    const u32 = this.memory.u32;
    let nonEmptyClasses = 0;
    for (let fl = 0; fl < FIRST_LEVELS; fl++) {
      let bits = u32[this.slWord + fl];
      while (bits !== 0) {
        bits &= bits - 1;
        nonEmptyClasses++;
      }
    }
    return {
      firstLevel: FIRST_LEVELS,
      secondLevel: this.slCount,
      flBitmap: `0x${u32[this.flWord].toString(16).padStart(8, "0")}`,
      nonEmptyClasses,
    };
  }

  /** Invariants 2 and 3 (the bitmaps against the lists), then 1 for each list. */
  protected override checkIndex(): void {
    const u32 = this.memory.u32;
    const flMap = u32[this.flWord];
    for (let fl = 0; fl < FIRST_LEVELS; fl++) {
      const slMap = u32[this.slWord + fl];
      if (((flMap & maskOfBit(fl)) !== 0) !== (slMap !== 0)) {
        throw new HeapCorruptionError(
          this.flWord << 2,
          `FL bitmap bit ${fl} is ${(flMap >>> fl) & 1} but SL bitmap ${fl} is 0x${slMap.toString(16)}`,
        );
      }
      if (this.slCount < 1 << SL_FIELD_BITS && slMap >>> this.slCount !== 0) {
        throw new HeapCorruptionError(
          (this.slWord + fl) << 2,
          `SL bitmap ${fl} has bits above class ${this.slCount - 1}`,
        );
      }
      for (let sl = 0; sl < this.slCount; sl++)
        this.checkClassList(u32, fl, sl, (slMap & maskOfBit(sl)) !== 0);
    }
  }

  /** Invariants 1 and 2 for class (fl, sl): its bitmap bit matches its list, whose blocks all map to it. */
  private checkClassList(u32: Uint32Array, fl: number, sl: number, marked: boolean): void {
    const head = this.headOf(fl, sl) << 2;
    if ((u32[head >> 2] !== 0) !== marked) {
      throw new HeapCorruptionError(head, `SL bitmap bit (${fl}, ${sl}) disagrees with its list`);
    }
    for (const block of listBlocks(u32, head, this.region.brk >> 4)) {
      if (mappingInsert(sizeOfHeader(u32[block >> 2]), this.slLog) !== packClass(fl, sl)) {
        throw new HeapCorruptionError(
          block,
          `free block filed in class (${fl}, ${sl}), its size maps elsewhere`,
        );
      }
    }
  }
}

/** TLSF: two-level segregated fit with `Math.clz32` bitmap look-ups, O(1) malloc and free. */
export function tlsf(options: Partial<TlsfOptions> = {}): Strategy<TlsfOptions> {
  const secondLevel = options.secondLevel ?? 32;
  const probe = options.probe ?? true;
  const slLog = [2, 4, 8, 16, 32].indexOf(secondLevel) + 1;
  if (slLog === 0) throw new RangeError(`tlsf: secondLevel must be 2, 4, 8, 16 or 32, got ${secondLevel}`);
  return {
    name: "tlsf",
    description: `two-level segregated fit: ${secondLevel} classes per power of two, bitmaps, O(1) malloc and free`,
    options: { secondLevel, probe },
    create: (region) => new TlsfEngine(region, slLog, probe).format(),
    attach: (region) => new TlsfEngine(region, slLog, probe).open(),
  };
}
