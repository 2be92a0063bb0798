// The collector after an exception: user code (finalizers, weakref callbacks, gc callbacks) that
// throws or runs out of memory never breaks the collector, and no misuse of a handle, a root array or
// allocate() leaks an object.
import { InvalidSizeError, OutOfMemoryError } from "@heapkit/contract";
import { createHeap, type Heap } from "@heapkit/heap";
import { firstFit } from "@heapkit/strategies";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  createPlan,
  type ManagedHeap,
  type ObjectType,
  planNames,
  RefcountCycles,
  type RefcountCyclesOptions,
  ReleasedRootError,
  reportUnraisable,
  type UnraisableEvent,
} from "../src/index.js";
import { makeCycle } from "./cycles.js";

function heapOf(maxSize = 16 << 20): Heap {
  return createHeap({ strategy: firstFit(), size: 1 << 16, maxSize });
}

function setup(options: RefcountCyclesOptions = {}) {
  const allocator = heapOf();
  const events: UnraisableEvent[] = [];
  const gc = new RefcountCycles(allocator, {
    profile: "plain",
    onUnraisable: (event) => events.push(event),
    ...options,
  });
  return { allocator, gc, events, baseline: allocator.stats().liveBlocks };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("an exception in user code inside the collector", () => {
  it("a finalizer that throws in collect(): reported, the cycle freed, the collector usable after", () => {
    const { allocator, gc, events, baseline } = setup();
    const boom = new Error("boom");
    const F = gc.defineType({
      name: "F",
      refs: "list",
      finalizer: () => {
        throw boom;
      },
    });
    const [a, b] = makeCycle(gc, F);
    expect(gc.collect()).toBe(2);
    expect(events.map((e) => [e.kind, e.object, e.error])).toEqual([
      ["finalizer", a, boom],
      ["finalizer", b, boom],
    ]);
    expect(gc.isAlive(a) || gc.isAlive(b)).toBe(false);
    // the next cycles are collected as ever
    makeCycle(gc, F);
    makeCycle(gc, gc.list);
    expect(gc.collect()).toBe(4);
    expect(gc.allObjects()).toEqual([]);
    expect(allocator.stats().liveBlocks).toBe(baseline);
    allocator.check();
  });

  it("a finalizer that runs out of memory in an automatic collection: allocation goes on", () => {
    const { allocator, gc, events, baseline } = setup({ thresholds: [10, 10, 10] });
    allocator.check();
    const big = gc.defineType({ name: "big", refs: 0, bytes: 1 << 20, tracked: false });
    const F = gc.defineType({
      name: "F",
      refs: "list",
      finalizer: () => {
        const held: number[] = [];
        try {
          for (;;) held.push(gc.allocate(big));
        } finally {
          for (const p of held) gc.decref(p);
        }
      },
    });
    for (let i = 0; i < 30; i++) makeCycle(gc, F);
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.kind === "finalizer" && e.error instanceof OutOfMemoryError)).toBe(true);
    gc.collect();
    expect(gc.allObjects()).toEqual([]);
    expect(allocator.stats().liveBlocks).toBe(baseline);
    allocator.check();
  });

  it("a throwing finalizer inside decref: the object is freed, not left at refcount 1", () => {
    const { allocator, gc, events, baseline } = setup();
    const F = gc.defineType({
      name: "F",
      refs: 1,
      finalizer: () => {
        throw new Error("in dealloc");
      },
    });
    const child = gc.allocate(gc.list);
    const p = gc.allocate(F);
    gc.set(p, 0, child);
    gc.decref(child);
    gc.decref(p);
    expect(events).toHaveLength(1);
    expect(gc.isAlive(p)).toBe(false);
    expect(gc.isAlive(child)).toBe(false);
    expect(allocator.stats().liveBlocks).toBe(baseline);
  });

  it("a throwing weakref callback at a refcount death: the target is freed, the weakref cleared", () => {
    const { allocator, gc, events, baseline } = setup();
    const target = gc.allocate(gc.list);
    const wr = gc.weakref(target, () => {
      throw new Error("callback");
    });
    gc.decref(target);
    expect(events.map((e) => [e.kind, e.object])).toEqual([["weakref callback", wr]]);
    expect(gc.isAlive(target)).toBe(false);
    expect(gc.deref(wr)).toBe(0);
    gc.decref(wr);
    expect(gc.allObjects()).toEqual([]);
    expect(allocator.stats().liveBlocks).toBe(baseline);
  });

  it("a throwing weakref callback in a collection: the garbage is freed, the weakref lives on", () => {
    const { allocator, gc, events, baseline } = setup();
    const [a] = makeCycle(gc, gc.list);
    const wr = gc.weakref(a, () => {
      throw new Error("callback");
    });
    expect(gc.collect()).toBe(2);
    expect(events).toHaveLength(1);
    expect(gc.isAlive(wr)).toBe(true);
    expect(gc.isTracked(wr)).toBe(true);
    gc.decref(wr);
    expect(gc.collect()).toBe(0);
    expect(allocator.stats().liveBlocks).toBe(baseline);
  });

  it("a throwing gc callback: both phases reported, the collection complete", () => {
    const { gc, events } = setup();
    gc.callbacks.push(() => {
      throw new Error("callback");
    });
    makeCycle(gc, gc.list);
    expect(gc.collect()).toBe(2);
    expect(events.map((e) => [e.kind, e.object])).toEqual([
      ["gc callback", 0],
      ["gc callback", 0],
    ]);
    expect(gc.getStats()[2]).toEqual({ collections: 1, collected: 2, uncollectable: 0 });
  });

  it("by default an exception is written to console.error and the collection goes on", () => {
    const allocator = heapOf();
    const gc = new RefcountCycles(allocator, { profile: "plain" });
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const boom = new Error("boom");
    const F = gc.defineType({
      name: "F",
      refs: "list",
      finalizer: () => {
        throw boom;
      },
    });
    const [a] = makeCycle(gc, F);
    expect(gc.collect()).toBe(2);
    expect(error).toHaveBeenCalledTimes(2);
    expect(error.mock.calls[0]).toEqual([`Exception ignored in the finalizer of the object at ${a}:`, boom]);
  });

  it("a hook that throws itself falls back to the default report", () => {
    const allocator = heapOf();
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const gc = new RefcountCycles(allocator, {
      profile: "plain",
      onUnraisable: () => {
        throw new Error("hook");
      },
    });
    gc.callbacks.push(() => {
      throw new Error("callback");
    });
    makeCycle(gc, gc.list);
    expect(gc.collect()).toBe(2);
    expect(error).toHaveBeenCalled();
    // and when even the console throws, the collector still goes on
    error.mockImplementation(() => {
      throw new Error("console");
    });
    makeCycle(gc, gc.list);
    expect(gc.collect()).toBe(2);
    expect(gc.collect()).toBe(0);
    expect(() => reportUnraisable({ error: 1, kind: "finalizer", object: 8, message: "m" })).toThrow(
      "console",
    );
  });
});

