/**
 * `@heapkit/strategy-first-fit` — first fit: take the first free block that is big enough.
 *
 * ```
 *  order "address" (default)    metadata: [ root ]   the free blocks as a Cartesian tree,
 *                                                     in-order by address, max-heap by size
 *          0x7f0 (4096)
 *          /          \          first fit for 200 B: 0x7f0 fits; its left child 0x1a8 fits;
 *     0x1a8 (512)   0x9c8 (64)   0x1a8's left child 0x040 does not: 0x1a8 is the lowest-addressed
 *      /      \                  block that fits (nothing to the left of a non-fitting subtree can)
 *   0x040    0x3e0
 *   (48)     (256)
 *
 *  order "lifo"                 metadata: [ head ]   one free list, last freed first
 *                               head -> last freed -> … -> first freed
 * ```
 *
 * Address-ordered first fit is, with best fit, the policy with the least fragmentation on real
 * programs (Johnstone & Wilson, ISMM 1998): it keeps using low addresses, so the top of the heap
 * stays free and large. A free list sorted by address makes it cost O(free blocks) per malloc and
 * per free; here the same placement comes from the address tree of `@heapkit/boundary-tags`
 * (see address-tree.ts): the depth of the tree, O(log n) expected when sizes are unrelated to
 * addresses. The LIFO variant keeps a list: O(1) free, an O(free blocks) search, scattered blocks and
 * more fragmentation. Splitting, coalescing and growth come from `@heapkit/boundary-tags`.
 *
 * @packageDocumentation
 */
import {
  AddressTreeEngine,
  BoundaryTagEngine,
  NEXT,
  policyId,
  pushFront,
  SIZE_MASK as SHARED_SIZE_MASK,
  unlink,
} from "@heapkit/boundary-tags";
import type { Region, Strategy } from "@heapkit/contract";

// Module-private copies of what the hot path reads from @heapkit/boundary-tags: V8 reads an
// imported binding through its module cell at every use.
const SIZE_MASK = SHARED_SIZE_MASK;

/** Options of {@link firstFit}. */
export interface FirstFitOptions {
  /** Keep the free blocks in address order (`address`, default) or push freed blocks at a list's front (`lifo`). */
  order: "address" | "lifo";
}

/** Address-ordered first fit: the address tree's own search. */
class AddressFirstFitEngine extends AddressTreeEngine {
  readonly strategy = "first-fit";

  constructor(region: Region) {
    super(region, 4, policyId("first-fit"));
  }

  protected override indexDetails(): Record<string, number | string> {
    return { index: "address tree" };
  }
}

/** First fit over a LIFO free list. */
class LifoFirstFitEngine extends BoundaryTagEngine {
  readonly strategy = "first-fit-lifo";
  /** The one free list's head is the metadata's first word. */
  protected readonly listHeads: number;
  protected readonly listCount = 1;

  constructor(region: Region) {
    super(region, 4, policyId("first-fit-lifo"));
    this.listHeads = this.meta;
  }

  protected insertFree(u32: Uint32Array, block: number): void {
    pushFront(u32, this.meta, block);
  }

  protected removeFree(u32: Uint32Array, block: number): void {
    unlink(u32, this.meta, block);
  }

  protected takeFree(u32: Uint32Array, size: number): number {
    let block = u32[this.meta >> 2];
    while (block !== 0 && (u32[block >> 2] & SIZE_MASK) < size) block = u32[(block + NEXT) >> 2];
    if (block !== 0) unlink(u32, this.meta, block);
    return block;
  }
}

/** First fit, address-ordered (`first-fit`, over an address tree) or LIFO (`first-fit-lifo`, over a list). */
export function firstFit(options: Partial<FirstFitOptions> = {}): Strategy<FirstFitOptions> {
  const order = options.order ?? "address";
  if (order !== "address" && order !== "lifo") {
    throw new RangeError(`first-fit: order must be "address" or "lifo", not ${JSON.stringify(order)}`);
  }
  if (order === "lifo") {
    return {
      name: "first-fit-lifo",
      description: "first fit over a LIFO free list: O(1) free, scattered placement",
      options: { order },
      create: (region) => new LifoFirstFitEngine(region).format(),
      attach: (region) => new LifoFirstFitEngine(region).open(),
    };
  }
  return {
    name: "first-fit",
    description:
      "address-ordered first fit over a Cartesian tree of the free blocks: low fragmentation, O(log n) expected",
    options: { order },
    create: (region) => new AddressFirstFitEngine(region).format(),
    attach: (region) => new AddressFirstFitEngine(region).open(),
  };
}
