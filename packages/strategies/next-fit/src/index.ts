/**
 * `@heapkit/strategy-next-fit` — next fit (Knuth): first fit that starts each search where the
 * last one stopped, wrapping around.
 *
 * ```
 *  metadata: [ root | rover ]     the free blocks as an address tree (see first fit), and the
 *                                 address where the next search starts
 *
 *  free blocks by address:  0x040   0x1a8   0x7f0   0x9c8
 *                                            ^ rover: the search takes the lowest block at or
 *                                              above it that fits; if none does, it wraps to the
 *                                              lowest block that fits at all
 * ```
 *
 * The rover is the block the last search took. When a free block comes to cover it (the block it
 * names was freed and merged with the one before), it moves to that block's start, so it always
 * names where a block begins.
 *
 * Spreading allocations around the heap avoids re-scanning the small splinters that collect at
 * its start, but it mixes objects of different lifetimes, so it fragments more than first fit on
 * real programs (Wilson et al., 1995). Both searches walk one path of the address tree of
 * `@heapkit/boundary-tags`, so a call costs the tree's depth, not a walk of the free list.
 *
 * @packageDocumentation
 */
import { AddressTreeEngine, policyId, treeFirstFit, treeInsert } from "@heapkit/boundary-tags";
import type { Region, Strategy } from "@heapkit/contract";

class NextFitEngine extends AddressTreeEngine {
  readonly strategy = "next-fit";
  private readonly roverWord: number;

  constructor(region: Region) {
    super(region, 8, policyId("next-fit"));
    this.roverWord = this.rootWord + 1;
  }

  protected override insertFree(u32: Uint32Array, block: number, size: number): void {
    treeInsert(u32, this.rootWord, block, size);
    const rover = u32[this.roverWord];
    if (block < rover && rover < block + size) u32[this.roverWord] = block;
  }

  protected override findFree(u32: Uint32Array, size: number): number {
    let block = treeFirstFit(u32, this.rootWord, size, u32[this.roverWord]);
    if (block === 0) block = treeFirstFit(u32, this.rootWord, size);
    if (block !== 0) u32[this.roverWord] = block;
    return block;
  }

  protected override indexDetails(): Record<string, number | string> {
    return { index: "address tree", rover: this.memory.u32[this.roverWord] };
  }
}

/** Next fit over an address tree of the free blocks, with a roving start address. */
export function nextFit(): Strategy<Record<string, never>> {
  return {
    name: "next-fit",
    description:
      "next fit: first fit resuming where the last search stopped (a roving pointer), over an address tree",
    options: {},
    create: (region) => new NextFitEngine(region).format(),
    attach: (region) => new NextFitEngine(region).open(),
  };
}