describe("misuse that used to leak an object", () => {
  it("Handle.set() after release() throws and retains nothing", () => {
    const { allocator, gc, baseline } = setup();
    const h = gc.new(gc.list);
    const other = gc.allocate(gc.list);
    h.release();
    expect(() => h.set(other)).toThrow(ReleasedRootError);
    expect(gc.refcount(other)).toBe(1);
    gc.decref(other);
    expect(allocator.stats().liveBlocks).toBe(baseline);
  });

  it("a released handle whose id a new handle took over touches nothing of the new one", () => {
    const { gc } = setup();
    const first = gc.new(gc.list);
    first.release();
    const second = gc.new(gc.list);
    expect(second.id).toBe(first.id);
    const held = second.ptr;
    const other = gc.allocate(gc.list);
    expect(() => first.set(other)).toThrow(ReleasedRootError);
    expect(() => first.release()).toThrow(ReleasedRootError);
    expect(first.ptr).toBe(0);
    expect(second.ptr).toBe(held);
    expect(gc.isAlive(held)).toBe(true);
    expect(gc.refcount(other)).toBe(1);
  });

  it("RootArray.set() after dispose() throws and retains nothing; a second dispose() throws", () => {
    const { allocator, gc, baseline } = setup();
    const roots = gc.roots(2);
    const p = gc.allocate(gc.list);
    roots.set(0, p);
    roots.dispose();
    expect(gc.refcount(p)).toBe(1);
    expect(() => roots.set(1, p)).toThrow(ReleasedRootError);
    expect(() => roots.dispose()).toThrow(ReleasedRootError);
    expect(gc.refcount(p)).toBe(1);
    gc.decref(p);
    expect(allocator.stats().liveBlocks).toBe(baseline);
  });

  it.each(planNames)("%s: allocate(list, n) that fails for memory leaves no block and no count", (plan) => {
    const allocator = heapOf(1 << 20);
    const gc: ManagedHeap = createPlan(plan, allocator, { profile: "plain" });
    const list = gc.defineType({ name: "lst", refs: "list" });
    const counts = gc.capabilities.generations?.getCount();
    const occupied = allocator.malloc(600_000); // the item block below fits the limit, not what is left
    const live = allocator.stats().liveBlocks;
    expect(() => gc.allocate(list, 150_000)).toThrow(OutOfMemoryError);
    expect(allocator.stats().liveBlocks).toBe(live);
    allocator.free(occupied);
    expect(gc.capabilities.generations?.getCount()).toEqual(counts);
    expect(gc.allObjects()).toEqual([]);
    allocator.check();
  });

  it("a list reused from the free list goes back to it when its items cannot be had", () => {
    const allocator = heapOf(1 << 20);
    const gc = new RefcountCycles(allocator, { profile: "cpython" });
    gc.decref(gc.allocate(gc.list));
    expect(gc.freeListLength()).toBe(1);
    allocator.malloc(600_000); // the item block below fits the limit, not what is left
    expect(() => gc.allocate(gc.list, 150_000)).toThrow(OutOfMemoryError);
    expect(gc.freeListLength()).toBe(1);
    expect(gc.getObjects()).toEqual([]);
  });

  it.each(planNames)(
    "%s: a capacity that is negative, fractional or not a number is an InvalidSizeError",
    (plan) => {
      const allocator = heapOf();
      const gc: ManagedHeap = createPlan(plan, allocator);
      const list = gc.defineType({ name: "lst", refs: "list" });
      const live = allocator.stats().liveBlocks;
      for (const capacity of [-3, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 29]) {
        expect(() => gc.allocate(list, capacity)).toThrow(InvalidSizeError);
      }
      expect(allocator.stats().liveBlocks).toBe(live);
      expect(gc.allObjects()).toEqual([]);
    },
  );
});

