/**
 * The boundary-tag mechanism, written once: block headers and footers, splitting, immediate
 * coalescing, growing the heap at its top, in-place realloc, aligned allocation, the block walk
 * and the invariant check (see ./layout.ts for the drawing).
 *
 * What it leaves to a policy — the only thing that differs between first fit, next fit, best fit,
 * segregated fits and TLSF — is the free-block index:
 *
 * - `insertFree(u32, block, size)`: a block became free;
 * - `removeFree(u32, block, size)`: a free block is taken or merged;
 * - `takeFree(u32, size)`: a free block of at least `size` bytes, taken out of the index, or 0 (one
 *   call, so that a policy unlinks the block it found with what the search left in hand — its class,
 *   its list head — instead of working them out again in `removeFree`);
 * - `listHeads` and `listCount`: where its doubly linked free lists start (an array of head words:
 *   one list for first fit, one per size class for segregated fits and TLSF), so that the block walk,
 *   `stats()` and `check()` are written here once.
 *
 * Policies keep their index (list heads, bitmaps, rovers) in the region, in the metadata area
 * that starts at `this.meta`, never in JS fields: a copy of the buffer is a copy of the heap.
 *
 * Usable bytes on the way (`lastUsableSize`, `free`'s result): a used block's usable bytes are its
 * size less the header word, and every path that hands out a block knows that size when it writes
 * the header (`place` and `shrink` return it), so it is stored then, with no second read of the
 * header; `free` reads the header anyway.
 *
 * Free space without a walk (`freeSpace`): blocks tile the heap and a used block is its payload plus
 * one header word, so the free bytes are the tiled bytes less the heap's live payload and one header
 * per live block; every policy's lists are ordered by size class, so the largest free block is in
 * the last non-empty list. Counting free blocks as they come and go would cost every malloc and free
 * a counter update; this costs them nothing.
 *
 * @module
 */
import {
  type Alignment,
  type AllocatorEngine,
  alignUp,
  type BlockInfo,
  type EngineStats,
  type FreeSpace,
  HeapCorruptionError,
  type Memory,
  OutOfMemoryError,
  type Ptr,
  type Region,
  reallocByMoving,
} from "@heapkit/contract";
import { listBlocks, NEXT } from "./free-list.js";
import * as layout from "./layout.js";

// Module-private copies of the layout's constants: V8 reads an imported binding through its module
// cell at every use, and these are read in every malloc and free.
const {
  ENGINE_HEADER_BYTES,
  FLAG_MASK,
  HEADER_BYTES,
  isPrevUsedHeader,
  isUsedHeader,
  MAGIC,
  MIN_BLOCK,
  PREV_USED,
  SIZE_MASK,
  sizeOfHeader,
  USED,
} = layout;

/** The shared mechanism of boundary-tag strategies; subclasses supply the free-block index. */
export abstract class BoundaryTagEngine implements AllocatorEngine {
  /** The strategy's name. */
  abstract readonly strategy: string;
  /** The memory the region lives in (read its views afresh after anything that can grow it). */
  protected readonly memory: Memory;
  /** The region this engine manages. */
  protected readonly region: Region;
  /** Payload alignment. */
  protected readonly align: Alignment;
  /** `align − 1`. */
  protected readonly alignMask: number;
  /** Offset of the policy's metadata area. */
  protected readonly meta: number;
  /** Offset of the first block's header. */
  protected readonly firstBlock: number;
  private readonly policyId: number;
  /** Usable bytes of the block the last successful malloc, realloc or memalign returned. */
  lastUsableSize: number;

  /**
   * @param region - the region to manage
   * @param metadataBytes - bytes the policy needs for its index, at `this.meta`
   * @param policyId - a number identifying the policy and its options, kept in the region so that
   *   `attach` refuses a region formatted by another policy
   */
  constructor(region: Region, metadataBytes: number, policyId: number) {
    this.region = region;
    this.memory = region.memory;
    this.align = region.align;
    this.alignMask = region.align - 1;
    this.meta = region.base + ENGINE_HEADER_BYTES;
    this.firstBlock = alignUp(this.meta + metadataBytes + HEADER_BYTES, region.align) - HEADER_BYTES;
    this.policyId = policyId;
    this.lastUsableSize = 0;
  }

  // ------------------------------------------------------------------ the policy's part

