/**
 * `@heapkit/strategy-buddy` — the binary buddy system (Knowlton 1965; Knuth TAOCP 2.5): every block
 * is a power of two in size and starts at a multiple of its size; a block of 2^k bytes at address a
 * has exactly one buddy, at a XOR 2^k. malloc splits a larger block in halves down to the size
 * asked; free merges a block with its buddy for as long as the buddy is free and whole.
 *
 * ```
 *  region  base                    origin                                               brk
 *          | header | order lists |  blocks, each 2^k bytes at a multiple of 2^k  …        |
 *            magic, used bytes,     (absolute addresses: the buddy of a is a ^ 2^k)
 *            bitmap of non-empty orders, heads[0..30]
 *
 *  block of order k at a (a % 2^k = 0)          H = the heap's align (8 or 16) bytes of header
 *  a     +-------------------------------+      word 0: "BD" tag (top half: damage shows) | USED |
 *        | TAG | flags | order k         |              INNER | ALIGNED + log2 alignment | order k
 *  a+4   | used: bytes asked             |      word 1: used -> the size asked (for the internal
 *        | free: next free of order k    |              fragmentation figures); free -> next link
 *  a+8   | free: prev free of order k    |      word 2: free -> prev link
 *  a+H   | payload: 2^k − H bytes        |
 *        +-------------------------------+
 *
 *  split (malloc 40 B, align 8 -> order 6 = 64 B) from a free 256 B block at 0x100:
 *    [0x100 ......... 256 ......... ]  ->  [0x100 64 used][0x140 64 free][0x180 ... 128 free ...]
 *  merge (free 0x100): buddy 0x140 free, order 6 -> [0x100 128]; buddy 0x180 free, order 7
 *    -> [0x100 256 free]
 * ```
 *
 * Growth: the heap grows at its top like sbrk. A block of order k that does not fit is put at the
 * next multiple of 2^k at or above the break; the gap below it is cut into the largest aligned
 * blocks that fit and freed (merging with their buddies). So the heap is a forest of buddy trees of
 * any size, not one tree that must double, and it grows by what it needs (plus alignment).
 * A block whose buddy lies below the origin or above the break has no buddy yet.
 *
 * `memalign(A, n)` takes a block of 2^k ≥ A + n and puts the payload at block + A, with an INNER
 * header at payload − H that holds the distance back to the block (free and usableSize follow it).
 *
 * Usable bytes (`usableSize`, `lastUsableSize`, `free`'s result) run from the payload to the block's
 * end: 2^k − H, or 2^k − A behind an inner header; every path knows k when it writes the header, so
 * it stores the figure then, and `free`, which reads the header anyway, returns block + 2^k − ptr.
 *
 * Invariants (checked by `check()`):
 * 1. Blocks tile [origin, brk): each header carries the tag, an order k ≥ the minimum, the block
 *    starts at a multiple of 2^k and ends at or below the break.
 * 2. No free block has a free buddy of the same order (merging is immediate).
 * 3. The list of order k holds exactly the free blocks of order k, each once, with valid prev links;
 *    bit k of the order bitmap is set exactly when that list is non-empty.
 * 4. The counter of used bytes agrees with the blocks (the only counter: `stats()` walks the blocks
 *    for the rest).
 *
 * Why headers rather than a separate bitmap tree: the buddy address is computed, and a block's
 * buddy always starts a block (or is split into blocks that start there), so the header found at
 * the buddy address is always a real header: one word tells "free and of order k". A side tree
 * would have to be sized for the largest heap up front, or moved as the heap grows.
 *
 * @packageDocumentation
 */
import {
  listBlocks,
  NEXT as SHARED_NEXT,
  PREV as SHARED_PREV,
  pushFront as sharedPushFront,
  unlink as sharedUnlink,
} from "@heapkit/boundary-tags";
import {
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
  type Strategy,
} from "@heapkit/contract";
import { checkBuddy } from "./check.js";
import * as layout from "./layout.js";

