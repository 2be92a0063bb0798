// The tracing plans: mark-sweep and mark-compact.
import { UseAfterFreeError } from "@heapkit/contract";
import { createHeap, type Heap } from "@heapkit/heap";
import { firstFit } from "@heapkit/strategies";
import { describe, expect, it } from "vitest";
import { type Handle, MarkCompact, MarkSweep } from "../src/index.js";

function heapOf(maxSize = 64 << 20): Heap {
  return createHeap({ strategy: firstFit(), size: 1 << 16, maxSize });
}

/** The end of the highest used block: how much of the heap the live data spans. */
function highWater(heap: Heap): number {
  let top = 0;
  for (const b of heap.blocks()) if (b.state === "used") top = Math.max(top, b.offset + b.size);
  return top - heap.regionBase;
}

describe.each([
  ["mark-sweep", (h: Heap) => new MarkSweep(h)],
  ["mark-compact", (h: Heap) => new MarkCompact(h, { compactRatio: 0 })],
] as const)("%s", (_name, make) => {
  it("frees cycles and chains nobody reaches, keeps what the roots reach", () => {
    const allocator = heapOf();
    const gc = make(allocator);
    const node = gc.defineType({ name: "node", refs: 2, bytes: 8 });
    const kept = gc.new(node);
    const a = gc.allocate(node);
    const b = gc.allocate(node);
    gc.set(a, 0, b);
    gc.set(b, 0, a); // a cycle nobody holds
    gc.set(kept.ptr, 1, gc.allocate(node)); // a child the root holds
    expect(gc.collect()).toBe(2);
    expect(gc.allObjects()).toHaveLength(2);
    expect(gc.isAlive(gc.get(kept.ptr, 1))).toBe(true);
    kept.release();
    expect(gc.collect()).toBe(2);
    expect(gc.allObjects()).toEqual([]);
    allocator.check();
  });

  it("collects when an allocation finds no room, instead of failing", () => {
    const allocator = heapOf(256 << 10);
    const gc = make(allocator);
    const blob = gc.defineType({ name: "blob", refs: 1, bytes: 1000 });
    const keep = gc.new(blob);
    for (let i = 0; i < 2000; i++) gc.allocate(blob); // 2 MB of garbage through a 256 KiB heap
    expect(gc.getStats().collections).toBeGreaterThan(0);
    expect(gc.isAlive(keep.ptr)).toBe(true);
    allocator.check();
  });

  it("collects every `threshold` allocations when asked to", () => {
    const allocator = heapOf();
    const gc = new MarkSweep(allocator, { threshold: 10 });
    const t = gc.defineType({ name: "t", refs: 0 });
    for (let i = 0; i < 55; i++) gc.allocate(t);
    expect(gc.getStats().collections).toBe(5);
  });

  it("reports use after free in checked mode", () => {
    const allocator = heapOf();
    const gc = make(allocator);
    const t = gc.defineType({ name: "t", refs: 1 });
    const p = gc.allocate(t);
    gc.collect();
    expect(() => gc.get(p, 0)).toThrow(UseAfterFreeError);
  });
});

describe("mark-sweep", () => {
  it("marks a 300 000-long chain with an explicit stack", () => {
    const allocator = heapOf();
    const gc = new MarkSweep(allocator, { checked: false });
    const node = gc.defineType({ name: "node", refs: 1 });
    const head = gc.new(node);
    let tail = head.ptr;
    for (let i = 0; i < 300_000; i++) {
      const p = gc.allocate(node);
      gc.set(tail, 0, p);
      tail = p;
    }
    expect(gc.collect()).toBe(0);
    head.release();
    expect(gc.collect()).toBe(300_001);
  }, 30_000);
});

describe("mark-compact", () => {
  it("squeezes out fragmentation: high-water drops, the largest free block grows, handles follow", () => {
    const allocator = heapOf();
    // no compaction but the one asked for below
    const gc = new MarkCompact(allocator, { compactRatio: Number.POSITIVE_INFINITY });
    const small = gc.defineType({ name: "small", refs: 2, bytes: 24 });
    const big = gc.defineType({ name: "big", refs: 1, bytes: 200 });
    const handles: Handle[] = [];
    for (let i = 0; i < 2000; i++) {
      const h = gc.new(i % 3 === 0 ? big : small);
      new DataView(allocator.memory.buffer).setInt32(h.ptr + gc.typeOf(h.ptr).bytesOffset, i, true);
      if (i > 0) gc.set(h.ptr, 0, handles[i - 1].ptr); // a chain through every object
      handles.push(h);
    }
    const list = gc.new(gc.defineType({ name: "list", refs: "list" }));
    for (let i = 0; i < 2000; i += 7) gc.append(list.ptr, handles[i].ptr);
    // keep every fourth handle: the rest of the chain stays reachable through the kept ones only if
    // they link to it, so cut the chain between kept objects to make holes everywhere
    for (let i = 0; i < 2000; i++) {
      if (i % 4 !== 0) {
        handles[i].release();
      } else {
        gc.set(handles[i].ptr, 0, 0);
      }
    }
    // mark and sweep first: holes everywhere
    gc.collect();
    const before = { highWater: highWater(allocator), largest: allocator.stats().largestFreeBlock };
    const report = gc.compact();
    allocator.check();
    const after = { highWater: highWater(allocator), largest: allocator.stats().largestFreeBlock };
    console.log(
      `mark-compact: high-water ${before.highWater} → ${after.highWater} bytes, ` +
        `largest free block ${before.largest} → ${after.largest} bytes, ${report.moved} objects moved`,
    );
    expect(report.moved).toBeGreaterThan(0);
    expect(after.highWater).toBeLessThan(before.highWater * 0.6);
    expect(after.largest).toBeGreaterThan(before.largest);
    // every kept handle still finds its object, with its bytes and its place in the list
    for (let i = 0; i < 2000; i += 4) {
      const p = handles[i].ptr;
      expect(gc.isAlive(p)).toBe(true);
      expect(new DataView(allocator.memory.buffer).getInt32(p + gc.typeOf(p).bytesOffset, true)).toBe(i);
    }
    const listed = gc.referencesOf(list.ptr);
    expect(listed).toHaveLength(Math.ceil(2000 / 7));
    for (let k = 0; k < listed.length; k++) {
      const p = listed[k];
      expect(new DataView(allocator.memory.buffer).getInt32(p + gc.typeOf(p).bytesOffset, true)).toBe(k * 7);
    }
  });
});