  /** A block became free: add it to the index. */
  protected abstract insertFree(u32: Uint32Array, block: number, size: number): void;
  /** A free block is being taken or merged: remove it from the index. */
  protected abstract removeFree(u32: Uint32Array, block: number, size: number): void;
  /** A free block of at least `size` bytes (block size, header included), out of the index now; or 0. */
  protected abstract takeFree(u32: Uint32Array, size: number): number;
  /** Byte offset of the first of the policy's list-head words (each 0 or the first block of a list). */
  protected abstract readonly listHeads: number;
  /** How many list-head words there are. */
  protected abstract readonly listCount: number;
  /** The policy's own figures for `stats().details`. */
  protected indexDetails(): Record<string, number | string> {
    return {};
  }
  /** Extra structural checks of the index (bitmaps against lists, …); throw `HeapCorruptionError`. */
  protected checkIndex(): void {}

  // ------------------------------------------------------------------ formatting

  /** Claims the metadata area and writes an empty heap: no blocks, just the epilogue. */
  format(): this {
    const region = this.region;
    const end = this.firstBlock + HEADER_BYTES;
    if (region.brk !== region.base || region.sbrk(end - region.base) < 0) {
      throw new OutOfMemoryError(end - region.base, 0, 0, region.limit - region.base);
    }
    const u32 = this.memory.u32;
    this.memory.u8.fill(0, region.base, end);
    const header = region.base >> 2;
    u32[header] = MAGIC;
    u32[header + 1] = this.align;
    u32[header + 2] = this.firstBlock;
    u32[header + 3] = this.policyId;
    u32[this.firstBlock >> 2] = USED | PREV_USED; // the epilogue
    return this;
  }

  /** Checks that the region was formatted by this policy with these options. */
  open(): this {
    const u32 = this.memory.u32;
    const header = this.region.base >> 2;
    if (
      u32[header] !== MAGIC ||
      u32[header + 1] !== this.align ||
      u32[header + 2] !== this.firstBlock ||
      u32[header + 3] !== this.policyId
    ) {
      throw new HeapCorruptionError(
        this.region.base,
        `not a region formatted by ${this.strategy} with these options`,
      );
    }
    return this;
  }

  // ------------------------------------------------------------------ allocation

  /** The block size that holds `size` payload bytes. */
  protected blockSize(size: number): number {
    const needed = (size + HEADER_BYTES + this.alignMask) & ~this.alignMask;
    return Math.max(needed, MIN_BLOCK);
  }

  malloc(size: number): Ptr {
    const want = this.blockSize(size);
    let u32 = this.memory.u32;
    let block = this.takeFree(u32, want);
    if (block === 0) {
      block = this.extendTop(want);
      if (block === 0) return 0;
      u32 = this.memory.u32;
    }
    this.lastUsableSize = this.place(u32, block, want) - HEADER_BYTES;
    return block + HEADER_BYTES;
  }

  /**
   * Marks a free block (already out of the index) used, splitting off a free remainder that is big
   * enough. Returns the used block's size: `want`, or the whole block when the rest is too small.
   */
  protected place(u32: Uint32Array, block: number, want: number): number {
    const header = u32[block >> 2];
    const size = header & SIZE_MASK;
    const rest = size - want;
    if (rest >= MIN_BLOCK) {
      u32[block >> 2] = want | (header & PREV_USED) | USED;
      const remainder = block + want;
      u32[remainder >> 2] = rest | PREV_USED;
      u32[(remainder + rest - HEADER_BYTES) >> 2] = rest;
      this.insertFree(u32, remainder, rest);
      return want;
    }
    u32[block >> 2] = header | USED;
    u32[(block + size) >> 2] |= PREV_USED;
    return size;
  }

  /**
   * Grows the heap so that a free block of `want` bytes ends at the break: the last block is
   * extended when it is free, otherwise a new block is made. Returns it out of the index, or 0.
   */
  protected extendTop(want: number): number {
    const epilogue = this.region.brk - HEADER_BYTES;
    let u32 = this.memory.u32;
    const epilogueHeader = u32[epilogue >> 2];
    if ((epilogueHeader & PREV_USED) === 0) {
      const lastSize = u32[(epilogue - HEADER_BYTES) >> 2];
      const last = epilogue - lastSize;
      const grow = want - lastSize;
      if (grow > 0 && this.region.sbrk(grow) < 0) return 0;
      u32 = this.memory.u32;
      this.removeFree(u32, last, lastSize);
      if (grow > 0) {
        u32[last >> 2] = (lastSize + grow) | PREV_USED;
        u32[(epilogue + grow) >> 2] = USED;
      }
      return last;
    }
    if (this.region.sbrk(want) < 0) return 0;
    u32 = this.memory.u32;
    u32[epilogue >> 2] = want | PREV_USED;
    u32[(epilogue + want) >> 2] = USED;
    return epilogue;
  }