export {
  BUDDY_ALIGNED,
  BUDDY_INNER,
  BUDDY_TAG,
  BUDDY_USED,
  buddyOf,
  buddyOrder,
  MAX_ORDER,
} from "./layout.js";

// Module-private copies of the layout's names and the shared list functions: V8 reads an imported
// binding through its module cell at every use, and these are read in every malloc and free.
const {
  ALIGN_SHIFT,
  ASKED,
  alignmentOf,
  BUDDY_ALIGNED,
  BUDDY_INNER,
  BUDDY_TAG,
  BUDDY_USED,
  buddyOrder,
  freeHeader,
  H_ALIGN,
  H_BITMAP,
  H_HEADS,
  H_MAGIC,
  H_ORIGIN,
  H_USED_BYTES,
  HEADER_WORDS,
  INNER_HEADER,
  MAGIC,
  MAX_ORDER,
  MIN_ORDER,
  ORDER_MASK,
  TAG_MASK,
  usedHeader,
} = layout;
const pushFront = sharedPushFront;
const unlink = sharedUnlink;
const NEXT = SHARED_NEXT;
const PREV = SHARED_PREV;

class BuddyEngine implements AllocatorEngine {
  readonly strategy = "buddy";
  private readonly memory: Memory;
  private readonly region: Region;
  private readonly base: number;
  /** Word index of the header. */
  private readonly hw: number;
  /** Header bytes in front of every payload (= align). */
  private readonly hb: number;
  private readonly minOrder: number;
  /** The first byte blocks may use. */
  private readonly origin: number;
  /** Usable bytes of the block the last successful malloc, realloc or memalign returned. */
  lastUsableSize: number;

  constructor(region: Region) {
    this.region = region;
    this.memory = region.memory;
    this.base = region.base;
    this.hw = region.base >> 2;
    this.hb = region.align;
    this.minOrder = region.align === 8 ? MIN_ORDER : MIN_ORDER + 1;
    this.origin = alignUp(region.base + HEADER_WORDS * 4, 1 << this.minOrder);
    this.lastUsableSize = 0;
  }

  format(): this {
    const region = this.region;
    if (region.brk !== region.base || region.sbrk(this.origin - region.base) < 0) {
      throw new OutOfMemoryError(this.origin - region.base, 0, 0, region.limit - region.base);
    }
    const u32 = this.memory.u32;
    this.memory.u8.fill(0, region.base, this.origin);
    u32[this.hw + H_MAGIC] = MAGIC;
    u32[this.hw + H_ALIGN] = region.align;
    u32[this.hw + H_ORIGIN] = this.origin;
    return this;
  }

  open(): this {
    const u32 = this.memory.u32;
    if (
      u32[this.hw + H_MAGIC] !== MAGIC ||
      u32[this.hw + H_ALIGN] !== this.region.align ||
      u32[this.hw + H_ORIGIN] !== this.origin
    ) {
      throw new HeapCorruptionError(this.base, "not a region formatted by buddy with these options");
    }
    return this;
  }

  // ------------------------------------------------------------------ free lists

  /** Byte offset of the head word of the free list of `order`. */
  private headOf(order: number): number {
    return (this.hw + H_HEADS + order) << 2;
  }

  private push(u32: Uint32Array, block: number, order: number): void {
    u32[block >> 2] = freeHeader(order);
    if (pushFront(u32, this.headOf(order), block)) u32[this.hw + H_BITMAP] |= 1 << order;
  }

  private unlink(u32: Uint32Array, block: number, order: number): void {
    if (unlink(u32, this.headOf(order), block)) u32[this.hw + H_BITMAP] &= ~(1 << order);
  }

