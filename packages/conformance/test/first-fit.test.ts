import { ENGINE_HEADER_BYTES } from "@heapkit/boundary-tags";
import { HeapCorruptionError } from "@heapkit/contract";
import { createHeap, type Heap } from "@heapkit/heap";
import { firstFit } from "@heapkit/strategies";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

/** Block size the boundary-tag mechanism gives a request of `size` bytes (4-byte header, align 8). */
const blockSize = (size: number) => Math.max(16, (size + 4 + 7) & ~7);

/**
 * Where address-ordered first fit must put a block of `size` bytes, read from the block walk alone:
 * the lowest free block that is big enough; otherwise the top (the last block if it is free).
 */
function expectedFirstFit(heap: Heap, size: number): number {
  const want = blockSize(size);
  const blocks = [...heap.blocks()];
  const fit = blocks.find((b) => b.state === "free" && b.size >= want);
  if (fit !== undefined) return fit.offset + 4;
  const last = blocks[blocks.length - 2]; // the block before the epilogue
  return last.state === "free" ? last.offset + 4 : blocks[blocks.length - 1].offset + 4;
}

describe("first-fit (address tree)", () => {
  it("places every block exactly where a scan of the heap in address order would", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("malloc" as const), size: fc.integer({ min: 0, max: 600 }) }),
      fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 300 }), (ops) => {
        const heap = createHeap({ strategy: firstFit(), size: 1 << 16, maxSize: 1 << 22 });
        const live: number[] = [];
        for (const o of ops) {
          if (o.kind === "malloc") {
            const expected = expectedFirstFit(heap, o.size);
            const ptr = heap.malloc(o.size);
            expect(ptr).toBe(expected);
            live.push(ptr);
          } else if (live.length > 0) {
            heap.free(live.splice(o.pick % live.length, 1)[0]);
          }
        }
        heap.check();
      }),
      { numRuns: 150 },
    );
  });

  it("reports the largest free block from the root, and the same figures as a walk", () => {
    const heap = createHeap({ strategy: firstFit(), size: 1 << 16 });
    const ptrs = Array.from({ length: 64 }, (_, i) => heap.malloc(8 + 24 * (i % 7)));
    for (let i = 0; i < ptrs.length; i += 2) heap.free(ptrs[i]);
    const free = [...heap.blocks()].filter((b) => b.state === "free");
    const stats = heap.stats();
    expect(stats.freeBlocks).toBe(free.length);
    expect(stats.freeBytes).toBe(free.reduce((n, b) => n + b.size, 0));
    expect(stats.largestFreeBlock).toBe(Math.max(...free.map((b) => b.size)));
    expect(heap.usage().largestFreeBlock).toBe(stats.largestFreeBlock);
    heap.check();
  });

  it("names the block when a tree link is broken", () => {
    const heap = createHeap({ strategy: firstFit(), size: 1 << 16 });
    const a = heap.malloc(100);
    heap.malloc(8);
    const b = heap.malloc(300);
    heap.malloc(8);
    heap.free(a);
    heap.free(b);
    heap.check();
    // point the root's left link back at the root: a cycle, and a key out of address order
    const u32 = heap.memory.u32;
    const root = u32[(16 + ENGINE_HEADER_BYTES) >> 2]; // region base 16, then the engine's header
    u32[(root + 4) >> 2] = root;
    expect(() => heap.check()).toThrow(
      new HeapCorruptionError(root, "the address tree is out of address order"),
    );
  });

  it("keeps the LIFO variant on a list, as before", () => {
    const heap = createHeap({ strategy: firstFit({ order: "lifo" }), size: 1 << 16 });
    const a = heap.malloc(40);
    heap.malloc(8);
    const b = heap.malloc(40);
    heap.malloc(8);
    heap.free(a);
    heap.free(b);
    expect(heap.malloc(40)).toBe(b); // the last freed comes first
    expect(heap.strategy).toBe("first-fit-lifo");
  });
});
