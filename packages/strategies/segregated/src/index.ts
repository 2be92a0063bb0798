/**
 * `@heapkit/strategy-segregated` — segregated free lists: one list per size class, an exact class
 * for every block size below 1 KiB and eight classes per power of two above, with boundary-tag
 * coalescing and a good fit (a few blocks examined) inside a class.
 *
 * ```
 *  metadata (after the 16-byte engine header of @heapkit/boundary-tags; the bins of size-bins.ts):
 *  +-------------------+---------------------------------------------+
 *  | bitmap: 10 words  | heads: 320 words (block offset, 0 = empty)  |
 *  +-------------------+---------------------------------------------+
 *
 *  class  2   3   4   … 127  | 128          129          …  135          136          …
 *  size   16  24  32  … 1016 | [1024,1152)  [1152,1280)  …  [1920,2048)  [2048,2304)  …
 *         exact: 8 bytes apart | ranges: 8 classes per power of two, each 1/8 of it wide
 *
 *  bitmap bit c <=> heads[c] is non-empty
 *
 *  malloc(n), block size s:
 *    exact class of s non-empty   -> its first block (an exact fit)
 *    range class of s non-empty   -> the smallest fitting block among its first `scan` (4) blocks
 *    otherwise (or none fits)     -> the next non-empty class (bitmap, Math.clz32): every block there
 *                                    fits; its first block if exact, else the smallest of its first `scan`
 * ```
 *
 * How it differs from its neighbours, which share the same blocks:
 * - TLSF (`@heapkit/strategy-tlsf`) rounds every request up to the next class boundary and takes
 *   the head of the first non-empty class from there: never a scan, so O(1) for every size, but a
 *   block of the request's own class is used only when it is the head (TLSF's probe). Its classes
 *   are linear (8 bytes apart) only below 256 bytes, then 32 per power of two, under a two-level
 *   bitmap.
 * - Segregated fits keeps one list per exact size up to 1 KiB — the sizes small objects have, each
 *   served by an exact fit in O(1) — and above that looks at a few blocks of the request's own class
 *   for the smallest that fits before moving up (a one-level bitmap of 320 classes).
 * - Best fit (`@heapkit/strategy-best-fit`) uses the same classes but scans a whole range class:
 *   closest fit, unbounded time. Here the scan stops after `scan` blocks.
 *
 * Splitting, immediate coalescing, growth, in-place realloc and memalign are the shared
 * boundary-tag mechanism (`@heapkit/boundary-tags`, drawn in its layout.ts).
 *
 * Invariants (checked by `check()`, besides the mechanism's):
 * 1. Every free block is in the list of its own size's class, exactly once.
 * 2. Bitmap bit c is set exactly when list c is non-empty.
 *
 * @packageDocumentation
 */
import {
  BIN_COUNT,
  BITMAP_WORDS,
  BoundaryTagEngine,
  binFloor,
  binOf,
  EXACT_LIMIT,
  listBlocks,
  policyId,
  NEXT as SHARED_NEXT,
  PREV as SHARED_PREV,
  SIZE_MASK as SHARED_SIZE_MASK,
  maskOfBit as sharedMaskOfBit,
  nextMarkedBin as sharedNextMarkedBin,
  wordOfBit as sharedWordOfBit,
  sizeOfHeader,
} from "@heapkit/boundary-tags";
import { HeapCorruptionError, type Region, type Strategy } from "@heapkit/contract";

// Module-private copies of what the hot path reads from @heapkit/boundary-tags: V8 reads an
// imported binding through its module cell at every use.
const SIZE_MASK = SHARED_SIZE_MASK;
const NEXT = SHARED_NEXT;
const PREV = SHARED_PREV;
const maskOfBit = sharedMaskOfBit;
const wordOfBit = sharedWordOfBit;
const nextMarkedBin = sharedNextMarkedBin;

/** Options of {@link segregated}. */
export interface SegregatedOptions {
  /** Blocks examined in a range class for the smallest that fits (default 4; 1 = first fit in the class). */
  scan: number;
}

/** Block sizes below this have an exact class (one per 8 bytes). */
export const EXACT_CLASS_LIMIT = EXACT_LIMIT;
/** The number of size classes (a multiple of 32; blocks stay below 2^31, so the last one used is 295). */
export const CLASS_COUNT = BIN_COUNT;
/** The size class of a block of `size` bytes (a multiple of 8, at least 16). */
export const sizeClassOf: (size: number) => number = binOf;
/** The smallest block size of class `sizeClass`. */
export const classFloor: (sizeClass: number) => number = binFloor;

const EXACT_CLASSES = EXACT_LIMIT >>> 3;

class SegregatedEngine extends BoundaryTagEngine {
  readonly strategy = "segregated";
  private readonly scan: number;
  /** Word index of bitmap word 0. */
  private readonly bitmapWord: number;
  /** Word index of heads[0]. */
  private readonly headWord: number;
  protected readonly listHeads: number;
  protected readonly listCount = BIN_COUNT;

  constructor(region: Region, scan: number) {
    super(region, (BITMAP_WORDS + BIN_COUNT) * 4, policyId("segregated", scan));
    this.scan = scan;
    this.bitmapWord = this.meta >> 2;
    this.headWord = this.bitmapWord + BITMAP_WORDS;
    this.listHeads = this.headWord << 2;
  }

