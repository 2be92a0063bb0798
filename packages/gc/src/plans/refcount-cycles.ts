/**
 * Plan 1 — reference counting plus CPython 3.11's generational cycle collector (`Modules/gcmodule.c`),
 * written from the algorithm, over objects in any allocator.
 *
 * Reference counts free an object the moment its count reaches zero; its children are released in
 * turn from an explicit stack, so a chain of a million objects frees without recursion. Cycles are
 * found by the collector:
 *
 * ```
 *  generations (list heads in the heap)     count[g]: gen 0 — allocations minus deallocations
 *   gen0 ─► o ─► o ─► …    threshold 700              gen 1 — gen-0 collections since the last gen-1
 *   gen1 ─► o ─► …         threshold 10               gen 2 — gen-1 collections since the last gen-2
 *   gen2 ─► o ─► …         threshold 10 (+ the 25 % long-lived rule)
 *   permanent ─► …         gc.freeze()
 *
 *  collect(g):
 *   1. count[g+1] += 1; count[0..g] = 0; merge gens 0..g into gen g ("young")
 *   2. update_refs:      gc_refs := refcount, for every young object (it is COLLECTING)
 *   3. subtract_refs:    for every reference young → young, gc_refs −= 1
 *                        ⇒ gc_refs > 0 exactly for objects referenced from outside young
 *   4. move_unreachable: walk young in order; gc_refs == 0 → move to "unreachable" (tentatively);
 *                        gc_refs > 0 → reachable: each COLLECTING child gets gc_refs 1 and, if it
 *                        was moved to "unreachable", goes back to young's tail (it is visited later)
 *   5. survivors (what is left in young) go to gen g+1; gen-1 survivors add to long_lived_pending,
 *      a full collection sets long_lived_total = survivors, pending = 0
 *   6. legacy finalizers: unreachable objects with one, and all they reach, are uncollectable
 *   7. weak references to unreachable objects are cleared; callbacks of weakrefs that are not
 *      themselves garbage run now (a weakref freed right after its callback counts as collected)
 *   8. finalizers run once each (PEP 442), then 2–4 again over the unreachable set: resurrected
 *      objects go to the older generation
 *   9. the rest is cleared (every reference slot released), which frees the cycles by refcount
 *  10. a full collection clears the free lists; return uncollectable + collected
 *
 *  steps 2-4 (deduceUnreachable) run over dense arrays indexed by position in young, 1 … n:
 *
 *   heap (one resizable buffer)                        dense Int32Arrays (plain, grown at track time)
 *   young ─► o ─► o ─► …     number: walk once ──►     objectAt [p1 p2 …]   gcRefs [rc1 rc2 …]
 *            scratch := position                       edges    [targets' addresses, object by object]
 *            (0 outside a collection)                  edgeStart[where each object's edges begin]
 *                            subtract: ◄── one random read per reference: address → its scratch word
 *                                      = position (0: not in young); then gcRefs[position] −= 1
 *                            move_unreachable over positions: the walk is 1 … n, then the objects
 *                                      that came back (a queue); "unreachable" is the objects moved
 *                                      out, in order, less those that came back — no list links
 *   young ◄── write back: generations, flags, scratch := 0; relinked only if something moved
 * ```
 *
 * The `cpython` profile also models what makes CPython's counts move without an allocation: lists are
 * taken from and returned to a free list of up to 80 without touching `count[0]`.
 *
 * @module
 */
import { type Allocator, NULL_PTR, type Ptr } from "@heapkit/contract";
import * as layout from "../layout.js";
import { ManagedHeap, type ManagedHeapOptions } from "../managed.js";
import type { ObjectType } from "../types.js";

// Module-local copies of the layout constants: some toolchains (vite/vitest) turn every use of an
// imported binding into a property read on a module object, which the hot loops cannot afford.
const {
  F_ALIVE,
  F_COLLECTING,
  F_FINALIZED,
  F_UNREACHABLE,
  F_WEAKREFS,
  GEN_MASK,
  GEN_PERMANENT,
  GEN_SHIFT,
  GEN_UNTRACKED,
  GEN_WORKING,
  TYPE_MASK,
  W_CAP,
  W_INFO,
  W_NEXT,
  W_NREFS,
  W_PREV,
  W_RC,
  W_REFS,
  W_SCRATCH,
} = layout;

/** Number of generations (the permanent one aside). */
export const NUM_GENERATIONS = 3;
/** `gc.DEBUG_SAVEALL`: unreachable objects go to `garbage` instead of being freed. */
export const DEBUG_SAVEALL = 32;
/** CPython's list free-list capacity (`PyList_MAXFREELIST`). */
export const CPYTHON_LIST_FREELIST = 80;

// list heads
const H_GEN0 = 0;
const H_PERMANENT = 3;
const H_UNREACHABLE = 4;
const H_FINALIZERS = 5;
const H_WRCB = 6;
const H_STILL = 7;
const H_SEEN = 8;
const HEAD_COUNT = 9;

const CLEAR_GEN = ~GEN_MASK;
/** Flag of a position's gc_refs word during deduceUnreachable: in the set being examined. */
const S_COLLECTING = 1;
/** Flag of a position's gc_refs word during deduceUnreachable: tentatively unreachable. */
const S_UNREACHABLE = 2;
/**
 * A position's word once move_unreachable has visited it as reachable (no longer COLLECTING, so it is
 * not visited again): 0 if it never left its place in young, S_VISITED if it had been moved out and
 * came back to young's tail.
 */
const S_VISITED = S_UNREACHABLE;

/**
 * A new `Int32Array` of `size` holding `old`'s entries then zeros, every page of it written once. The
 * zeros are already there; writing them makes the kernel map the pages now rather than at their first
 * use (a large array is fresh memory, mapped page by page on first touch: 10-50 µs a page on the VM
 * measured). A first collection of 100 000 objects used to spend ~4/5 of its time in those faults.
 */
function faultedIn(size: number, old?: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const array = new Int32Array(size);
  if (old !== undefined) array.set(old);
  array.fill(0, old === undefined ? 0 : old.length);
  return array;
}

/** Per-generation statistics, as `gc.get_stats()` reports them. */
export interface GenerationStats {
  /** Collections of this generation. */
  collections: number;
  /** Objects collected by them. */
  collected: number;
  /** Uncollectable objects they found. */
  uncollectable: number;
}