// ---------------------------------------------------------------------------------------------------
// The property: random graphs, and every user callback throwing or running out of memory in turn at
// every point it can run — gc callbacks around each collection, weakref callbacks and finalizers in a
// collection and at refcount deaths. The same ops run on a twin heap whose callbacks return quietly:
// an exception reported and ignored must change nothing, so every collection of the two returns the
// same number, the same objects survive, the heap checks, and nothing leaks.

type Behaviour = "return" | "throw" | "oom";

type Op =
  | { kind: "new"; root: number; finalizer: boolean }
  | { kind: "link"; from: number; to: number; slot: number }
  | { kind: "unlink"; from: number; slot: number }
  | { kind: "drop"; root: number }
  | { kind: "weakref"; target: number }
  | { kind: "dropWeakref"; index: number }
  | { kind: "collect"; generation: number };

const ROOTS = 5;

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("new" as const),
      root: fc.nat(ROOTS - 1),
      finalizer: fc.boolean(),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("link" as const),
      from: fc.nat(),
      to: fc.nat(),
      slot: fc.nat(1),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("unlink" as const), from: fc.nat(), slot: fc.nat(1) }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("drop" as const), root: fc.nat(ROOTS - 1) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("weakref" as const), target: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("dropWeakref" as const), index: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("collect" as const), generation: fc.nat(2) }) },
);

