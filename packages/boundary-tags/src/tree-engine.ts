/**
 * The boundary-tag mechanism over the address tree (./address-tree.ts) instead of free lists: the
 * base of the address-ordered policies, first fit and next fit. The tree's root is the first word
 * of the policy's metadata; a policy may keep more words after it (next fit's rover).
 *
 * @module
 */
import type { EngineStats, Region } from "@heapkit/contract";
import { treeBlocks, treeFirstFit, treeInsert, treeLargest, treeRemove } from "./address-tree.js";
import { BoundaryTagEngine } from "./engine.js";
import { SIZE_MASK as LAYOUT_SIZE_MASK } from "./layout.js";

// Module-private copies of the layout's constants: V8 reads an imported binding through its module
// cell at every use, and these are read in every malloc and free.
const SIZE_MASK = LAYOUT_SIZE_MASK;

/** A boundary-tag engine whose free blocks form an address tree; `findFree` is first fit. */
export abstract class AddressTreeEngine extends BoundaryTagEngine {
  /** The tree is not a set of lists: the walks below replace the engine's list walks. */
  protected readonly listHeads: number;
  protected readonly listCount = 0;
  /** Word index of the tree's root. */
  protected readonly rootWord: number;

  /**
   * @param region - the region to manage
   * @param metadataBytes - the policy's metadata, the root word included
   * @param policyId - the policy's id, as for {@link BoundaryTagEngine}
   */
  constructor(region: Region, metadataBytes: number, policyId: number) {
    super(region, metadataBytes, policyId);
    this.listHeads = this.meta;
    this.rootWord = this.meta >> 2;
  }

  protected insertFree(u32: Uint32Array, block: number, size: number): void {
    treeInsert(u32, this.rootWord, block, size);
  }

  protected removeFree(u32: Uint32Array, block: number): void {
    treeRemove(u32, this.rootWord, block);
  }

  protected takeFree(u32: Uint32Array, size: number): number {
    const block = this.findFree(u32, size);
    if (block !== 0) treeRemove(u32, this.rootWord, block);
    return block;
  }

  /** The free block a request of `size` bytes takes, or 0 (it stays in the tree): first fit. */
  protected findFree(u32: Uint32Array, size: number): number {
    return treeFirstFit(u32, this.rootWord, size);
  }

  protected override largestFreeBlock(): number {
    return treeLargest(this.memory.u32, this.rootWord);
  }

  protected override *indexedBlocks(): Generator<number> {
    yield* treeBlocks(this.memory.u32, this.rootWord, this.region.brk >> 4);
  }

  protected override walkFreeLists(): Omit<EngineStats, "details"> {
    const u32 = this.memory.u32;
    let blocks = 0;
    let bytes = 0;
    let largest = 0;
    for (const block of treeBlocks(u32, this.rootWord, this.region.brk >> 4)) {
      const size = u32[block >> 2] & SIZE_MASK;
      blocks++;
      bytes += size;
      if (size > largest) largest = size;
    }
    return { freeBlocks: blocks, freeBytes: bytes, largestFreeBlock: largest };
  }
}