/** What a collection callback receives (CPython's `info` dict). */
export interface CollectionInfo {
  /** The generation being collected. */
  generation: number;
  /** Objects collected (0 at "start"). */
  collected: number;
  /** Uncollectable objects found (0 at "start"). */
  uncollectable: number;
}

/** A `gc.callbacks` entry: called with "start" before and "stop" after every collection. */
export type CollectionCallback = (phase: "start" | "stop", info: CollectionInfo) => void;

/** A weak reference's callback: receives the weakref object, whose referent is already cleared. */
export type WeakrefCallback = (weakref: Ptr) => void;

/** Options of {@link RefcountCycles}. */
export interface RefcountCyclesOptions extends ManagedHeapOptions {
  /**
   * `cpython` (default): the built-in `list` type keeps a free list of up to 80, as CPython 3.11 does,
   * so its counts match CPython's number for number. `plain`: no free list.
   */
  profile?: "cpython" | "plain";
  /** Thresholds (default 700, 10, 10). */
  thresholds?: readonly [number, number?, number?];
  /** Automatic collection on (default true, like a fresh interpreter). */
  enabled?: boolean;
}

/**
 * Reference counting plus CPython 3.11's generational cycle collector: the `gc` module's surface over
 * objects in any allocator. See the module drawing for the algorithm.
 */
export class RefcountCycles extends ManagedHeap {
  /** The plan's name. */
  readonly plan = "refcount+cycles" as const;
  /** The profile it was made with. */
  readonly profile: "cpython" | "plain";
  /** The built-in list type (CPython's `list`; a free list of 80 in the `cpython` profile). */
  readonly list: ObjectType;
  /** The built-in weak reference type (tracked, no traversed references). */
  readonly weakrefType: ObjectType;
  /** `gc.callbacks`: called with "start"/"stop" around every collection, automatic or not. */
  readonly callbacks: CollectionCallback[] = [];
  /** `gc.garbage`: uncollectable objects (and, with {@link DEBUG_SAVEALL}, all unreachable ones); each holds a reference. */
  readonly garbage: Ptr[] = [];

  private readonly count = [0, 0, 0];
  private readonly threshold = [700, 10, 10];
  private readonly genSize = [0, 0, 0, 0];
  private readonly stats: GenerationStats[] = [0, 1, 2].map(() => ({
    collections: 0,
    collected: 0,
    uncollectable: 0,
  }));
  private enabled: boolean;
  private collecting = false;
  private debug = 0;
  private longLivedPending = 0;
  private longLivedTotal = 0;
  private readonly freeLists = new Map<number, Ptr[]>();
  private deallocating = false;
  private deallocTop = 0;
  private deallocStack: Int32Array = new Int32Array(1024);
  private readonly weakrefsTo = new Map<Ptr, Ptr[]>();
  private readonly weakCallbacks = new Map<Ptr, WeakrefCallback>();
  private anyFinalizer = false;
  private anyLegacy = false;
  // The dense working arrays of deduceUnreachable, indexed by an object's position in the list being
  // examined. Grown as objects are tracked (see provisionWorkingArrays), kept between collections.
  /** Position → object address. */
  private objectAt = new Int32Array(0);
  /** Position → `gc_refs << 2 | S_UNREACHABLE | S_COLLECTING` while in the set; see {@link S_VISITED}. */
  private gcRefs = new Int32Array(0);
  /** Position → index of its first reference in `edges`; the entry after the last object ends them. */
  private edgeStart = new Int32Array(0);
  /** The references of the set's objects, object by object in slot order; positions after subtractRefs. */
  private edges = new Int32Array(0);
  /** The positions moved to the unreachable list, in the order they were moved. */
  private movedOut = new Int32Array(0);
  /** The positions that came back from the unreachable list to young's tail, in that order. */
  private cameBack = new Int32Array(0);
  /** How many entries of `cameBack` the last moveUnreachable filled. */
  private cameBackCount = 0;
  /** Reference slots (capacity) of the tracked objects: a bound on what a collection copies into `edges`. */
  private trackedSlots = 0;

  constructor(allocator: Allocator, options: RefcountCyclesOptions = {}) {
    super(allocator, HEAD_COUNT, options);
    this.profile = options.profile ?? "cpython";
    this.enabled = options.enabled ?? true;
    if (options.thresholds) this.setThreshold(...options.thresholds);
    this.list = this.defineType({
      name: "list",
      refs: "list",
      freeList: this.profile === "cpython" ? CPYTHON_LIST_FREELIST : 0,
    });
    this.weakrefType = this.defineType({ name: "weakref", refs: 0, bytes: 8, tracked: true });
  }

  /** Declares a type (see {@link ManagedHeap.defineType}); notes finalizers and free lists. */
  override defineType(spec: Parameters<ManagedHeap["defineType"]>[0]): ObjectType {
    const type = super.defineType(spec);
    if (type.finalizer) this.anyFinalizer = true;
    if (type.legacyFinalizer) this.anyLegacy = true;
    if (type.freeList > 0) this.freeLists.set(type.id, []);
    return type;
  }

  // ------------------------------------------------------------------ allocation and refcounts

  /**
   * Allocates an object (an owned reference: count 1) — from the type's free list if it has one, else
   * from the allocator, counting it in `count[0]` and maybe collecting first, as `_PyObject_GC_Link` does.
   */
  allocate(type: ObjectType, capacity = 0): Ptr {
    if (this.types[type.id] !== type)
      throw new TypeError(`allocate: ${type.name} is not a type of this heap`);
    const free = type.freeList > 0 ? (this.freeLists.get(type.id) as Ptr[]) : null;
    let ptr: Ptr;
    if (free !== null && free.length > 0) {
      // CPython's PyList_New: reuse a freed list, no gc_alloc, no count
      ptr = free.pop() as Ptr;
    } else {
      ptr = this.allocator.malloc(type.size);
      if (type.tracked) this.linkAllocation();
    }
    this.initObject(ptr, type, 1, capacity);
    if (type.tracked) this.track(ptr);
    return ptr;
  }

  /** `_PyObject_GC_Link`: count the allocation and maybe collect, before the new object is tracked. */
  private linkAllocation(): void {
    const count = this.count;
    count[0]++;
    if (count[0] > this.threshold[0] && this.enabled && this.threshold[0] !== 0 && !this.collecting) {
      this.collecting = true;
      try {
        this.collectGenerations();
      } finally {
        this.collecting = false;
      }
    }
  }

