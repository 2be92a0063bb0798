/**
 * `@heapkit/strategy-best-fit` — best fit: the smallest free block that is big enough, found
 * through size bins instead of a scan of every free block.
 *
 * ```
 *  metadata: [ bitmap: 10 words | heads: 320 words ]      (bins from @heapkit/boundary-tags)
 *
 *  bin 2 (16 B)  -> blk -> blk        exact bins: every block has the bin's size,
 *  bin 3 (24 B)  -> blk                so the first one is a best fit
 *  …
 *  bin 128 (1024–1151 B) -> 1100 -> 1040 -> 1144     range bins: the bin is scanned for the
 *  …                                                 smallest block that fits
 *
 *  search: bin of the request; if nothing there fits, the next non-empty bin from the bitmap,
 *  whose smallest block is the best fit (every block there is larger than any in lower bins).
 * ```
 *
 * Best fit wastes the least space on real programs (with address-ordered first fit; Johnstone &
 * Wilson, ISMM 1998). Cost: O(1) for small sizes, O(blocks in one range bin) above 1 KiB.
 *
 * @packageDocumentation
 */
import {
  BIN_COUNT,
  BITMAP_WORDS,
  BoundaryTagEngine,
  isBinMarked,
  listBlocks,
  policyId,
  NEXT as SHARED_NEXT,
  SIZE_MASK as SHARED_SIZE_MASK,
  binOf as sharedBinOf,
  isExactBin as sharedIsExactBin,
  markBin as sharedMarkBin,
  nextMarkedBin as sharedNextMarkedBin,
  pushFront as sharedPushFront,
  unlink as sharedUnlink,
  unmarkBin as sharedUnmarkBin,
  sizeOfHeader,
} from "@heapkit/boundary-tags";
import { HeapCorruptionError, type Region, type Strategy } from "@heapkit/contract";

// Module-private copies of what the hot path reads from @heapkit/boundary-tags: V8 reads an
// imported binding through its module cell at every use.
const SIZE_MASK = SHARED_SIZE_MASK;
const NEXT = SHARED_NEXT;
const binOf = sharedBinOf;
const isExactBin = sharedIsExactBin;
const markBin = sharedMarkBin;
const nextMarkedBin = sharedNextMarkedBin;
const pushFront = sharedPushFront;
const unlink = sharedUnlink;
const unmarkBin = sharedUnmarkBin;

const BITMAP_BYTES = BITMAP_WORDS * 4;

class BestFitEngine extends BoundaryTagEngine {
  readonly strategy = "best-fit";
  private readonly heads: number;
  protected readonly listHeads: number;
  protected readonly listCount = BIN_COUNT;

  constructor(region: Region) {
    super(region, BITMAP_BYTES + BIN_COUNT * 4, policyId("best-fit"));
    this.heads = this.meta + BITMAP_BYTES;
    this.listHeads = this.heads;
  }

  protected insertFree(u32: Uint32Array, block: number, size: number): void {
    const bin = binOf(size);
    if (pushFront(u32, this.heads + (bin << 2), block)) markBin(u32, this.meta, bin);
  }

  protected removeFree(u32: Uint32Array, block: number, size: number): void {
    const bin = binOf(size);
    if (unlink(u32, this.heads + (bin << 2), block)) unmarkBin(u32, this.meta, bin);
  }

  protected takeFree(u32: Uint32Array, size: number): number {
    let bin = binOf(size);
    // an exact bin's head is a best fit; a range bin is scanned for one
    let block = isExactBin(bin) ? u32[(this.heads + (bin << 2)) >> 2] : this.smallestFitting(u32, bin, size);
    if (block === 0) {
      // nothing in the request's own bin fits: every block of the next non-empty bin does
      bin = nextMarkedBin(u32, this.meta, bin + 1);
      if (bin < 0) return 0;
      block = isExactBin(bin) ? u32[(this.heads + (bin << 2)) >> 2] : this.smallestFitting(u32, bin, size);
    }
    if (unlink(u32, this.heads + (bin << 2), block)) unmarkBin(u32, this.meta, bin);
    return block;
  }

  /** The smallest block of at least `size` bytes in a range bin, stopping early at an exact fit. */
  private smallestFitting(u32: Uint32Array, bin: number, size: number): number {
    let best = 0;
    let bestSize = 0x7fffffff;
    let block = u32[(this.heads + (bin << 2)) >> 2];
    while (block !== 0) {
      const blockSize = u32[block >> 2] & SIZE_MASK;
      if (blockSize >= size && blockSize < bestSize) {
        best = block;
        bestSize = blockSize;
        if (blockSize === size) break;
      }
      block = u32[(block + NEXT) >> 2];
    }
    return best;
  }

  protected override indexDetails(): Record<string, number | string> {
    const u32 = this.memory.u32;
    let nonEmptyBins = 0;
    for (let bin = 0; bin < BIN_COUNT; bin++) if (isBinMarked(u32, this.meta, bin)) nonEmptyBins++;
    return { bins: BIN_COUNT, nonEmptyBins };
  }

  protected override checkIndex(): void {
    const u32 = this.memory.u32;
    for (let bin = 0; bin < BIN_COUNT; bin++) {
      const head = this.heads + (bin << 2);
      if ((u32[head >> 2] !== 0) !== isBinMarked(u32, this.meta, bin)) {
        throw new HeapCorruptionError(head, `bitmap bit of bin ${bin} disagrees with its list`);
      }
      for (const block of listBlocks(u32, head, this.region.brk >> 4)) {
        if (binOf(sizeOfHeader(u32[block >> 2])) !== bin)
          throw new HeapCorruptionError(block, `free block filed in the wrong bin ${bin}`);
      }
    }
  }
}

/** Best fit over size bins with a bitmap of non-empty bins. */
export function bestFit(): Strategy<Record<string, never>> {
  return {
    name: "best-fit",
    description: "best fit: the smallest free block that fits, found through size bins and a bitmap",
    options: {},
    create: (region) => new BestFitEngine(region).format(),
    attach: (region) => new BestFitEngine(region).open(),
  };
}