  free(ptr: Ptr): number {
    const u32 = this.memory.u32;
    let block = ptr - HEADER_BYTES;
    const header = u32[block >> 2];
    let size = header & SIZE_MASK;
    const usable = size - HEADER_BYTES;
    const next = block + size;
    const nextHeader = u32[next >> 2];
    if ((nextHeader & USED) === 0) {
      // the block after a free block has PREV_USED clear already (invariant 2): no need to touch it
      const nextSize = nextHeader & SIZE_MASK;
      this.removeFree(u32, next, nextSize);
      size += nextSize;
    } else {
      u32[next >> 2] = nextHeader & ~PREV_USED;
    }
    if ((header & PREV_USED) === 0) {
      const prevSize = u32[(block - HEADER_BYTES) >> 2];
      block -= prevSize;
      this.removeFree(u32, block, prevSize);
      size += prevSize;
    }
    u32[block >> 2] = size | PREV_USED;
    u32[(block + size - HEADER_BYTES) >> 2] = size;
    this.insertFree(u32, block, size);
    return usable;
  }

  realloc(ptr: Ptr, size: number): Ptr {
    let u32 = this.memory.u32;
    const block = ptr - HEADER_BYTES;
    const header = u32[block >> 2];
    const current = header & SIZE_MASK;
    const want = this.blockSize(size);
    if (want <= current) {
      this.lastUsableSize = this.shrink(u32, block, want) - HEADER_BYTES;
      return ptr;
    }
    const next = block + current;
    const nextHeader = u32[next >> 2];
    const nextFree = (nextHeader & USED) === 0;
    const nextSize = nextFree ? nextHeader & SIZE_MASK : 0;
    if (nextFree && current + nextSize >= want) {
      this.removeFree(u32, next, nextSize);
      u32[block >> 2] = (current + nextSize) | (header & FLAG_MASK);
      u32[(block + current + nextSize) >> 2] |= PREV_USED;
      this.lastUsableSize = this.shrink(u32, block, want) - HEADER_BYTES;
      return ptr;
    }
    // the block is the last one (perhaps followed by a free block): grow the heap under it
    const epilogue = this.region.brk - HEADER_BYTES;
    if (next + nextSize === epilogue) {
      if (this.region.sbrk(want - current - nextSize) < 0) return 0;
      u32 = this.memory.u32;
      if (nextFree) this.removeFree(u32, next, nextSize);
      u32[block >> 2] = want | (header & FLAG_MASK);
      u32[(block + want) >> 2] = USED | PREV_USED;
      this.lastUsableSize = want - HEADER_BYTES;
      return ptr;
    }
    // malloc sets lastUsableSize; the free after it leaves it
    return reallocByMoving(this, this.memory, ptr, size);
  }

  /**
   * Cuts a used block down to `want` bytes, freeing the tail (merged with a free block after it).
   * Returns the block's size after: `want`, or the size it had when the tail would be too small.
   */
  protected shrink(u32: Uint32Array, block: number, want: number): number {
    const header = u32[block >> 2];
    const current = header & SIZE_MASK;
    let rest = current - want;
    if (rest < MIN_BLOCK) return current;
    const next = block + current;
    const nextHeader = u32[next >> 2];
    if ((nextHeader & USED) === 0) {
      const nextSize = nextHeader & SIZE_MASK;
      this.removeFree(u32, next, nextSize);
      rest += nextSize;
    } else {
      u32[next >> 2] = nextHeader & ~PREV_USED;
    }
    u32[block >> 2] = want | (header & FLAG_MASK);
    const tail = block + want;
    u32[tail >> 2] = rest | PREV_USED;
    u32[(tail + rest - HEADER_BYTES) >> 2] = rest;
    this.insertFree(u32, tail, rest);
    return want;
  }

