/**
 * `@heapkit/strategy-first-fit` — first fit: take the first free block that is big enough.
 *
 * ```
 *  metadata: [ head ]           one free list, threaded through the free blocks
 *
 *  order "address" (default)    head -> 0x040 -> 0x1a8 -> 0x7f0 -> …   sorted by address
 *  order "lifo"                 head -> last freed -> … -> first freed
 * ```
 *
 * Address-ordered first fit is, with best fit, the policy with the least fragmentation on real
 * programs (Johnstone & Wilson, ISMM 1998): it keeps using low addresses, so the top of the heap
 * stays free and large. Its cost is the O(free blocks) search and sorted insertion. The LIFO variant
 * inserts in O(1), but scatters blocks and fragments more. Splitting, coalescing and growth come from
 * `@heapkit/boundary-tags`.
 *
 * @packageDocumentation
 */
import { BoundaryTagEngine, insertByAddress, NEXT, pushFront, unlink } from "@heapkit/boundary-tags";
import { HeapCorruptionError, type Region, type Strategy } from "@heapkit/contract";

/** Options of {@link firstFit}. */
export interface FirstFitOptions {
  /** Keep the free list sorted by address (`address`, default) or push freed blocks at its front (`lifo`). */
  order: "address" | "lifo";
}

const POLICY_ADDRESS = 0x0101;
const POLICY_LIFO = 0x0102;

class FirstFitEngine extends BoundaryTagEngine {
  readonly strategy: string;
  private readonly lifo: boolean;

  /** The one free list's head is the metadata's first word. */
  protected readonly listHeads: number;
  protected readonly listCount = 1;

  constructor(region: Region, name: string, lifo: boolean) {
    super(region, 4, lifo ? POLICY_LIFO : POLICY_ADDRESS);
    this.listHeads = this.meta;
    this.strategy = name;
    this.lifo = lifo;
  }

  protected insertFree(u32: Uint32Array, block: number): void {
    if (this.lifo) pushFront(u32, this.meta, block);
    else insertByAddress(u32, this.meta, block);
  }

  protected removeFree(u32: Uint32Array, block: number): void {
    unlink(u32, this.meta, block);
  }

  protected findFree(u32: Uint32Array, size: number): number {
    let block = u32[this.meta >> 2];
    while (block !== 0 && (u32[block >> 2] & ~7) < size) block = u32[(block + NEXT) >> 2];
    return block;
  }

  protected override checkIndex(): void {
    if (this.lifo) return;
    let previous = 0;
    for (const block of this.indexedBlocks()) {
      if (block <= previous) throw new HeapCorruptionError(block, "the free list is out of address order");
      previous = block;
    }
  }
}

/** First fit, address-ordered (`first-fit`) or LIFO (`first-fit-lifo`). */
export function firstFit(options: Partial<FirstFitOptions> = {}): Strategy<FirstFitOptions> {
  const order = options.order ?? "address";
  if (order !== "address" && order !== "lifo") {
    throw new RangeError(`first-fit: order must be "address" or "lifo", not ${JSON.stringify(order)}`);
  }
  const lifo = order === "lifo";
  const name = lifo ? "first-fit-lifo" : "first-fit";
  return {
    name,
    description: lifo
      ? "first fit over a LIFO free list: O(1) free, scattered placement"
      : "first fit over an address-ordered free list: low fragmentation, O(n) search",
    options: { order },
    create: (region) => new FirstFitEngine(region, name, lifo).format(),
    attach: (region) => new FirstFitEngine(region, name, lifo).open(),
  };
}