/** The objects reachable from the roots, by id, in the naive model. */
function reachable(refs: Map<number, number[]>, roots: number[]): Set<number> {
  const seen = new Set<number>();
  const todo = roots.filter((r) => r >= 0);
  while (todo.length > 0) {
    const id = todo.pop() as number;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const c of refs.get(id) ?? []) if (c >= 0) todo.push(c);
  }
  return seen;
}

/** One heap running the ops; its user callbacks behave as `behaviours` says, call after call, in turn. */
class Run {
  readonly allocator = heapOf(2 << 20);
  readonly events: UnraisableEvent[] = [];
  readonly gc: RefcountCycles;
  readonly baseline: number;
  readonly collections: number[] = [];
  private readonly node: ObjectType;
  private readonly finalized: ObjectType;
  private readonly blob: ObjectType;
  private readonly roots;
  private readonly ptrOf = new Map<number, number>();
  private readonly weakrefs: number[] = [];
  private calls = 0;
  raised = 0;

  constructor(
    private readonly behaviours: readonly Behaviour[],
    thresholds: [number, number, number],
  ) {
    this.gc = new RefcountCycles(this.allocator, {
      profile: "cpython",
      thresholds,
      onUnraisable: (event) => this.events.push(event),
    });
    const gc = this.gc;
    this.baseline = this.allocator.stats().liveBlocks;
    this.node = gc.defineType({ name: "node", refs: 2, bytes: 4 });
    this.finalized = gc.defineType({
      name: "finalized",
      refs: 2,
      bytes: 4,
      finalizer: () => this.userCode(),
    });
    this.blob = gc.defineType({ name: "blob", refs: 0, bytes: 64 << 10, tracked: false });
    gc.callbacks.push((phase, info) => {
      if (phase === "stop") this.collections.push(info.collected + info.uncollectable);
      this.userCode();
    });
    this.roots = gc.roots(ROOTS);
  }

  /** What every user callback does: return, throw, or allocate until memory runs out (then let go). */
  private userCode(): void {
    if (this.behaviours.length === 0) return;
    const behaviour = this.behaviours[this.calls++ % this.behaviours.length];
    if (behaviour === "return") return;
    this.raised++;
    if (behaviour === "throw") throw new Error(`user code ${this.calls}`);
    const held: number[] = [];
    try {
      for (;;) held.push(this.gc.allocate(this.blob));
    } finally {
      for (const p of held) this.gc.decref(p);
    }
  }

  apply(op: Op, id: number, live: number[]): void {
    const gc = this.gc;
    switch (op.kind) {
      case "new": {
        const type = op.finalizer ? this.finalized : this.node;
        const p = gc.allocate(type);
        this.allocator.memory.i32[(p + type.bytesOffset) >> 2] = id;
        this.ptrOf.set(id, p);
        this.roots.set(op.root, p);
        gc.decref(p);
        break;
      }
      case "link":
        gc.set(this.ptr(live[op.from % live.length]), op.slot, this.ptr(live[op.to % live.length]));
        break;
      case "unlink":
        gc.set(this.ptr(live[op.from % live.length]), op.slot, 0);
        break;
      case "drop":
        this.roots.set(op.root, 0);
        break;
      case "weakref":
        this.weakrefs.push(gc.weakref(this.ptr(live[op.target % live.length]), () => this.userCode()));
        break;
      case "dropWeakref": {
        const [wr] = this.weakrefs.splice(op.index % this.weakrefs.length, 1);
        gc.decref(wr);
        break;
      }
      case "collect":
        gc.collect(op.generation);
        break;
    }
  }