  /**
   * Frees the block of `order` at `block`, merging with free buddies. The break is read only when an
   * upper buddy's header says "free, of this order": most frees merge nothing, and the region's break
   * is a getter call through the heap.
   */
  private release(u32: Uint32Array, block: number, order: number): void {
    const origin = this.origin;
    let end = -1;
    while (order < MAX_ORDER) {
      const size = 1 << order;
      const buddy = block ^ size;
      // the header first: above the break it is a stale word (or undefined past the buffer), so a
      // match there is then checked against the break; below the origin lie the region's words
      if (u32[buddy >> 2] !== freeHeader(order) || buddy < origin) break;
      if (buddy > block) {
        if (end < 0) end = this.region.brk;
        if (buddy + size > end) break;
      }
      this.unlink(u32, buddy, order);
      if (buddy < block) block = buddy;
      order++;
    }
    this.push(u32, block, order);
  }

  // ------------------------------------------------------------------ allocation

  /** Used blocks grew by `bytes` (negative: shrank). */
  private count(u32: Uint32Array, bytes: number): void {
    u32[this.hw + H_USED_BYTES] += bytes;
  }

  /** A used block of `order` (its header written), or 0. */
  private take(order: number): number {
    let u32 = this.memory.u32;
    const bits = u32[this.hw + H_BITMAP] & (-1 << order);
    let block: number;
    if (bits !== 0) {
      let have = 31 - Math.clz32(bits & -bits);
      // unlink's work for a list's head, whose prev link is 0 and is not read
      const head = this.hw + H_HEADS + have;
      block = u32[head];
      const next = u32[(block + NEXT) >> 2];
      u32[head] = next;
      if (next !== 0) u32[(next + PREV) >> 2] = 0;
      else u32[this.hw + H_BITMAP] &= ~(1 << have);
      while (have > order) {
        have--;
        this.push(u32, block + (1 << have), have);
      }
    } else {
      // grow: the block goes at the next multiple of its size at or above the break
      const end = this.region.brk;
      const size = 1 << order;
      const at = Math.ceil(end / size) * size;
      if (at + size > this.region.limit || this.region.sbrk(at + size - end) < 0) return 0;
      u32 = this.memory.u32;
      block = at;
      u32[block >> 2] = usedHeader(order);
      // The memory above the old break may hold anything (stale blocks of an earlier heap, a
      // caller's bytes), so every gap block gets a header, marked used, before any is freed: a
      // merge then never reads a word that is not a header.
      for (let gap = end, order = 0; gap < at; gap += 1 << order) {
        order = this.gapOrder(gap, at);
        u32[gap >> 2] = usedHeader(order);
      }
      for (let gap = end, order = 0; gap < at; gap += 1 << order) {
        order = this.gapOrder(gap, at);
        this.release(u32, gap, order);
      }
    }
    u32[block >> 2] = usedHeader(order);
    return block;
  }

  /** The order of the largest block that starts at `gap` (aligned to its size) and ends by `at`. */
  private gapOrder(gap: number, at: number): number {
    let order = 31 - Math.clz32(gap & -gap);
    while (gap + (1 << order) > at) order--;
    return order;
  }

  malloc(size: number): Ptr {
    const order = buddyOrder(size + this.hb, this.minOrder);
    if (order > MAX_ORDER) return 0;
    const block = this.take(order);
    if (block === 0) return 0;
    const u32 = this.memory.u32;
    u32[(block + ASKED) >> 2] = size;
    this.count(u32, 1 << order);
    this.lastUsableSize = (1 << order) - this.hb;
    return block + this.hb;
  }

  free(ptr: Ptr): number {
    const u32 = this.memory.u32;
    let block = ptr - this.hb;
    let header = u32[block >> 2];
    if ((header & BUDDY_INNER) !== 0) {
      block -= u32[(block + ASKED) >> 2];
      header = u32[block >> 2];
    }
    const order = header & ORDER_MASK;
    this.count(u32, -(1 << order));
    this.release(u32, block, order);
    return block + (1 << order) - ptr;
  }

