// What each plan declares: its header layout and its capabilities, instead of callers testing its class.
import { createHeap } from "@heapkit/heap";
import { firstFit } from "@heapkit/strategies";
import { describe, expect, it } from "vitest";
import { createPlan, layout, type PlanName, planNames } from "../src/index.js";

const heap = () => createHeap({ strategy: firstFit(), size: 1 << 16, maxSize: 16 << 20 });

const expected: Record<
  PlanName,
  { counted: boolean; refcounts: boolean; generations: boolean; compaction: boolean }
> = {
  "refcount+cycles": { counted: true, refcounts: true, generations: true, compaction: false },
  "mark-sweep": { counted: false, refcounts: false, generations: false, compaction: false },
  "mark-compact": { counted: false, refcounts: false, generations: false, compaction: true },
};

describe.each(planNames)("%s", (name) => {
  const want = expected[name];

  it("declares its header: a tracing plan's objects carry no refcount word", () => {
    const gc = createPlan(name, heap());
    expect(gc.header).toBe(want.counted ? layout.COUNTED_HEADER : layout.TRACED_HEADER);
    const node = gc.defineType({ name: "node", refs: 1, bytes: 8 });
    // the one slot starts right after the header; the raw bytes at the next 8-byte boundary
    expect(node.bytesOffset).toBe(want.counted ? 40 : 32);
    const p = gc.allocate(node);
    gc.set(p, 0, p);
    expect(gc.allocator.memory.i32[(p + gc.header.bytes) >> 2]).toBe(p);
  });

  it("declares its capabilities, null for what it cannot do", () => {
    const gc = createPlan(name, heap());
    const { refcounts, generations, weakrefs, compaction } = gc.capabilities;
    expect(refcounts !== null).toBe(want.refcounts);
    expect(generations !== null).toBe(want.generations);
    expect(weakrefs !== null).toBe(want.refcounts);
    expect(compaction !== null).toBe(want.compaction);
    const p = gc.allocate(gc.defineType({ name: "t", refs: 1 }));
    if (refcounts !== null) expect(refcounts.refcount(p)).toBe(1);
    if (generations !== null) expect(generations.generationSizes()).toEqual([1, 0, 0]);
    if (compaction !== null) {
      const h = gc.handle(p);
      compaction.compact();
      expect(gc.isAlive(h.ptr)).toBe(true);
    }
  });
});