  private ptr(id: number): number {
    return this.ptrOf.get(id) as number;
  }

  /** Ids of the graph's objects alive now. */
  aliveIds(): number[] {
    const gc = this.gc;
    return gc
      .allObjects()
      .filter((p) => gc.typeOf(p) === this.node || gc.typeOf(p) === this.finalized)
      .map((p) => this.allocator.memory.i32[(p + gc.typeOf(p).bytesOffset) >> 2])
      .sort((a, b) => a - b);
  }

  /** Lets go of everything JS holds. */
  dispose(): void {
    this.roots.dispose();
    for (const wr of this.weakrefs.splice(0)) this.gc.decref(wr);
  }
}

describe("every user callback throwing or running out of memory at every point", () => {
  it("changes nothing but the reports: same collections, same survivors, heap checks, nothing leaks", () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { minLength: 1, maxLength: 80 }),
        fc.array(fc.constantFrom<Behaviour>("return", "throw", "oom"), { minLength: 1, maxLength: 6 }),
        fc.tuple(
          fc.integer({ min: 0, max: 8 }),
          fc.integer({ min: 0, max: 3 }),
          fc.integer({ min: 0, max: 3 }),
        ),
        (ops, behaviours, thresholds) => {
          const faulty = new Run(behaviours, thresholds);
          const quiet = new Run([], thresholds);
          const refs = new Map<number, number[]>();
          const roots = new Array<number>(ROOTS).fill(-1);
          let weakrefs = 0;
          let nextId = 0;
          for (const op of ops) {
            const live = [...reachable(refs, roots)].sort((a, b) => a - b);
            if ((op.kind === "link" || op.kind === "unlink" || op.kind === "weakref") && live.length === 0)
              continue;
            if (op.kind === "dropWeakref" && weakrefs === 0) continue;
            const id = nextId;
            faulty.apply(op, id, live);
            quiet.apply(op, id, live);
            if (op.kind === "new") {
              refs.set(id, [-1, -1]);
              roots[op.root] = id;
              nextId++;
            } else if (op.kind === "link" || op.kind === "unlink") {
              const from = live[op.from % live.length];
              (refs.get(from) as number[])[op.slot] = op.kind === "link" ? live[op.to % live.length] : -1;
            } else if (op.kind === "drop") {
              roots[op.root] = -1;
            } else if (op.kind === "weakref") {
              weakrefs++;
            } else if (op.kind === "dropWeakref") {
              weakrefs--;
            }
            expect(faulty.collections).toEqual(quiet.collections);
          }
          expect(faulty.events).toHaveLength(faulty.raised);
          faulty.allocator.check();
          // the next collection returns what the quiet twin's does, and leaves exactly the reachable
          expect(faulty.gc.collect()).toBe(quiet.gc.collect());
          const model = [...reachable(refs, roots)].sort((a, b) => a - b);
          expect(faulty.aliveIds()).toEqual(model);
          expect(quiet.aliveIds()).toEqual(model);
          // live blocks equal reachable objects: one block each (graph objects and the weakrefs held)
          const blocks = faulty.allocator.stats().liveBlocks - faulty.baseline;
          expect(faulty.gc.allObjects()).toHaveLength(model.length + weakrefs);
          expect(blocks).toBe(model.length + weakrefs);
          // and dropping every root leaves nothing behind
          for (const run of [faulty, quiet]) {
            run.dispose();
            run.gc.collect();
            expect(run.gc.allObjects()).toEqual([]);
            run.allocator.check();
            expect(run.allocator.stats().liveBlocks).toBe(run.baseline);
          }
        },
      ),
      { numRuns: 120 },
    );
  }, 120_000);
});