  realloc(ptr: Ptr, size: number): Ptr {
    const u32 = this.memory.u32;
    const block = ptr - this.hb;
    const header = u32[block >> 2];
    if ((header & BUDDY_INNER) !== 0) return reallocByMoving(this, this.memory, ptr, size);
    let order = header & ORDER_MASK;
    const want = buddyOrder(size + this.hb, this.minOrder);
    if (want > MAX_ORDER) return 0;
    if (want <= order) {
      // shrink in place: give back upper halves (their buddies are this block: no merging)
      const oldOrder = order;
      while (order > want) {
        order--;
        this.push(u32, block + (1 << order), order);
      }
      u32[block >> 2] = usedHeader(order);
      u32[(block + ASKED) >> 2] = size;
      this.count(u32, (1 << order) - (1 << oldOrder));
      this.lastUsableSize = (1 << order) - this.hb;
      return ptr;
    }
    const end = this.region.brk;
    // at the top of the heap and aligned for the larger order: grow the heap under it
    if (block + (1 << order) === end && block % (1 << want) === 0) {
      if (block + (1 << want) > this.region.limit || this.region.sbrk((1 << want) - (1 << order)) < 0) {
        return reallocByMoving(this, this.memory, ptr, size);
      }
      const grown = this.memory.u32;
      grown[block >> 2] = usedHeader(want);
      grown[(block + ASKED) >> 2] = size;
      this.count(grown, (1 << want) - (1 << order));
      this.lastUsableSize = (1 << want) - this.hb;
      return ptr;
    }
    // grow in place when every upper buddy on the way up is free and whole
    let ok = true;
    for (let k = order; k < want && ok; k++) {
      const buddy = block + (1 << k);
      ok = (block & (1 << k)) === 0 && buddy + (1 << k) <= end && u32[buddy >> 2] === freeHeader(k);
    }
    if (!ok) return reallocByMoving(this, this.memory, ptr, size);
    for (let k = order; k < want; k++) this.unlink(u32, block + (1 << k), k);
    u32[block >> 2] = usedHeader(want);
    u32[(block + ASKED) >> 2] = size;
    this.count(u32, (1 << want) - (1 << order));
    this.lastUsableSize = (1 << want) - this.hb;
    return ptr;
  }

  memalign(alignment: number, size: number): Ptr {
    const order = buddyOrder(alignment + Math.max(size, this.hb), this.minOrder); // a payload, even for 0 bytes
    if (order > MAX_ORDER) return 0;
    const block = this.take(order);
    if (block === 0) return 0;
    const u32 = this.memory.u32;
    // block is a multiple of 2^order ≥ alignment > H, so block + alignment is aligned and the
    // inner header in front of it lies after the block's own header
    const ptr = block + alignment;
    u32[block >> 2] = usedHeader(order) | BUDDY_ALIGNED | ((31 - Math.clz32(alignment)) << ALIGN_SHIFT);
    u32[(block + ASKED) >> 2] = size;
    const inner = ptr - this.hb;
    u32[inner >> 2] = INNER_HEADER;
    u32[(inner + ASKED) >> 2] = inner - block;
    this.count(u32, 1 << order);
    this.lastUsableSize = (1 << order) - alignment;
    return ptr;
  }

  usableSize(ptr: Ptr): number {
    const u32 = this.memory.u32;
    let block = ptr - this.hb;
    const header = u32[block >> 2];
    if ((header & BUDDY_INNER) !== 0) {
      block -= u32[(block + ASKED) >> 2];
      return block + (1 << (u32[block >> 2] & ORDER_MASK)) - ptr;
    }
    return (1 << (header & ORDER_MASK)) - this.hb;
  }

  isFreeBlock(ptr: Ptr): boolean {
    const block = ptr - this.hb;
    const smallest = 1 << MIN_ORDER;
    if (block < this.origin || block + smallest > this.region.brk || (block & (smallest - 1)) !== 0)
      return false;
    const header = this.memory.u32[block >> 2];
    const order = header & ORDER_MASK;
    return (
      (header & TAG_MASK) === BUDDY_TAG &&
      (header & (BUDDY_USED | BUDDY_INNER)) === 0 &&
      order >= this.minOrder &&
      (block & ((1 << order) - 1)) === 0
    );
  }