  memalign(alignment: number, size: number): Ptr {
    if (size + alignment + MIN_BLOCK > this.region.limit) return 0;
    const ptr = this.malloc(size + alignment + MIN_BLOCK);
    if (ptr === 0) return 0;
    const u32 = this.memory.u32;
    const want = this.blockSize(size);
    if ((ptr & (alignment - 1)) === 0) {
      this.lastUsableSize = this.shrink(u32, ptr - HEADER_BYTES, want) - HEADER_BYTES;
      return ptr;
    }
    // leave a leading gap of at least one minimal block and free it
    const aligned = alignUp(ptr + MIN_BLOCK, alignment);
    const block = ptr - HEADER_BYTES;
    const header = u32[block >> 2];
    const lead = aligned - ptr;
    const alignedBlock = aligned - HEADER_BYTES;
    u32[alignedBlock >> 2] = ((header & SIZE_MASK) - lead) | USED;
    u32[block >> 2] = lead | (header & PREV_USED) | USED;
    this.free(ptr);
    this.lastUsableSize = this.shrink(this.memory.u32, alignedBlock, want) - HEADER_BYTES;
    return aligned;
  }

  usableSize(ptr: Ptr): number {
    return (this.memory.u32[(ptr - HEADER_BYTES) >> 2] & SIZE_MASK) - HEADER_BYTES;
  }

  isFreeBlock(ptr: Ptr): boolean {
    const block = ptr - HEADER_BYTES;
    const end = this.region.brk - HEADER_BYTES;
    if ((ptr & this.alignMask) !== 0 || block < this.firstBlock || block >= end) return false;
    const u32 = this.memory.u32;
    const header = u32[block >> 2];
    const size = header & SIZE_MASK;
    if ((header & USED) !== 0 || size < MIN_BLOCK || block + size > end) return false;
    return u32[(block + size - HEADER_BYTES) >> 2] === size;
  }

  largestFreePayload(): number {
    const largest = this.largestFreeBlock();
    return largest > 0 ? largest - HEADER_BYTES : 0;
  }

  freeSpace(liveBlocks: number, liveBytes: number): FreeSpace {
    const tiled = this.region.brk - HEADER_BYTES - this.firstBlock;
    return {
      freeBytes: tiled - liveBytes - liveBlocks * HEADER_BYTES,
      largestFreeBlock: this.largestFreeBlock(),
    };
  }

  /**
   * The largest free block's size, from the last non-empty list only (lists are ordered by size
   * class; next fit and LIFO first fit have just one). The walk stops after as many steps as the heap could
   * hold blocks, so a corrupted, cyclic list cannot hang it; check() reports such a list.
   */
  protected largestFreeBlock(): number {
    const u32 = this.memory.u32;
    const first = this.listHeads >> 2;
    let list = this.listCount - 1;
    while (list >= 0 && u32[first + list] === 0) list--;
    let largest = 0;
    let steps = this.region.brk >> 4;
    for (let block = list < 0 ? 0 : u32[first + list]; block !== 0 && steps > 0; steps--) {
      const size = u32[block >> 2] & SIZE_MASK;
      if (size > largest) largest = size;
      block = u32[(block + NEXT) >> 2];
    }
    return largest;
  }

  /**
   * Every block in the free index, each list in order, verifying `prev` links (for `check()`). The
   * list-based walks here (this one, `walkFreeLists`, `largestFreeBlock`) are what a policy whose
   * index is not a set of lists (the address tree of first fit) overrides.
   */
  protected *indexedBlocks(): Generator<number> {
    const u32 = this.memory.u32;
    const first = this.listHeads >> 2;
    for (let list = 0; list < this.listCount; list++) {
      if (u32[first + list] !== 0) yield* listBlocks(u32, (first + list) << 2, this.region.brk >> 4);
    }
  }

  /**
   * Counts the free lists' blocks and bytes and finds the largest: a plain loop over the non-empty
   * lists, for `stats()`. It stops after as many steps as the heap could hold blocks, so
   * a corrupted, cyclic list cannot hang it; check() reports such a list.
   */
  protected walkFreeLists(): Omit<EngineStats, "details"> {
    const u32 = this.memory.u32;
    const first = this.listHeads >> 2;
    let steps = this.region.brk >> 4;
    let blocks = 0;
    let bytes = 0;
    let largest = 0;
    for (let list = 0; list < this.listCount; list++) {
      for (let block = u32[first + list]; block !== 0 && steps > 0; steps--) {
        const size = u32[block >> 2] & SIZE_MASK;
        blocks++;
        bytes += size;
        if (size > largest) largest = size;
        block = u32[(block + NEXT) >> 2];
      }
    }
    return { freeBlocks: blocks, freeBytes: bytes, largestFreeBlock: largest };
  }