  /** Adds a reference to `obj`. */
  incref(obj: Ptr): void {
    this.checkObject(obj, "incref");
    this.i32[obj >> 2]++;
  }

  /** Drops a reference to `obj`, freeing it (and what only it held) when the count reaches zero. */
  decref(obj: Ptr): void {
    this.checkObject(obj, "decref");
    const w = obj >> 2;
    const rc = this.i32[w] - 1;
    this.i32[w] = rc;
    if (rc === 0) this.dealloc(obj);
  }

  /** @internal */
  retainRef(ptr: Ptr): void {
    if (ptr !== NULL_PTR) this.i32[ptr >> 2]++;
  }

  /** @internal */
  releaseRef(ptr: Ptr): void {
    if (ptr === NULL_PTR) return;
    const rc = this.i32[ptr >> 2] - 1;
    this.i32[ptr >> 2] = rc;
    if (rc === 0) this.dealloc(ptr);
  }

  /**
   * Frees an object whose count reached zero, then everything that only it held, iteratively: the
   * pending objects wait on an explicit stack (CPython's trashcan plays this role).
   */
  private dealloc(first: Ptr): void {
    // like list_dealloc, untrack at once: a collection that runs meanwhile must not see it
    this.untrack(first);
    if (this.deallocTop === this.deallocStack.length) this.growDeallocStack();
    this.deallocStack[this.deallocTop++] = first;
    if (this.deallocating) return;
    this.deallocating = true;
    try {
      while (this.deallocTop > 0) {
        const obj = this.deallocStack[--this.deallocTop];
        let i32 = this.i32;
        const w = obj >> 2;
        const type = this.types[i32[w + W_INFO] & TYPE_MASK];
        if (type.finalizer !== null && (i32[w + W_INFO] & F_FINALIZED) === 0) {
          // PyObject_CallFinalizerFromDealloc: resurrect for the call; still referenced after → alive
          i32[w + W_INFO] |= F_FINALIZED;
          i32[w + W_RC] = 1;
          if (type.tracked) this.track(obj);
          type.finalizer(obj);
          i32 = this.refresh();
          const rc = i32[w + W_RC] - 1;
          i32[w + W_RC] = rc;
          if (rc > 0) continue;
          this.untrack(obj);
        }
        if ((i32[w + W_INFO] & F_WEAKREFS) !== 0) this.clearWeakrefs(obj, true);
        if (this.weakrefTarget(obj) >= 0) this.unregisterWeakref(obj);
        // release the children, last slot first (list_dealloc's order)
        i32 = this.i32;
        const base = i32[w + W_REFS] >> 2;
        let top = this.deallocTop;
        for (let i = i32[w + W_NREFS] - 1; i >= 0; i--) {
          const child = i32[base + i];
          if (child !== 0) {
            const rc = i32[child >> 2] - 1;
            i32[child >> 2] = rc;
            if (rc === 0) {
              this.untrack(child);
              if (top === this.deallocStack.length) {
                this.deallocTop = top;
                this.growDeallocStack();
              }
              this.deallocStack[top++] = child;
            }
          }
        }
        this.deallocTop = top;
        this.freeObject(obj, type);
      }
    } finally {
      this.deallocating = false;
    }
  }

  private growDeallocStack(): Int32Array {
    const larger = new Int32Array(this.deallocStack.length * 2);
    larger.set(this.deallocStack);
    this.deallocStack = larger;
    return larger;
  }

  /** Returns an object's memory: to its type's free list if there is room, else to the allocator. */
  private freeObject(obj: Ptr, type: ObjectType): void {
    this.freeItems(obj);
    const i32 = this.i32;
    i32[(obj >> 2) + W_INFO] &= ~F_ALIVE;
    if (type.freeList > 0) {
      const free = this.freeLists.get(type.id) as Ptr[];
      if (free.length < type.freeList) {
        free.push(obj);
        return;
      }
    }
    this.allocator.free(obj);
    // PyObject_GC_Del: count[0] counts allocations minus deallocations, never below 0
    if (type.tracked && this.count[0] > 0) this.count[0]--;
  }

  // ------------------------------------------------------------------ tracking

  private track(obj: Ptr): void {
    const i32 = this.i32;
    const w = obj >> 2;
    i32[w + W_INFO] = (i32[w + W_INFO] & CLEAR_GEN) | (0 << GEN_SHIFT);
    this.listAppend(obj, this.head(H_GEN0));
    this.genSize[0]++;
    this.trackedSlots += i32[w + W_CAP];
    this.provisionWorkingArrays();
  }

  private untrack(obj: Ptr): void {
    const i32 = this.i32;
    const w = obj >> 2;
    const gen = (i32[w + W_INFO] & GEN_MASK) >> GEN_SHIFT;
    if (gen === GEN_UNTRACKED) return;
    this.listRemove(obj);
    if (gen <= GEN_PERMANENT) this.genSize[gen]--;
    this.trackedSlots -= i32[w + W_CAP];
    i32[w + W_INFO] = (i32[w + W_INFO] & CLEAR_GEN) | (GEN_UNTRACKED << GEN_SHIFT);
  }

  /** Gives a list room for `capacity` references; a tracked list's new slots are provisioned for. */
  protected override resizeList(list: Ptr, capacity: number): void {
    const w = list >> 2;
    const before = this.i32[w + W_CAP];
    super.resizeList(list, capacity);
    if ((this.i32[w + W_INFO] & GEN_MASK) >> GEN_SHIFT === GEN_UNTRACKED) return;
    this.trackedSlots += capacity - before;
    this.provisionWorkingArrays();
  }

  /** True if the cycle collector tracks `obj` (`gc.is_tracked`). */
  isTracked(obj: Ptr): boolean {
    this.checkObject(obj, "isTracked");
    return (this.i32[(obj >> 2) + W_INFO] & GEN_MASK) >> GEN_SHIFT !== GEN_UNTRACKED;
  }

  /** True if the object's finalizer has run (`gc.is_finalized`). */
  isFinalized(obj: Ptr): boolean {
    this.checkObject(obj, "isFinalized");
    return (this.i32[(obj >> 2) + W_INFO] & F_FINALIZED) !== 0;
  }

  // ------------------------------------------------------------------ the gc module

  /** `gc.enable()`. */
  enable(): void {
    this.enabled = true;
  }
  /** `gc.disable()`. */
  disable(): void {
    this.enabled = false;
  }
  /** `gc.isenabled()`. */
  isEnabled(): boolean {
    return this.enabled;
  }