  largestFreePayload(): number {
    const largest = this.largestFreeBlock();
    return largest === 0 ? 0 : largest - this.hb;
  }

  /** Blocks tile [origin, brk), so the free bytes are that less the used blocks' bytes. */
  freeSpace(): FreeSpace {
    return {
      freeBytes: this.region.brk - this.origin - this.memory.u32[this.hw + H_USED_BYTES],
      largestFreeBlock: this.largestFreeBlock(),
    };
  }

  /** The size of a block of the highest order with a free block, from the bitmap of orders; 0 if none. */
  private largestFreeBlock(): number {
    const bits = this.memory.u32[this.hw + H_BITMAP];
    return bits === 0 ? 0 : 1 << (31 - Math.clz32(bits));
  }

  // ------------------------------------------------------------------ inspection

  *blocks(): IterableIterator<BlockInfo> {
    const u32 = this.memory.u32;
    yield { offset: this.base, size: this.origin - this.base, state: "meta", ptr: 0, payload: 0 };
    const end = this.region.brk;
    let block = this.origin;
    while (block < end) {
      const header = u32[block >> 2];
      const order = header & ORDER_MASK;
      if ((header & TAG_MASK) !== BUDDY_TAG || order < this.minOrder || order > MAX_ORDER) return; // check() reports it
      const size = 1 << order;
      if ((header & BUDDY_USED) !== 0) {
        const ptr = (header & BUDDY_ALIGNED) !== 0 ? block + alignmentOf(header) : block + this.hb;
        yield { offset: block, size, state: "used", ptr, payload: block + size - ptr };
      } else {
        yield { offset: block, size, state: "free", ptr: 0, payload: 0 };
      }
      block += size;
    }
  }

  stats(): EngineStats {
    const u32 = this.memory.u32;
    let freeBlocks = 0;
    let freeBytes = 0;
    let largestFreeBlock = 0;
    for (let order = 0; order <= MAX_ORDER; order++) {
      let n = 0;
      for (const _ of listBlocks(u32, this.headOf(order), this.region.brk >> 4)) n++;
      freeBlocks += n;
      freeBytes += n * (1 << order);
      if (n > 0) largestFreeBlock = 1 << order;
    }
    const usedBytes = u32[this.hw + H_USED_BYTES];
    // the used blocks and the bytes they were asked for, from a walk: no counter costs malloc for them
    let usedBlocks = 0;
    let asked = 0;
    for (const block of this.blocks()) {
      if (block.state !== "used") continue;
      usedBlocks++;
      asked += u32[(block.offset + ASKED) >> 2];
    }
    const headerBytes = usedBlocks * this.hb;
    const rounding = usedBytes - asked - headerBytes;
    return {
      freeBlocks,
      freeBytes,
      largestFreeBlock,
      details: {
        usedBlocks,
        usedBlockBytes: usedBytes,
        requestedBytes: asked,
        headerBytes,
        roundingBytes: rounding,
        internalFragmentation: usedBytes === 0 ? 0 : rounding / usedBytes,
        orderBitmap: `0x${u32[this.hw + H_BITMAP].toString(16).padStart(8, "0")}`,
      },
    };
  }

  check(): void {
    checkBuddy(this.memory.u32, {
      base: this.base,
      brk: this.region.brk,
      origin: this.origin,
      minOrder: this.minOrder,
      headerBytes: this.hb,
    });
  }
}

/** The binary buddy system: power-of-two blocks, split on malloc, merged with the buddy on free. */
export function buddy(): Strategy<Record<string, never>> {
  return {
    name: "buddy",
    description:
      "binary buddy: power-of-two blocks at multiples of their size, split and merged with buddies",
    options: {},
    create: (region) => new BuddyEngine(region).format(),
    attach: (region) => new BuddyEngine(region).open(),
  };
}
