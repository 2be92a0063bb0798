/**
 * `@heapkit/strategy-next-fit` — next fit (Knuth): first fit that starts each search where the
 * last one stopped, wrapping around, over an address-ordered free list.
 *
 * ```
 *  metadata: [ head | rover ]
 *
 *  head -> 0x040 -> 0x1a8 -> 0x7f0 -> 0x9c8 -> 0
 *                             ^ rover: the next search starts here, runs to the end,
 *                               then wraps to head and stops back at the rover
 * ```
 *
 * Spreading allocations around the heap avoids re-scanning the small splinters that collect at
 * its start, but it mixes objects of different lifetimes, so it fragments more than first fit on
 * real programs (Wilson et al., 1995). Cost: O(free blocks) per search in the worst case.
 *
 * @packageDocumentation
 */
import { BoundaryTagEngine, insertByAddress, NEXT, unlink } from "@heapkit/boundary-tags";
import { HeapCorruptionError, type Region, type Strategy } from "@heapkit/contract";

const POLICY_NEXT_FIT = 0x0201;

class NextFitEngine extends BoundaryTagEngine {
  readonly strategy = "next-fit";

  /** The one free list's head is the metadata's first word. */
  protected readonly listHeads: number;
  protected readonly listCount = 1;

  constructor(region: Region) {
    super(region, 8, POLICY_NEXT_FIT);
    this.listHeads = this.meta;
  }

  private get roverWord(): number {
    return (this.meta + 4) >> 2;
  }

  protected insertFree(u32: Uint32Array, block: number): void {
    insertByAddress(u32, this.meta, block);
    // a block that lands just before the rover (a split remainder, a merge) is where the search resumes
    if (u32[(block + NEXT) >> 2] === u32[this.roverWord]) u32[this.roverWord] = block;
  }

  protected removeFree(u32: Uint32Array, block: number): void {
    if (u32[this.roverWord] === block) u32[this.roverWord] = u32[(block + NEXT) >> 2];
    unlink(u32, this.meta, block);
  }

  protected findFree(u32: Uint32Array, size: number): number {
    const rover = u32[this.roverWord];
    let block = rover !== 0 ? rover : u32[this.meta >> 2];
    while (block !== 0 && (u32[block >> 2] & ~7) < size) block = u32[(block + NEXT) >> 2];
    if (block === 0) {
      // wrap around: from the head up to where this search started
      block = u32[this.meta >> 2];
      while (block !== 0 && block !== rover && (u32[block >> 2] & ~7) < size)
        block = u32[(block + NEXT) >> 2];
      if (block === rover) return 0;
    }
    if (block !== 0) u32[this.roverWord] = block;
    return block;
  }

  protected override indexDetails(): Record<string, number | string> {
    return { rover: this.memory.u32[this.roverWord] };
  }

  protected override checkIndex(): void {
    const u32 = this.memory.u32;
    const rover = u32[this.roverWord];
    let previous = 0;
    let roverFound = rover === 0;
    for (const block of this.indexedBlocks()) {
      if (block <= previous) throw new HeapCorruptionError(block, "the free list is out of address order");
      if (block === rover) roverFound = true;
      previous = block;
    }
    if (!roverFound)
      throw new HeapCorruptionError(rover, "the rover points at a block that is not on the free list");
  }
}

/** Next fit over an address-ordered free list with a roving pointer. */
export function nextFit(): Strategy<Record<string, never>> {
  return {
    name: "next-fit",
    description: "next fit: first fit resuming where the last search stopped (a roving pointer)",
    options: {},
    create: (region) => new NextFitEngine(region).format(),
    attach: (region) => new NextFitEngine(region).open(),
  };
}