  // ------------------------------------------------------------------ inspection

  *blocks(): IterableIterator<BlockInfo> {
    const u32 = this.memory.u32;
    const base = this.region.base;
    yield { offset: base, size: this.firstBlock - base, state: "meta", ptr: 0, payload: 0 };
    const end = this.region.brk - HEADER_BYTES;
    let block = this.firstBlock;
    while (block < end) {
      const header = u32[block >> 2];
      const size = header & SIZE_MASK;
      if (size === 0) return; // corrupted: check() reports it
      if ((header & USED) !== 0) {
        yield { offset: block, size, state: "used", ptr: block + HEADER_BYTES, payload: size - HEADER_BYTES };
      } else {
        yield { offset: block, size, state: "free", ptr: 0, payload: 0 };
      }
      block += size;
    }
    yield { offset: end, size: HEADER_BYTES, state: "meta", ptr: 0, payload: 0 };
  }

  stats(): EngineStats {
    return { ...this.walkFreeLists(), details: this.indexDetails() };
  }

  check(): void {
    const base = this.region.base;
    if (this.memory.u32[base >> 2] !== MAGIC)
      throw new HeapCorruptionError(base, "the region's magic word is overwritten");
    const { free, largestFree } = this.checkBlocks();
    this.checkFreeIndex(free, largestFree);
    this.checkIndex();
  }

  /**
   * Invariants 1–3, in one walk of the blocks: they tile the heap up to the epilogue, PREV_USED
   * follows the block before, free blocks have their footer and no free neighbour before them.
   * Returns the free blocks and the largest one's size.
   */
  private checkBlocks(): { free: Set<number>; largestFree: number } {
    const u32 = this.memory.u32;
    const end = this.region.brk - HEADER_BYTES;
    const free = new Set<number>();
    let largestFree = 0;
    let prevUsed = true;
    let block = this.firstBlock;
    while (block < end) {
      const header = u32[block >> 2];
      const size = sizeOfHeader(header);
      this.checkTiling(block, size, end);
      if (isPrevUsedHeader(header) !== prevUsed) {
        throw new HeapCorruptionError(
          block,
          `PREV_USED bit is ${isPrevUsedHeader(header)}, but the previous block is ${prevUsed ? "used" : "free"}`,
        );
      }
      const used = isUsedHeader(header);
      if (!used) {
        if (!prevUsed)
          throw new HeapCorruptionError(block, "two adjacent free blocks: coalescing was missed");
        const footer = u32[(block + size - HEADER_BYTES) >> 2];
        if (footer !== size)
          throw new HeapCorruptionError(block, `free block's footer says ${footer}, its header ${size}`);
        free.add(block);
        if (size > largestFree) largestFree = size;
      }
      prevUsed = used;
      block += size;
    }
    const epilogue = u32[end >> 2];
    if (sizeOfHeader(epilogue) !== 0 || !isUsedHeader(epilogue) || isPrevUsedHeader(epilogue) !== prevUsed) {
      throw new HeapCorruptionError(end, "the epilogue header is damaged");
    }
    return { free, largestFree };
  }

  /** Invariant 1 for one block: a size that is a multiple of align, at least MIN_BLOCK, ending by `end`. */
  private checkTiling(block: number, size: number, end: number): void {
    if (size < MIN_BLOCK || (size & this.alignMask) !== 0) {
      throw new HeapCorruptionError(
        block,
        `block size ${size} is not a multiple of ${this.align} of at least ${MIN_BLOCK}`,
      );
    }
    if (block + size > end) {
      throw new HeapCorruptionError(block, `block of ${size} bytes runs past the epilogue at ${end}`);
    }
  }

  /** Invariant 4: the index holds exactly the free blocks, each once, and finds the largest of them. */
  private checkFreeIndex(free: Set<number>, largestFree: number): void {
    for (const indexed of this.indexedBlocks()) {
      if (!free.delete(indexed)) {
        throw new HeapCorruptionError(
          indexed,
          "the free index holds a block that is not a free block (or holds it twice)",
        );
      }
    }
    for (const missing of free) {
      throw new HeapCorruptionError(missing, "a free block is missing from the free index");
    }
    const indexLargest = this.largestFreeBlock();
    if (indexLargest !== largestFree) {
      throw new HeapCorruptionError(
        this.listHeads,
        `the index's largest free block is ${indexLargest} bytes; the heap's is ${largestFree}`,
      );
    }
  }
}
