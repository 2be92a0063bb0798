// Property tests: random graphs and ops on every plan; after a full collection the surviving objects
// are exactly those a naive reachability model says are reachable, the heap checks, nothing leaks.
import { createHeap } from "@heapkit/heap";
import { firstFit } from "@heapkit/strategies";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createPlan, type ManagedHeap, type PlanName, planNames, RefcountCycles } from "../src/index.js";

type Op =
  | { kind: "new"; root: number; list: boolean }
  | { kind: "link"; from: number; to: number; slot: number }
  | { kind: "unlink"; from: number; slot: number }
  | { kind: "drop"; root: number }
  | { kind: "collect" };

const ROOTS = 6;

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("new" as const), root: fc.nat(ROOTS - 1), list: fc.boolean() }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("link" as const),
      from: fc.nat(),
      to: fc.nat(),
      slot: fc.nat(3),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("unlink" as const), from: fc.nat(), slot: fc.nat(3) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("drop" as const), root: fc.nat(ROOTS - 1) }) },
  { weight: 1, arbitrary: fc.constant({ kind: "collect" as const }) },
);

/** The naive model: objects, their references (slot order) and the roots. */
class Model {
  refs = new Map<number, number[]>();
  roots: number[] = new Array(ROOTS).fill(-1);

  reachable(): Set<number> {
    const seen = new Set<number>();
    const todo = this.roots.filter((r) => r >= 0);
    while (todo.length > 0) {
      const id = todo.pop() as number;
      if (seen.has(id)) continue;
      seen.add(id);
      for (const c of this.refs.get(id) ?? []) if (c >= 0) todo.push(c);
    }
    return seen;
  }
}

function runOps(planName: PlanName, ops: Op[], thresholds: [number, number, number]) {
  const allocator = createHeap({ strategy: firstFit(), size: 1 << 16, maxSize: 16 << 20 });
  const heap: ManagedHeap = createPlan(planName, allocator, {
    profile: "cpython",
    thresholds,
    threshold: thresholds[0],
    compactRatio: 0,
  });
  const baseline = allocator.stats().liveBlocks;
  const pair = heap.defineType({ name: "pair", refs: 4, bytes: 4 });
  const list = heap.defineType({ name: "lst", refs: "list", bytes: 4, freeList: 3 });
  const roots = heap.roots(ROOTS);
  const model = new Model();
  let ptrOf = new Map<number, number>();
  let nextId = 0;
  const idAt = (p: number) => allocator.memory.i32[(p + heap.typeOf(p).bytesOffset) >> 2];
  const refresh = () => {
    // moving plans: find every object again by the id in its bytes
    ptrOf = new Map(heap.allObjects().map((p) => [idAt(p), p]));
  };
  const isList = new Map<number, boolean>();

  for (const op of ops) {
    const live = [...model.reachable()].sort((a, b) => a - b);
    switch (op.kind) {
      case "new": {
        const type = op.list ? list : pair;
        const p = heap.allocate(type);
        allocator.memory.i32[(p + type.bytesOffset) >> 2] = nextId;
        if (heap.plan === "mark-compact") {
          // a collection inside allocate may have moved everything (not the new object)
          refresh();
        }
        ptrOf.set(nextId, p);
        isList.set(nextId, op.list);
        model.refs.set(nextId, op.list ? [] : [-1, -1, -1, -1]);
        roots.set(op.root, p);
        heap.releaseRef(p);
        model.roots[op.root] = nextId;
        nextId++;
        break;
      }
      case "link": {
        if (live.length === 0) break;
        const from = live[op.from % live.length];
        const to = live[op.to % live.length];
        const fp = ptrOf.get(from) as number;
        const tp = ptrOf.get(to) as number;
        if (isList.get(from)) {
          heap.append(fp, tp);
          model.refs.get(from)?.push(to);
        } else {
          heap.set(fp, op.slot, tp);
          (model.refs.get(from) as number[])[op.slot] = to;
        }
        break;
      }
      case "unlink": {
        if (live.length === 0) break;
        const from = live[op.from % live.length];
        const fp = ptrOf.get(from) as number;
        const refs = model.refs.get(from) as number[];
        if (isList.get(from)) {
          if (refs.length === 0) break;
          const k = op.slot % refs.length;
          heap.removeAt(fp, k);
          refs.splice(k, 1);
        } else {
          heap.set(fp, op.slot, 0);
          refs[op.slot] = -1;
        }
        break;
      }
      case "drop":
        roots.set(op.root, 0);
        model.roots[op.root] = -1;
        break;
      case "collect":
        heap.collect();
        if (heap.plan === "mark-compact") refresh();
        break;
    }
    if (heap.plan === "mark-compact") refresh();
    // never too early: every reachable object is alive, and is the object the model thinks
    for (const id of model.reachable()) {
      const p = ptrOf.get(id) as number;
      expect(heap.isAlive(p)).toBe(true);
      expect(idAt(p)).toBe(id);
    }
  }
  // after a full collection, exactly the reachable objects survive
  heap.collect();
  if (heap.plan === "mark-compact") refresh();
  const alive = heap
    .allObjects()
    .map(idAt)
    .sort((a, b) => a - b);
  const reachable = [...model.reachable()].sort((a, b) => a - b);
  expect(alive).toEqual(reachable);
  allocator.check();
  // drop everything: nothing may leak (a full collection also empties the free lists)
  roots.dispose();
  heap.collect();
  expect(heap.allObjects()).toEqual([]);
  allocator.check();
  expect(allocator.stats().liveBlocks).toBe(baseline);
}

describe.each(planNames)("plan %s", (planName) => {
  it("frees exactly the unreachable objects; the heap checks; nothing leaks", () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { minLength: 1, maxLength: 120 }),
        fc.tuple(
          fc.integer({ min: 0, max: 12 }),
          fc.integer({ min: 0, max: 4 }),
          fc.integer({ min: 0, max: 4 }),
        ),
        (ops, thresholds) => runOps(planName, ops, thresholds),
      ),
      { numRuns: 150 },
    );
  });
});

describe("refcount+cycles: what refcounting alone frees", () => {
  it("frees acyclic garbage at once, without a collection", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), (n) => {
        const allocator = createHeap({ strategy: firstFit(), size: 1 << 16, maxSize: 16 << 20 });
        const gc = new RefcountCycles(allocator, { profile: "plain", enabled: false });
        const node = gc.defineType({ name: "node", refs: 1 });
        const baseline = allocator.stats().liveBlocks;
        const head = gc.new(node);
        let tail = head.ptr;
        for (let i = 0; i < n; i++) {
          const p = gc.allocate(node);
          gc.set(tail, 0, p);
          gc.decref(p);
          tail = p;
        }
        expect(gc.allObjects()).toHaveLength(n + 1);
        head.release();
        expect(gc.allObjects()).toHaveLength(0);
        expect(allocator.stats().liveBlocks).toBe(baseline);
        allocator.check();
      }),
      { numRuns: 30 },
    );
  });
});
