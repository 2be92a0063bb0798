// The `gc` module's surface on the refcount+cycles plan, one behaviour at a time.
import { type HeapError, UseAfterFreeError } from "@heapkit/contract";
import { createHeap } from "@heapkit/heap";
import { firstFit } from "@heapkit/strategies";
import { describe, expect, it } from "vitest";
import { type CollectionInfo, DEBUG_SAVEALL, RefcountCycles } from "../src/index.js";
import { makeCycle } from "./cycles.js";

function setup(options: ConstructorParameters<typeof RefcountCycles>[1] = {}) {
  const allocator = createHeap({ strategy: firstFit(), size: 1 << 16, maxSize: 128 << 20 });
  const gc = new RefcountCycles(allocator, { profile: "plain", ...options });
  return { allocator, gc, baseline: allocator.stats().liveBlocks };
}

describe("reference counting", () => {
  it("frees at count zero, children too, and reuses nothing it should not", () => {
    const { allocator, gc, baseline } = setup();
    const h = gc.new(gc.list);
    const child = gc.allocate(gc.list);
    gc.append(h.ptr, child);
    expect(gc.refcount(child)).toBe(2);
    gc.decref(child);
    expect(gc.refcount(child)).toBe(1);
    h.release();
    expect(gc.isAlive(child)).toBe(false);
    expect(allocator.stats().liveBlocks).toBe(baseline);
  });

  it("frees a 1 000 000-long chain without recursion", () => {
    const { allocator, gc, baseline } = setup({ checked: false, enabled: false });
    const node = gc.defineType({ name: "node", refs: 1 });
    const head = gc.new(node);
    let tail = head.ptr;
    for (let i = 0; i < 1_000_000; i++) {
      const p = gc.allocate(node);
      gc.set(tail, 0, p);
      gc.decref(p);
      tail = p;
    }
    expect(gc.getCount()[0]).toBe(1_000_001);
    head.release();
    expect(allocator.stats().liveBlocks).toBe(baseline);
    expect(gc.getCount()[0]).toBe(0);
  }, 60_000);

  it("collects a 200 000-long cycle (the collector's loops are iterative too)", () => {
    const { allocator, gc, baseline } = setup({ checked: false, enabled: false });
    const node = gc.defineType({ name: "node", refs: 1 });
    const head = gc.new(node);
    let tail = head.ptr;
    for (let i = 0; i < 199_999; i++) {
      const p = gc.allocate(node);
      gc.set(tail, 0, p);
      gc.decref(p);
      tail = p;
    }
    gc.set(tail, 0, head.ptr);
    head.release();
    expect(gc.collect()).toBe(200_000);
    expect(allocator.stats().liveBlocks).toBe(baseline);
  }, 30_000);

  it("throws UseAfterFreeError for a dead object in checked mode", () => {
    const { gc } = setup();
    const p = gc.allocate(gc.list);
    gc.decref(p);
    const error = (() => {
      try {
        gc.append(p, 0);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UseAfterFreeError);
    expect((error as HeapError).code).toBe("HEAP_USE_AFTER_FREE");
    expect(() => gc.get(p, 0)).toThrow(UseAfterFreeError);
    expect(() => gc.decref(p)).toThrow(/use after free/);
  });

  it("handles hold objects; root arrays retain before they release", () => {
    const { allocator, gc, baseline } = setup();
    const roots = gc.roots(2);
    const h = gc.new(gc.list);
    roots.set(0, h.ptr);
    roots.set(0, roots.get(0)); // storing the same object again must not free it
    expect(gc.isAlive(h.ptr)).toBe(true);
    h.release();
    expect(gc.isAlive(roots.get(0))).toBe(true);
    roots.dispose();
    expect(allocator.stats().liveBlocks).toBe(baseline);
    expect(() => h.release()).toThrow(/already released/);
  });
});

describe("the cycle collector", () => {
  it("collect() returns the unreachable objects found and frees them", () => {
    const { allocator, gc, baseline } = setup();
    const [a] = makeCycle(gc);
    expect(gc.isAlive(a)).toBe(true);
    expect(gc.collect()).toBe(2);
    expect(gc.isAlive(a)).toBe(false);
    expect(gc.collect()).toBe(0);
    expect(allocator.stats().liveBlocks).toBe(baseline);
    expect(gc.getStats()[2]).toEqual({ collections: 2, collected: 2, uncollectable: 0 });
  });

  it("counts allocations minus deallocations and collects generation 0 past the threshold", () => {
    const { gc } = setup();
    gc.setThreshold(5, 2, 2);
    expect(gc.getThreshold()).toEqual([5, 2, 2]);
    const h = gc.new(gc.list);
    for (let i = 0; i < 4; i++) gc.append(h.ptr, gc.new(gc.list).ptr);
    expect(gc.getCount()).toEqual([5, 0, 0]);
    const seen: [string, CollectionInfo][] = [];
    gc.callbacks.push((phase, info) => seen.push([phase, info]));
    const p = gc.allocate(gc.list); // count 6 > 5: a generation-0 collection before it is tracked
    expect(seen).toEqual([
      ["start", { generation: 0, collected: 0, uncollectable: 0 }],
      ["stop", { generation: 0, collected: 0, uncollectable: 0 }],
    ]);
    expect(gc.getCount()).toEqual([0, 1, 0]);
    expect(gc.generationSizes()).toEqual([1, 5, 0]);
    expect(gc.getObjects(0)).toEqual([p]);
    gc.decref(p);
    expect(gc.getCount()).toEqual([0, 1, 0]);
    gc.setThreshold(0);
    for (let i = 0; i < 20; i++) gc.decref(gc.allocate(gc.list));
    expect(gc.getStats()[0].collections).toBe(1);
  });

  it("enable/disable/isEnabled", () => {
    const { gc } = setup({ thresholds: [1] });
    gc.disable();
    expect(gc.isEnabled()).toBe(false);
    const h = gc.new(gc.list);
    for (let i = 0; i < 10; i++) gc.append(h.ptr, gc.new(gc.list).ptr);
    expect(gc.getStats()[0].collections).toBe(0);
    gc.enable();
    expect(gc.isEnabled()).toBe(true);
    gc.decref(gc.allocate(gc.list));
    expect(gc.getStats()[0].collections).toBe(1);
  });

  it("freeze, unfreeze, get_freeze_count, get_objects, is_tracked", () => {
    const { gc } = setup();
    const a = gc.new(gc.list);
    const b = gc.new(gc.list);
    const leaf = gc.new(gc.defineType({ name: "leaf", refs: 0, bytes: 8 }));
    expect(gc.isTracked(a.ptr)).toBe(true);
    expect(gc.isTracked(leaf.ptr)).toBe(false);
    gc.freeze();
    expect(gc.getFreezeCount()).toBe(2);
    expect(gc.getCount()).toEqual([0, 0, 0]);
    expect(gc.getObjects()).toEqual([]);
    gc.unfreeze();
    expect(gc.getFreezeCount()).toBe(0);
    expect(gc.getObjects(2)).toEqual([a.ptr, b.ptr]);
  });

  it("get_referrers and get_referents", () => {
    const { gc } = setup();
    const a = gc.new(gc.list);
    const b = gc.new(gc.list);
    const c = gc.new(gc.list);
    gc.append(a.ptr, c.ptr);
    gc.append(b.ptr, c.ptr);
    expect(gc.getReferrers(c.ptr).sort()).toEqual([a.ptr, b.ptr].sort());
    expect(gc.getReferents(a.ptr, b.ptr)).toEqual([c.ptr, c.ptr]);
  });

  it("survivors are promoted; generation 1 survivors feed the 25 % long-lived rule", () => {
    const { gc } = setup({ thresholds: [700, 10, 10] });
    const h = gc.new(gc.list);
    for (let i = 0; i < 10; i++) gc.append(h.ptr, gc.new(gc.list).ptr);
    gc.collect(0);
    expect(gc.generationSizes()).toEqual([0, 11, 0]);
    gc.collect(1);
    expect(gc.generationSizes()).toEqual([0, 0, 11]);
    expect(gc.longLived()).toEqual([11, 0]);
    gc.collect(2);
    expect(gc.longLived()).toEqual([0, 11]);
    expect(() => gc.collect(3)).toThrow(RangeError);
  });

  it("DEBUG_SAVEALL keeps the garbage in gc.garbage and still counts it", () => {
    const { gc } = setup();
    gc.setDebug(DEBUG_SAVEALL);
    const [a, b] = makeCycle(gc);
    expect(gc.collect()).toBe(2);
    expect(gc.garbage.sort()).toEqual([a, b].sort());
    expect(gc.isAlive(a)).toBe(true);
    for (const p of gc.garbage.splice(0)) gc.decref(p);
    gc.setDebug(0);
    expect(gc.collect()).toBe(2);
    expect(gc.isAlive(a)).toBe(false);
  });

  it("a legacy finalizer makes a cycle uncollectable: it goes to gc.garbage", () => {
    const { gc } = setup();
    const legacy = gc.defineType({ name: "legacy", refs: "list", legacyFinalizer: true });
    const [a, b] = makeCycle(gc, legacy);
    const tail = gc.allocate(gc.list);
    gc.append(a, tail);
    gc.decref(tail);
    expect(gc.collect()).toBe(3);
    expect(gc.getStats()[2].uncollectable).toBe(3);
    expect(gc.getStats()[2].collected).toBe(0);
    expect(gc.garbage.sort()).toEqual([a, b].sort());
    expect(gc.isAlive(tail)).toBe(true);
  });
});

describe("finalizers (PEP 442) and weak references", () => {
  it("a finalizer runs once, then the cycle is freed", () => {
    const { gc } = setup();
    const calls: number[] = [];
    const fin = gc.defineType({ name: "fin", refs: "list", finalizer: (p) => calls.push(p) });
    const [a, b] = makeCycle(gc, fin);
    expect(gc.collect()).toBe(2);
    expect(calls.sort()).toEqual([a, b].sort());
    expect(gc.garbage).toEqual([]);
  });

  it("a resurrected object survives, moves on, and is not finalized twice", () => {
    const { gc } = setup();
    const keep = gc.roots(1);
    let calls = 0;
    const fin = gc.defineType({
      name: "phoenix",
      refs: "list",
      finalizer: (p) => {
        calls++;
        keep.set(0, p);
      },
    });
    const [a] = makeCycle(gc, fin);
    expect(gc.collect()).toBe(0);
    expect(calls).toBe(2);
    expect(gc.isAlive(a)).toBe(true);
    expect(gc.isFinalized(a)).toBe(true);
    expect(gc.generationSizes()).toEqual([0, 0, 2]);
    keep.set(0, 0);
    expect(gc.collect()).toBe(2);
    expect(calls).toBe(2);
    expect(gc.isAlive(a)).toBe(false);
  });

  it("a finalizer runs when the count reaches zero, and may resurrect", () => {
    const { gc } = setup();
    const keep = gc.roots(1);
    const fin = gc.defineType({ name: "fin", refs: 0, finalizer: (p) => keep.set(0, p) });
    const p = gc.allocate(fin);
    gc.decref(p);
    expect(gc.isAlive(p)).toBe(true);
    keep.set(0, 0);
    expect(gc.isAlive(p)).toBe(false);
  });

  it("weakrefs to garbage are cleared and their callbacks run before any finalizer", () => {
    const { gc } = setup();
    const events: string[] = [];
    const fin = gc.defineType({ name: "fin", refs: "list", finalizer: () => events.push("finalizer") });
    const [a] = makeCycle(gc, fin);
    const wr = gc.weakref(a, (w) => events.push(`callback ${gc.deref(w)}`));
    expect(gc.deref(wr)).toBe(a);
    expect(gc.collect()).toBe(2);
    expect(events).toEqual(["callback 0", "finalizer", "finalizer"]);
    expect(gc.deref(wr)).toBe(0);
    gc.decref(wr);
  });

  it("a weakref that is part of the garbage never calls back", () => {
    const { gc } = setup();
    let called = false;
    const [a, b] = makeCycle(gc);
    const wr = gc.weakref(a, () => {
      called = true;
    });
    gc.append(b, wr);
    gc.decref(wr);
    expect(gc.collect()).toBe(3);
    expect(called).toBe(false);
  });

  it("a weakref freed right after its callback counts as collected", () => {
    const { gc } = setup();
    const [a] = makeCycle(gc);
    const holder = gc.handle(0);
    const wr = gc.weakref(a, () => holder.set(0));
    holder.set(wr);
    gc.decref(wr);
    expect(gc.collect()).toBe(3);
    expect(gc.isAlive(wr)).toBe(false);
  });

  it("a refcount death clears weakrefs and runs the callback", () => {
    const { gc } = setup();
    const p = gc.allocate(gc.list);
    const seen: number[] = [];
    const wr = gc.weakref(p, (w) => seen.push(w));
    gc.decref(p);
    expect(seen).toEqual([wr]);
    expect(gc.deref(wr)).toBe(0);
  });
});