  // The list operations are free-list.ts's pushFront/unlink written out, on purpose: here the class
  // (and its bitmap bit) is worked out only when the block heads its list, which the shared helpers
  // cannot do. Compare on workload W: `npx -y pnpm@12.4.2 bench --impl segregated --workload W`.
  protected insertFree(u32: Uint32Array, block: number, size: number): void {
    const sizeClass = binOf(size);
    const head = this.headWord + sizeClass;
    const first = u32[head];
    u32[(block + NEXT) >> 2] = first;
    u32[(block + PREV) >> 2] = 0;
    if (first !== 0) u32[(first + PREV) >> 2] = block;
    else u32[this.bitmapWord + wordOfBit(sizeClass)] |= maskOfBit(sizeClass);
    u32[head] = block;
  }

  protected removeFree(u32: Uint32Array, block: number, size: number): void {
    const next = u32[(block + NEXT) >> 2];
    const prev = u32[(block + PREV) >> 2];
    if (next !== 0) u32[(next + PREV) >> 2] = prev;
    if (prev !== 0) {
      u32[(prev + NEXT) >> 2] = next;
      return;
    }
    this.headTaken(u32, binOf(size), next);
  }

  /** The head of class `sizeClass` left its list, `next` heads it now: clear its bit if it is empty. */
  private headTaken(u32: Uint32Array, sizeClass: number, next: number): void {
    u32[this.headWord + sizeClass] = next;
    if (next === 0) u32[this.bitmapWord + wordOfBit(sizeClass)] &= ~maskOfBit(sizeClass);
  }

  // removeFree's unlink again, with the class in hand from the search; an exact class gives its
  // head, whose prev link is 0 and is not read.
  protected takeFree(u32: Uint32Array, size: number): number {
    let sizeClass = binOf(size);
    let block = u32[this.headWord + sizeClass];
    if (block !== 0 && sizeClass >= EXACT_CLASSES) block = this.goodFit(u32, block, size);
    if (block === 0) {
      // the next non-empty class above: any of its blocks fits
      sizeClass = nextMarkedBin(u32, this.bitmapWord << 2, sizeClass + 1);
      if (sizeClass < 0) return 0;
      block = u32[this.headWord + sizeClass];
      // in a range class, the smallest of the first `scan` splits least
      if (sizeClass >= EXACT_CLASSES) block = this.goodFit(u32, block, size);
    }
    const next = u32[(block + NEXT) >> 2];
    const prev = sizeClass < EXACT_CLASSES ? 0 : u32[(block + PREV) >> 2];
    if (next !== 0) u32[(next + PREV) >> 2] = prev;
    if (prev !== 0) u32[(prev + NEXT) >> 2] = next;
    else this.headTaken(u32, sizeClass, next);
    return block;
  }

  /** The smallest block of at least `size` bytes among the first `scan` blocks of a list, or 0. */
  private goodFit(u32: Uint32Array, first: number, size: number): number {
    let best = 0;
    let bestSize = 0x7fffffff;
    let block = first;
    for (let seen = 0; block !== 0 && seen < this.scan; seen++) {
      const blockSize = u32[block >> 2] & SIZE_MASK;
      if (blockSize >= size && blockSize < bestSize) {
        if (blockSize === size) return block;
        best = block;
        bestSize = blockSize;
      }
      block = u32[(block + NEXT) >> 2];
    }
    return best;
  }

  protected override indexDetails(): Record<string, number | string> {
    const u32 = this.memory.u32;
    let nonEmptyClasses = 0;
    for (let c = 0; c < BIN_COUNT; c++) if (u32[this.headWord + c] !== 0) nonEmptyClasses++;
    return { classes: BIN_COUNT, exactClassLimit: EXACT_LIMIT, nonEmptyClasses, scan: this.scan };
  }

  protected override checkIndex(): void {
    const u32 = this.memory.u32;
    for (let c = 0; c < BIN_COUNT; c++) {
      const head = (this.headWord + c) << 2;
      const marked = (u32[this.bitmapWord + wordOfBit(c)] & maskOfBit(c)) !== 0;
      if ((u32[head >> 2] !== 0) !== marked) {
        throw new HeapCorruptionError(head, `bitmap bit of size class ${c} disagrees with its list`);
      }
      for (const block of listBlocks(u32, head, this.region.brk >> 4)) {
        if (binOf(sizeOfHeader(u32[block >> 2])) !== c)
          throw new HeapCorruptionError(block, `free block filed in the wrong size class ${c}`);
      }
    }
  }
}

/** Segregated fits: exact classes below 1 KiB, eight classes per power of two above, good fit within a class. */
export function segregated(options: Partial<SegregatedOptions> = {}): Strategy<SegregatedOptions> {
  const scan = options.scan ?? 4;
  if (!Number.isInteger(scan) || scan < 1 || scan > 255) {
    throw new RangeError(`segregated: scan must be an integer from 1 to 255, got ${scan}`);
  }
  return {
    name: "segregated",
    description:
      "segregated free lists: exact classes below 1 KiB, 8 per power of two above, good fit in a class",
    options: { scan },
    create: (region) => new SegregatedEngine(region, scan).format(),
    attach: (region) => new SegregatedEngine(region, scan).open(),
  };
}
