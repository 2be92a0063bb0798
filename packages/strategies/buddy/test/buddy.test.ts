import { HeapCorruptionError } from "@heapkit/contract";
import { fixedRegion } from "@heapkit/contract/testing";
import { createHeap } from "@heapkit/heap";
import { describe, expect, it } from "vitest";
import { BUDDY_TAG, buddy, buddyOf, buddyOrder } from "../src/index.js";

describe("buddy arithmetic", () => {
  it("rounds to the next power of two, at least the minimum order", () => {
    expect(buddyOrder(1, 4)).toBe(4);
    expect(buddyOrder(16, 4)).toBe(4);
    expect(buddyOrder(17, 4)).toBe(5);
    expect(buddyOrder(4096, 4)).toBe(12);
    expect(buddyOrder(4097, 4)).toBe(13);
  });

  it("finds the buddy by flipping the order's bit", () => {
    expect(buddyOf(0x100, 6)).toBe(0x140);
    expect(buddyOf(0x140, 6)).toBe(0x100);
    expect(buddyOf(0x100, 8)).toBe(0x000);
  });
});

describe("buddy", () => {
  /** Two used blocks of 40 bytes (order 6) that are each other's buddies. */
  const buddyPair = (heap: ReturnType<typeof createHeap>): [number, number] => {
    const ptrs = Array.from({ length: 4 }, () => heap.malloc(40)); // 40 + 8 -> 64 bytes, order 6
    for (const p of ptrs) {
      const q = buddyOf(p - 8, 6) + 8;
      if (ptrs.includes(q)) return p < q ? [p, q] : [q, p];
    }
    throw new Error("no buddy pair among four consecutive blocks");
  };

  it("splits a block in halves and merges buddies back on free", () => {
    const heap = createHeap({ cache: false, strategy: buddy() });
    const [a, b] = buddyPair(heap);
    expect(heap.usableSize(a)).toBe(56);
    expect((a - 8) % 128).toBe(0);
    heap.free(a);
    expect(heap.isLive(a)).toBe(false);
    heap.free(b); // merges with a into one block of 128
    heap.check();
    expect(heap.malloc(100)).toBe(a); // 108 bytes -> order 7: exactly the merged pair
    heap.check();
  });

  it("frees everything back to maximal aligned blocks", () => {
    const heap = createHeap({ cache: false, strategy: buddy() });
    const ptrs = Array.from({ length: 300 }, (_, i) => heap.malloc(1 + ((i * 97) % 2000)));
    for (const ptr of ptrs.reverse()) heap.free(ptr);
    heap.check(); // no free block has a free buddy of its order
    for (const block of heap.blocks()) expect(block.state).not.toBe("used");
  });

  it("reports rounding (internal fragmentation) apart from headers", () => {
    const heap = createHeap({ cache: false, strategy: buddy() });
    heap.malloc(33); // block of 64: 8 bytes of header, 23 of rounding
    heap.malloc(1000); // block of 1024: 8 of header, 16 of rounding
    const details = heap.stats().details;
    expect(details.requestedBytes).toBe(1033);
    expect(details.usedBlockBytes).toBe(1088);
    expect(details.headerBytes).toBe(16);
    expect(details.roundingBytes).toBe(39);
    expect(details.internalFragmentation).toBeCloseTo(39 / 1088);
  });

  it("grows in place when the upper buddies are free, and shrinks by giving halves back", () => {
    const heap = createHeap({ cache: false, strategy: buddy() });
    const a = heap.malloc(2000); // 2048
    expect(heap.realloc(a, 100)).toBe(a); // 128: the halves above it (1024, 512, 256, 128) are freed
    expect(heap.usableSize(a)).toBe(120);
    heap.u8(a, 100).fill(9);
    const grown = heap.realloc(a, 400); // 512: its upper buddies of 128 and 256 are free
    expect(grown).toBe(a);
    expect(heap.usableSize(a)).toBe(504);
    expect(heap.u8(a, 100).every((byte) => byte === 9)).toBe(true);
    expect(heap.realloc(a, 20)).toBe(a);
    expect(heap.usableSize(a)).toBe(24);
    heap.check();
  });

  it("aligns memalign payloads, with an inner header that free follows", () => {
    const heap = createHeap({ cache: false, strategy: buddy(), align: 16 });
    const p = heap.memalign(4096, 100);
    expect(p % 4096).toBe(0);
    expect(heap.usableSize(p)).toBeGreaterThanOrEqual(100);
    heap.check();
    heap.free(p);
    heap.check();
  });

  it("grows the heap by what the block needs, not by doubling", () => {
    const heap = createHeap({ cache: false, strategy: buddy(), size: 4096, maxSize: 1 << 24 });
    heap.malloc(3000); // 4096
    const after = heap.stats().heapSize;
    heap.malloc(3000);
    expect(heap.stats().heapSize - after).toBeLessThanOrEqual(4096 + 4096);
    heap.check();
  });

  it("grows over memory full of headers that look free, without merging with any of them", () => {
    // Above the break, every 16-byte step says "free block of the order of my alignment". A growth
    // that freed its gap blocks before writing all their headers let a merge climb from a free
    // block below the break into the gap and take one of these for a buddy (found by the bench
    // replaying gcc-as twice over one memory). The sequence below builds that case exactly.
    const memory = new ArrayBuffer(1 << 16, { maxByteLength: 1 << 20 });
    const u32 = new Uint32Array(memory);
    for (let a = 32; a < 1 << 16; a += 16) u32[a >> 2] = BUDDY_TAG | Math.min(31 - Math.clz32(a & -a), 15);
    // the addresses below are for a region that starts 16 bytes past a multiple of 4096: place the heap so
    const layout = createHeap({
      cache: false,
      strategy: buddy(),
      memory: new ArrayBuffer(1 << 16, { maxByteLength: 1 << 20 }),
    });
    const base = 16 + ((4096 - ((layout.regionBase - 16) % 4096)) % 4096);
    const heap = createHeap({ cache: false, strategy: buddy(), memory, base });
    const at = heap.regionBase - 16;
    expect(at % 4096).toBe(0);
    // fill up to 1152 with used blocks, then a block of order 5 at 1152 (the break is now 1184)
    for (const size of [8, 56, 120, 120, 504, 120]) heap.malloc(size);
    const low = heap.malloc(24);
    expect(low).toBe(at + 1152 + 8);
    heap.free(low); // free, order 5, no buddy yet: the one at 1184 is above the break
    // order 8 goes at 1280: the gap is 1184 (order 5, the buddy of 1152) and 1216 (order 6), and
    // 1152 + 1184 merged is order 6 at 1152, whose buddy is 1216: not yet a block when it is asked
    const high = heap.malloc(248);
    expect(high).toBe(at + 1280 + 8);
    heap.check();
    expect(heap.stats().freeBytes).toBe(1280 - 1152);
  });

  it("frees the block at the top of a plain buffer without merging with a stale look-alike above the break", () => {
    // free reads the break only when an upper buddy's header says "free, of this order": above the
    // break of a plain ArrayBuffer such a header is a stale word, and must not be merged with
    const memory = new ArrayBuffer(1 << 16);
    const region = fixedRegion(memory);
    const engine = buddy().create(region);
    const low = engine.malloc(40); // order 6
    const top = engine.malloc(40); // order 6, the last block: its upper buddy is above the break
    const block = top - 8;
    expect(block + 64).toBe(region.brk);
    const u32 = new Uint32Array(memory);
    const upper = block ^ 64;
    expect(upper).toBeGreaterThan(block);
    u32[upper >> 2] = BUDDY_TAG | 6; // "free, order 6", past the break
    u32[(block ^ 128) >> 2] = BUDDY_TAG | 7; // and the next level up too
    const freeBefore = engine.stats().freeBytes;
    expect(engine.free(top)).toBe(56);
    engine.check();
    expect(engine.stats().freeBytes - freeBefore).toBe(64);
    expect(engine.stats().largestFreeBlock).toBe(64);
    expect(engine.malloc(40)).toBe(top); // the freed block, not a merged one
    expect(engine.free(low)).toBe(56);
    engine.check();
  });

  it("reports a block header without the tag as HeapCorruptionError naming the block", () => {
    const heap = createHeap({ cache: false, strategy: buddy() });
    const a = heap.malloc(40);
    heap.malloc(40);
    const u32 = heap.memory.u32;
    expect(u32[(a - 8) >> 2] & 0xffff0000).toBe(BUDDY_TAG);
    u32[(a - 8) >> 2] = 0x12345;
    let error: unknown;
    try {
      heap.check();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(HeapCorruptionError);
    expect((error as HeapCorruptionError).offset).toBe(a - 8);
    expect((error as HeapCorruptionError).invariant).toMatch(/tag/);
  });

  it("reports a missed merge", () => {
    const heap = createHeap({ cache: false, strategy: buddy() });
    const [a, b] = buddyPair(heap);
    heap.free(a);
    // forge b's header as free of the same order: two free buddies side by side
    heap.memory.u32[(b - 8) >> 2] = BUDDY_TAG | 6;
    expect(() => heap.check()).toThrow(/not merged/);
  });
});