  /** `gc.get_count()`: `[count0, count1, count2]` (no tuple is allocated here, unlike CPython). */
  getCount(): [number, number, number] {
    return [this.count[0], this.count[1], this.count[2]];
  }

  /** `gc.get_threshold()`. */
  getThreshold(): [number, number, number] {
    return [this.threshold[0], this.threshold[1], this.threshold[2]];
  }

  /** `gc.set_threshold(t0, [t1, [t2]])`: 0 for `t0` disables automatic collection. */
  setThreshold(t0: number, t1?: number, t2?: number): void {
    const values = [t0, t1, t2];
    for (let g = 0; g < 3; g++) {
      const v = values[g];
      if (v === undefined) continue;
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`setThreshold: ${v} is not a whole number ≥ 0`);
      this.threshold[g] = v;
    }
  }

  /** `gc.get_stats()`: per generation, cumulative. */
  getStats(): GenerationStats[] {
    return this.stats.map((s) => ({ ...s }));
  }

  /** `gc.set_debug(flags)`: {@link DEBUG_SAVEALL} is the flag that changes behaviour. */
  setDebug(flags: number): void {
    this.debug = flags | 0;
  }
  /** `gc.get_debug()`. */
  getDebug(): number {
    return this.debug;
  }

  /** Tracked objects in each generation (`len(gc.get_objects(g))` for g = 0, 1, 2). */
  generationSizes(): [number, number, number] {
    return [this.genSize[0], this.genSize[1], this.genSize[2]];
  }

  /** `[long_lived_pending, long_lived_total]`: the state of the 25 % rule. */
  longLived(): [number, number] {
    return [this.longLivedPending, this.longLivedTotal];
  }

  /** Objects on `type`'s free list (default: the built-in list type). */
  freeListLength(type: ObjectType = this.list): number {
    return this.freeLists.get(type.id)?.length ?? 0;
  }

  /** `gc.freeze()`: every tracked object moves to the permanent generation; all counts become 0. */
  freeze(): void {
    for (let g = 0; g < NUM_GENERATIONS; g++) {
      this.setGeneration(this.head(g), GEN_PERMANENT);
      this.listMerge(this.head(g), this.head(H_PERMANENT));
      this.genSize[GEN_PERMANENT] += this.genSize[g];
      this.genSize[g] = 0;
      this.count[g] = 0;
    }
  }

  /** `gc.unfreeze()`: the permanent generation goes back into the oldest generation. */
  unfreeze(): void {
    this.setGeneration(this.head(H_PERMANENT), 2);
    this.listMerge(this.head(H_PERMANENT), this.head(2));
    this.genSize[2] += this.genSize[GEN_PERMANENT];
    this.genSize[GEN_PERMANENT] = 0;
    this.provisionWorkingArrays();
  }

  /** `gc.get_freeze_count()`. */
  getFreezeCount(): number {
    return this.genSize[GEN_PERMANENT];
  }

  /** `gc.get_objects(generation?)`: tracked objects (the permanent generation left out). */
  getObjects(generation?: number): Ptr[] {
    if (generation !== undefined) {
      if (!Number.isInteger(generation) || generation < 0 || generation >= NUM_GENERATIONS) {
        throw new RangeError(`getObjects: generation must be 0, 1 or 2, not ${generation}`);
      }
      return this.listNodes(this.head(generation));
    }
    return [0, 1, 2].flatMap((g) => this.listNodes(this.head(g)));
  }

  /** `gc.get_referrers(*objs)`: tracked objects (generations 0-2) that refer to any of `objs`. */
  getReferrers(...objs: Ptr[]): Ptr[] {
    const wanted = new Set(objs);
    const i32 = this.i32;
    return this.getObjects().filter((o) => {
      const base = i32[(o >> 2) + W_REFS] >> 2;
      for (let i = 0, n = i32[(o >> 2) + W_NREFS]; i < n; i++) if (wanted.has(i32[base + i])) return true;
      return false;
    });
  }

  /** `gc.get_referents(*objs)`: the objects `objs` refer to. */
  getReferents(...objs: Ptr[]): Ptr[] {
    return objs.flatMap((o) => this.referencesOf(o));
  }

  // ------------------------------------------------------------------ weak references

  /**
   * A new weak reference to `target` (an owned reference to the weakref object, like `allocate`).
   * When the target dies the weakref is cleared and `callback` runs with it — unless the weakref
   * itself is part of the same garbage.
   */
  weakref(target: Ptr, callback?: WeakrefCallback): Ptr {
    this.checkObject(target, "weakref");
    const wr = this.allocate(this.weakrefType);
    const i32 = this.i32;
    i32[(wr + this.weakrefType.bytesOffset) >> 2] = target;
    i32[(target >> 2) + W_INFO] |= F_WEAKREFS;
    const list = this.weakrefsTo.get(target);
    if (list) list.push(wr);
    else this.weakrefsTo.set(target, [wr]);
    if (callback) this.weakCallbacks.set(wr, callback);
    return wr;
  }

  /** The object a weakref points to, or 0 once it was cleared (calling the weakref in Python). */
  deref(weakref: Ptr): Ptr {
    this.checkObject(weakref, "deref");
    if ((this.i32[(weakref >> 2) + W_INFO] & TYPE_MASK) !== this.weakrefType.id) {
      throw new TypeError(`deref: the object at ${weakref} is not a weakref`);
    }
    return this.i32[(weakref + this.weakrefType.bytesOffset) >> 2];
  }

  /** The target of `obj` if it is a weakref (0 if cleared), else −1. */
  private weakrefTarget(obj: Ptr): number {
    if ((this.i32[(obj >> 2) + W_INFO] & TYPE_MASK) !== this.weakrefType.id) return -1;
    return this.i32[(obj + this.weakrefType.bytesOffset) >> 2];
  }

  /** A dying weakref leaves its target's list (its callback never runs). */
  private unregisterWeakref(wr: Ptr): void {
    const target = this.weakrefTarget(wr);
    this.weakCallbacks.delete(wr);
    if (target <= 0) return;
    this.i32[(wr + this.weakrefType.bytesOffset) >> 2] = 0;
    const list = this.weakrefsTo.get(target);
    if (!list) return;
    const at = list.indexOf(wr);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) {
      this.weakrefsTo.delete(target);
      this.i32[(target >> 2) + W_INFO] &= ~F_WEAKREFS;
    }
  }

  /** PyObject_ClearWeakRefs from a refcount death: clear them all, then run the callbacks. */
  private clearWeakrefs(obj: Ptr, callCallbacks: boolean): void {
    const list = this.weakrefsTo.get(obj) ?? [];
    this.weakrefsTo.delete(obj);
    this.i32[(obj >> 2) + W_INFO] &= ~F_WEAKREFS;
    const calls: [Ptr, WeakrefCallback][] = [];
    for (const wr of list) {
      this.i32[(wr + this.weakrefType.bytesOffset) >> 2] = 0;
      const cb = this.weakCallbacks.get(wr);
      if (cb) {
        this.weakCallbacks.delete(wr);
        if (callCallbacks) calls.push([wr, cb]);
      }
    }
    for (const [wr, cb] of calls) {
      this.retainRef(wr);
      cb(wr);
      this.refresh();
      this.releaseRef(wr);
    }
  }

  // ------------------------------------------------------------------ collection

  /**
   * `gc.collect(generation = 2)`: collects `generation` and the younger ones; returns the number of
   * unreachable objects found (collected + uncollectable). Returns 0 if a collection is running.
   */
  collect(generation = 2): number {
    if (!Number.isInteger(generation) || generation < 0 || generation >= NUM_GENERATIONS) {
      throw new RangeError(`collect: invalid generation ${generation}`);
    }
    if (this.collecting) return 0;
    this.collecting = true;
    try {
      return this.collectWithCallback(generation);
    } finally {
      this.collecting = false;
    }
  }

  /** gc_collect_generations: the oldest generation over its threshold, with the 25 % long-lived rule. */
  private collectGenerations(): number {
    for (let g = NUM_GENERATIONS - 1; g >= 0; g--) {
      if (this.count[g] > this.threshold[g]) {
        if (g === NUM_GENERATIONS - 1 && this.longLivedPending < Math.floor(this.longLivedTotal / 4))
          continue;
        return this.collectWithCallback(g);
      }
    }
    return 0;
  }

  private collectWithCallback(generation: number): number {
    const callbacks = this.callbacks.slice();
    for (const cb of callbacks) cb("start", { generation, collected: 0, uncollectable: 0 });
    const result = this.collectMain(generation);
    for (const cb of callbacks) {
      cb("stop", { generation, collected: result[1], uncollectable: result[0] });
    }
    return result[0] + result[1];
  }

  /** Sets the generation field of every node of a list. */
  private setGeneration(head: Ptr, gen: number): void {
    const i32 = this.i32;
    const bits = gen << GEN_SHIFT;
    for (let p = i32[(head >> 2) + W_NEXT]; p !== head; p = i32[(p >> 2) + W_NEXT]) {
      i32[(p >> 2) + W_INFO] = (i32[(p >> 2) + W_INFO] & CLEAR_GEN) | bits;
    }
  }

  /** gc_collect_main: returns [uncollectable, collected]. */
  private collectMain(generation: number): [number, number] {
    const count = this.count;
    if (generation + 1 < NUM_GENERATIONS) count[generation + 1]++;
    for (let g = 0; g <= generation; g++) count[g] = 0;
    const young = this.head(generation);
    for (let g = 0; g < generation; g++) this.listMerge(this.head(g), young);
    const target = generation + 1 < NUM_GENERATIONS ? generation + 1 : generation;
    const old = this.head(target);
    for (let g = 0; g <= generation; g++) this.genSize[g] = 0;

    const unreachable = this.head(H_UNREACHABLE);
    // survivors: what is left in young; they already carry the older generation's number
    const survivors = this.deduceUnreachable(young, unreachable, target);
    this.genSize[target] += survivors;
    if (young !== old) {
      if (generation === NUM_GENERATIONS - 2) this.longLivedPending += survivors;
      this.listMerge(young, old);
    } else {
      this.longLivedPending = 0;
      this.longLivedTotal = survivors;
    }

    // unreachable objects with a legacy finalizer, and all they reach, are uncollectable
    const finalizers = this.head(H_FINALIZERS);
    if (this.anyLegacy) this.moveLegacyFinalizers(unreachable, finalizers);

    let collected = this.handleWeakrefs(unreachable, target);
    if (this.anyFinalizer) {
      this.finalizeGarbage(unreachable);
      // objects a finalizer resurrected go to the older generation; the rest is still garbage
      const still = this.head(H_STILL);
      this.genSize[target] += this.deduceUnreachable(unreachable, still, target);
      this.listMerge(unreachable, old);
      this.listMerge(still, unreachable);
    }
    collected += this.countNodes(unreachable);
    this.deleteGarbage(unreachable, target);

    // uncollectable objects: counted, saved in `garbage`, kept in the older generation
    let uncollectable = 0;
    const i32 = this.refresh();
    const saveAll = (this.debug & DEBUG_SAVEALL) !== 0;
    for (let p = i32[(finalizers >> 2) + W_NEXT]; p !== finalizers; p = this.i32[(p >> 2) + W_NEXT]) {
      uncollectable++;
      if (saveAll || this.types[this.i32[(p >> 2) + W_INFO] & TYPE_MASK].legacyFinalizer) {
        this.retainRef(p);
        this.garbage.push(p);
      }
    }
    this.adopt(finalizers, target);
    this.listMerge(finalizers, old);

    if (generation === NUM_GENERATIONS - 1) this.clearFreeLists();

    const stats = this.stats[generation];
    stats.collections++;
    stats.collected += collected;
    stats.uncollectable += uncollectable;
    return [uncollectable, collected];
  }

  /**
   * update_refs + subtract_refs + move_unreachable: leaves in `base` what is reachable from outside
   * it (given generation `survivorGen`, flags cleared) and moves the rest to the empty list
   * `unreachable` (flagged COLLECTING | UNREACHABLE, generation WORKING), both in exactly the order
   * CPython's passes leave them. Returns the number of survivors.
   *
   * CPython's passes go to every reference's target twice, at random places in the heap (subtract_refs,
   * then move_unreachable). Here the heap is walked once, each target is looked up once, and the rest
   * runs over dense arrays indexed by an object's position in `base` (1 … n, in list order), which are
   * small, and plain: every access to the heap's words (a resizable buffer) costs V8 extra checks.
   *
   *   number      walk `base`: position → address, gc_refs := refcount, its references copied out,
   *               and its scratch word := its position (0 outside a collection: position 0 means
   *               "not in the set")
   *   subtract    each reference becomes its target's position (the one random heap access), then
   *               gc_refs −= 1 per reference inside the set
   *   move        move_unreachable itself, over positions (see moveUnreachable: no linked list needed)
   *   write back  generations and flags, scratch words back to 0, and — if anything moved — both
   *               lists relinked in the heap in their final order
   */
  private deduceUnreachable(base: Ptr, unreachable: Ptr, survivorGen: number): number {
    if (!this.listEmpty(unreachable)) throw new Error("deduceUnreachable: the unreachable list is not empty");
    // small functions rather than one: each is optimized on its own, with its own type feedback
    const n = this.numberObjects(base);
    this.subtractRefs(n);
    const movedOut = this.moveUnreachable(n);
    if (movedOut === 0) {
      // nobody left young: the heap list is already in its final order
      this.writeBackInPlace(n, survivorGen);
      return n;
    }
    const survivors = n - movedOut + this.cameBackCount;
    this.relinkSurvivors(n, survivors, base, survivorGen);
    this.relinkUnreachable(n - survivors, unreachable);
    return survivors;
  }

  /**
   * update_refs: numbers the objects of `base` 1 … n in list order and copies out their references
   * (object i's are `edges[edgeStart[i] … edgeStart[i + 1])`); returns n. Position 0 is "not in the
   * set": its gc_refs word stays 0, not COLLECTING.
   */
  private numberObjects(base: Ptr): number {
    const i32 = this.i32;
    let objectAt = this.objectAt;
    let gcRefs = this.gcRefs;
    let edgeStart = this.edgeStart;
    let edges = this.edges;
    let n = 0;
    let e = 0;
    for (let p = i32[(base >> 2) + W_NEXT]; p !== base; p = i32[(p >> 2) + W_NEXT]) {
      if (n + 2 >= objectAt.length) {
        this.growWorkingArrays(n + 2);
        objectAt = this.objectAt;
        gcRefs = this.gcRefs;
        edgeStart = this.edgeStart;
      }
      const w = p >> 2;
      n++;
      objectAt[n] = p;
      gcRefs[n] = (i32[w + W_RC] << 2) | S_COLLECTING;
      i32[w + W_SCRATCH] = n;
      edgeStart[n] = e;
      const refs = i32[w + W_REFS] >> 2;
      const count = i32[w + W_NREFS];
      if (e + count > edges.length) edges = this.growEdges(e + count);
      for (let r = 0; r < count; r++) edges[e + r] = i32[refs + r];
      e += count;
    }
    if (n + 2 >= objectAt.length) this.growWorkingArrays(n + 2);
    this.edgeStart[n + 1] = e;
    return n;
  }

  /**
   * subtract_refs: references from inside the set do not keep anything alive. Each reference becomes
   * its target's position for move_unreachable (0 for an empty slot or a target out of the set).
   */
  private subtractRefs(n: number): void {
    const i32 = this.i32;
    const edges = this.edges;
    const end = this.edgeStart[n + 1];
    // a cache miss each, at random; in a loop this small, many of them overlap
    for (let k = 0; k < end; k++) {
      const target = edges[k];
      edges[k] = target === 0 ? 0 : i32[(target >> 2) + W_SCRATCH];
    }
    // a loop of its own: with no heap access in it, V8 keeps the dense arrays' checks out of it
    const gcRefs = this.gcRefs;
    for (let k = 0; k < end; k++) gcRefs[edges[k]] -= 4;
    gcRefs[0] = 0; // references out of the set were counted there
  }

  /**
   * move_unreachable over positions. CPython walks young in order; an object with gc_refs 0 moves to
   * the tail of "unreachable" (tentatively); one with gc_refs > 0 is reachable, and each child still
   * in the set gets gc_refs 1 and, if it was moved out, comes back to young's tail, to be visited in
   * its turn. Objects only ever leave young at the walk's cursor and only come back at its tail, so
   * the walk is positions 1 … n, then those that came back in order (`cameBack`, a queue); and the
   * unreachable list is `movedOut` in order, less those that came back. Returns how many were moved
   * out (those that came back included); `cameBackCount` says how many came back.
   */
  private moveUnreachable(n: number): number {
    const gcRefs = this.gcRefs;
    const edgeStart = this.edgeStart;
    const edges = this.edges;
    const movedOut = this.movedOut;
    const cameBack = this.cameBack;
    const oneRef = (1 << 2) | S_COLLECTING;
    let out = 0;
    let back = 0;
    // step t visits position t while t ≤ n, then the (t − n)-th object that came back
    for (let t = 1; t <= n + back; t++) {
      const i = t <= n ? t : cameBack[t - n - 1];
      if (gcRefs[i] >>> 2 === 0) {
        // tentatively unreachable (what came back has gc_refs 1, so this is a first visit)
        gcRefs[i] |= S_UNREACHABLE;
        movedOut[out++] = i;
        continue;
      }
      // reachable from outside (or from something that is): everything it refers to is too. A child
      // needs work only if it is in the set with gc_refs 0 and not visited: state COLLECTING, with
      // or without UNREACHABLE. Which children do is as random as the graph, so the step has no
      // branch to mispredict (this pass: 1.5 → 1.2 ms at 100 k objects): every child's word is
      // rewritten (to itself, or to gc_refs 1), and every child is written at the queue's tail,
      // which moves on only if the child had been moved out.
      for (let e = edgeStart[i], end = edgeStart[i + 1]; e < end; e++) {
        const c = edges[e];
        const state = gcRefs[c];
        const needsWork = (((state | S_UNREACHABLE) ^ (S_COLLECTING | S_UNREACHABLE)) - 1) >>> 31;
        gcRefs[c] = state ^ ((state ^ oneRef) & -needsWork);
        cameBack[back] = c;
        back += needsWork & (state >>> 1); // S_UNREACHABLE is bit 1
      }
      gcRefs[i] = t <= n ? 0 : S_VISITED;
    }
    this.cameBackCount = back;
    return out;
  }

  /**
   * The write-back when no object moved: the heap list is right as it is; each object (positions
   * 1 … n) gets generation `gen` with the collector flags cleared — its info word is written only if
   * that changes it, which in a full collection of old objects is never — and its scratch word 0.
   */
  private writeBackInPlace(n: number, gen: number): void {
    const i32 = this.i32;
    const objectAt = this.objectAt;
    const keep = CLEAR_GEN & ~(F_COLLECTING | F_UNREACHABLE);
    const bits = gen << GEN_SHIFT;
    for (let i = 1; i <= n; i++) {
      const w = objectAt[i] >> 2;
      const info = i32[w + W_INFO];
      const survivorInfo = (info & keep) | bits;
      if (survivorInfo !== info) i32[w + W_INFO] = survivorInfo;
      i32[w + W_SCRATCH] = 0;
    }
  }

  /**
   * Relinks young (`head`) in the heap in its final order — the positions that never left, in order
   * (word 0), then those that came back — giving them generation `gen`, flags cleared, scratch 0.
   */
  private relinkSurvivors(n: number, survivors: number, head: Ptr, gen: number): void {
    const i32 = this.i32;
    const objectAt = this.objectAt;
    const gcRefs = this.gcRefs;
    const cameBack = this.cameBack;
    const keep = CLEAR_GEN & ~(F_COLLECTING | F_UNREACHABLE);
    const bits = gen << GEN_SHIFT;
    let last = head;
    for (let t = 1, linked = 0; linked < survivors; t++) {
      // the walk's order again: positions 1 … n that never left (word 0), then what came back
      const i = t <= n ? t : cameBack[t - n - 1];
      if (t <= n && gcRefs[i] !== 0) continue;
      last = this.relinkAfter(last, objectAt[i], keep, bits);
      linked++;
    }
    i32[(last >> 2) + W_NEXT] = head;
    i32[(head >> 2) + W_PREV] = last;
  }

  /** Links the unreachable objects, in the order they were moved out, into the empty list `head`. */
  private relinkUnreachable(count: number, head: Ptr): void {
    const i32 = this.i32;
    const objectAt = this.objectAt;
    const gcRefs = this.gcRefs;
    const movedOut = this.movedOut;
    const flags = (GEN_WORKING << GEN_SHIFT) | F_COLLECTING | F_UNREACHABLE;
    let last = head;
    for (let k = 0, linked = 0; linked < count; k++) {
      const i = movedOut[k];
      if ((gcRefs[i] & S_COLLECTING) === 0) continue; // it came back
      last = this.relinkAfter(last, objectAt[i], CLEAR_GEN, flags);
      linked++;
    }
    i32[(last >> 2) + W_NEXT] = head;
    i32[(head >> 2) + W_PREV] = last;
  }

  /**
   * One step of the relinking passes: links `obj` after `last` (the caller closes the list), sets its
   * info word to `(info & keep) | bits` and its scratch word back to 0. Returns `obj`, the new last.
   */
  private relinkAfter(last: Ptr, obj: Ptr, keep: number, bits: number): Ptr {
    const i32 = this.i32;
    const w = obj >> 2;
    i32[(last >> 2) + W_NEXT] = obj;
    i32[w + W_PREV] = last;
    i32[w + W_INFO] = (i32[w + W_INFO] & keep) | bits;
    i32[w + W_SCRATCH] = 0;
    return obj;
  }

  /**
   * Keeps the working arrays big enough for a full collection of every tracked object (generations
   * 0-2) and their slots: called as objects are tracked and lists grow, so that the memory is allocated
   * (and faulted in) outside the collections, as CPython allocates each object's gc header with it.
   * Cheap unless they must grow. numberObjects still checks as it goes: a short array would drop writes.
   */
  private provisionWorkingArrays(): void {
    // numberObjects' own test, for n = every tracked object
    const positions = this.genSize[0] + this.genSize[1] + this.genSize[2] + 2;
    if (positions >= this.objectAt.length) this.growWorkingArrays(positions);
    if (this.trackedSlots > this.edges.length) this.growEdges(this.trackedSlots);
  }

  /** Grows the dense arrays of deduceUnreachable to hold positions 0 … `positions`. */
  private growWorkingArrays(positions: number): void {
    const size = Math.max(positions + 1, this.objectAt.length * 2, 1024);
    this.objectAt = faultedIn(size, this.objectAt);
    this.gcRefs = faultedIn(size, this.gcRefs);
    this.edgeStart = faultedIn(size, this.edgeStart);
    this.movedOut = faultedIn(size);
    this.cameBack = faultedIn(size);
  }

  /** Grows `edges` to hold at least `count` references, keeping those copied so far. */
  private growEdges(count: number): Int32Array<ArrayBuffer> {
    const larger = faultedIn(Math.max(count, this.edges.length * 2, 1024), this.edges);
    this.edges = larger;
    return larger;
  }

  /** Gives every node of `head` generation `gen` (clearing collector flags); returns how many. */
  private adopt(head: Ptr, gen: number): number {
    const i32 = this.i32;
    const bits = gen << GEN_SHIFT;
    const keep = CLEAR_GEN & ~(F_COLLECTING | F_UNREACHABLE);
    let n = 0;
    for (let p = i32[(head >> 2) + W_NEXT]; p !== head; p = i32[(p >> 2) + W_NEXT]) {
      i32[(p >> 2) + W_INFO] = (i32[(p >> 2) + W_INFO] & keep) | bits;
      n++;
    }
    this.genSize[gen] += n;
    return n;
  }

  private countNodes(head: Ptr): number {
    const i32 = this.i32;
    let n = 0;
    for (let p = i32[(head >> 2) + W_NEXT]; p !== head; p = i32[(p >> 2) + W_NEXT]) n++;
    return n;
  }

  /** move_legacy_finalizers + move_legacy_finalizer_reachable. */
  private moveLegacyFinalizers(unreachable: Ptr, finalizers: Ptr): void {
    const i32 = this.i32;
    let p = i32[(unreachable >> 2) + W_NEXT];
    while (p !== unreachable) {
      const next = i32[(p >> 2) + W_NEXT];
      if (this.types[i32[(p >> 2) + W_INFO] & TYPE_MASK].legacyFinalizer) {
        this.listRemove(p);
        this.listAppend(p, finalizers);
        i32[(p >> 2) + W_INFO] &= ~(F_COLLECTING | F_UNREACHABLE);
      }
      p = next;
    }
    for (p = i32[(finalizers >> 2) + W_NEXT]; p !== finalizers; p = i32[(p >> 2) + W_NEXT]) {
      const refs = i32[(p >> 2) + W_REFS] >> 2;
      for (let i = 0, n = i32[(p >> 2) + W_NREFS]; i < n; i++) {
        const c = i32[refs + i];
        if (c !== 0 && (i32[(c >> 2) + W_INFO] & F_COLLECTING) !== 0) {
          this.listRemove(c);
          this.listAppend(c, finalizers);
          i32[(c >> 2) + W_INFO] &= ~(F_COLLECTING | F_UNREACHABLE);
        }
      }
    }
  }

  /**
   * handle_weakrefs: clear every weakref to an unreachable object (and every weakref that is itself
   * garbage); run the callbacks of the weakrefs that outlive the garbage. Returns the weakrefs freed
   * right after their callback (CPython counts them as collected).
   */
  private handleWeakrefs(unreachable: Ptr, target: number): number {
    if (this.weakrefsTo.size === 0) return 0;
    const i32 = this.i32;
    const wrcb = this.head(H_WRCB);
    for (let p = i32[(unreachable >> 2) + W_NEXT]; p !== unreachable; p = i32[(p >> 2) + W_NEXT]) {
      if (this.weakrefTarget(p) >= 0) this.unregisterWeakref(p);
      if ((i32[(p >> 2) + W_INFO] & F_WEAKREFS) === 0) continue;
      const list = this.weakrefsTo.get(p) ?? [];
      this.weakrefsTo.delete(p);
      i32[(p >> 2) + W_INFO] &= ~F_WEAKREFS;
      for (const wr of list) {
        i32[(wr + this.weakrefType.bytesOffset) >> 2] = 0;
        if (!this.weakCallbacks.has(wr)) continue;
        if ((i32[(wr >> 2) + W_INFO] & F_COLLECTING) !== 0) {
          // the weakref is garbage too: its callback never runs
          this.weakCallbacks.delete(wr);
          continue;
        }
        this.retainRef(wr);
        this.untrack(wr);
        i32[(wr >> 2) + W_INFO] = (i32[(wr >> 2) + W_INFO] & CLEAR_GEN) | (GEN_WORKING << GEN_SHIFT);
        this.listAppend(wr, wrcb);
      }
    }
    let freed = 0;
    while (!this.listEmpty(wrcb)) {
      const wr = this.i32[(wrcb >> 2) + W_NEXT];
      const cb = this.weakCallbacks.get(wr) as WeakrefCallback;
      this.weakCallbacks.delete(wr);
      cb(wr);
      this.refresh();
      this.releaseRef(wr);
      if (this.i32[(wrcb >> 2) + W_NEXT] === wr) {
        this.listRemove(wr);
        this.listAppend(wr, this.head(target));
        this.i32[(wr >> 2) + W_INFO] = (this.i32[(wr >> 2) + W_INFO] & CLEAR_GEN) | (target << GEN_SHIFT);
        this.genSize[target]++;
      } else {
        freed++;
      }
    }
    return freed;
  }

  /** finalize_garbage: each finalizer runs once (the FINALIZED bit); the object is held meanwhile. */
  private finalizeGarbage(collectable: Ptr): void {
    const seen = this.head(H_SEEN);
    while (!this.listEmpty(collectable)) {
      const p = this.i32[(collectable >> 2) + W_NEXT];
      this.listRemove(p);
      this.listAppend(p, seen);
      const type = this.types[this.i32[(p >> 2) + W_INFO] & TYPE_MASK];
      if (type.finalizer !== null && (this.i32[(p >> 2) + W_INFO] & F_FINALIZED) === 0) {
        this.i32[(p >> 2) + W_INFO] |= F_FINALIZED;
        this.retainRef(p);
        type.finalizer(p);
        this.refresh();
        this.releaseRef(p);
      }
    }
    this.listMerge(seen, collectable);
  }

  /** delete_garbage: clear every object (or save it, with DEBUG_SAVEALL); survivors go to `target`. */
  private deleteGarbage(collectable: Ptr, target: number): void {
    const saveAll = (this.debug & DEBUG_SAVEALL) !== 0;
    while (!this.listEmpty(collectable)) {
      const p = this.i32[(collectable >> 2) + W_NEXT];
      if (saveAll) {
        this.retainRef(p);
        this.garbage.push(p);
      } else {
        this.retainRef(p);
        this.clearObject(p);
        this.releaseRef(p);
      }
      if (this.i32[(collectable >> 2) + W_NEXT] === p) {
        // still alive: it may die later
        this.listRemove(p);
        this.listAppend(p, this.head(target));
        const i32 = this.i32;
        i32[(p >> 2) + W_INFO] =
          (i32[(p >> 2) + W_INFO] & CLEAR_GEN & ~(F_COLLECTING | F_UNREACHABLE)) | (target << GEN_SHIFT);
        this.genSize[target]++;
      }
    }
  }

  /**
   * tp_clear: empties the object, then releases what it held, last first. A fixed object clears one
   * slot at a time (Py_CLEAR); a list detaches its item block first (list_clear), so nothing run by a
   * release can see or reuse the items while they are being released.
   */
  private clearObject(obj: Ptr): void {
    let i32 = this.i32;
    const w = obj >> 2;
    const n = i32[w + W_NREFS];
    if (n === 0) return;
    const base = i32[w + W_REFS];
    if (this.types[i32[w + W_INFO] & TYPE_MASK].isList) {
      // still tracked (on the unreachable list), so its slots leave the count as its capacity drops to 0
      this.trackedSlots -= i32[w + W_CAP];
      i32[w + W_REFS] = 0;
      i32[w + W_NREFS] = 0;
      i32[w + W_CAP] = 0;
      for (let i = n - 1; i >= 0; i--) {
        const old = i32[(base >> 2) + i];
        if (old !== 0) {
          this.releaseRef(old);
          i32 = this.i32;
        }
      }
      this.allocator.free(base);
    } else {
      for (let i = n - 1; i >= 0; i--) {
        const at = (base >> 2) + i;
        const old = i32[at];
        if (old !== 0) {
          i32[at] = 0;
          this.releaseRef(old);
          i32 = this.i32;
        }
      }
    }
  }

  /** clear_freelists: objects kept for reuse go back to the allocator (PyObject_GC_Del each). */
  private clearFreeLists(): void {
    for (const [typeId, free] of this.freeLists) {
      const tracked = this.types[typeId].tracked;
      for (const p of free) {
        this.allocator.free(p);
        if (tracked && this.count[0] > 0) this.count[0]--;
      }
      free.length = 0;
    }
  }

  /** Every object the collector tracks (generations 0-2 and the permanent one). */
  allObjects(): Ptr[] {
    return [0, 1, 2, H_PERMANENT].flatMap((h) => this.listNodes(this.head(h)));
  }
}
