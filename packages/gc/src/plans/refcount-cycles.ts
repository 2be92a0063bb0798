/**
 * Plan 1 — reference counting plus CPython 3.11's generational cycle collector (`Modules/gcmodule.c`),
 * written from the algorithm, over objects in any allocator. It composes the policies:
 *
 * ```
 *  ReferenceCounting  counts, the dealloc stack, free lists          ../policies/refcounting.ts
 *  Generations        tracking, counts, thresholds, 25 % rule, freeze ../policies/generations.ts
 *  TrialDeletion      update_refs, subtract_refs, move_unreachable    ../policies/trial-deletion.ts
 *  WeakReferences     clearing, callbacks                              ../policies/weakrefs.ts
 *  Finalization       legacy finalizers, PEP 442, tp_clear, the
 *                     unraisable hook around all user code             ../policies/finalization.ts
 * ```
 *
 * and a collection of generation g reads pass by pass as gc_collect_main does (see {@link
 * RefcountCycles.collect}):
 *
 * ```
 *   1. count[g+1] += 1; count[0..g] = 0; merge generations 0..g into g ("young")
 *   2. update_refs       gc_refs := refcount, for every young object
 *   3. subtract_refs     gc_refs −= 1 per reference young → young  ⇒ gc_refs > 0: referenced from outside
 *   4. move_unreachable  gc_refs 0 → "unreachable" (tentatively); gc_refs > 0 → its children come back
 *   5. survivors join generation g+1 (gen-1 survivors add to long_lived_pending; a full collection sets
 *      long_lived_total = survivors, pending = 0)
 *   6. legacy finalizers: those objects and all they reach are uncollectable → gc.garbage
 *   7. weakrefs to unreachable objects are cleared; callbacks of weakrefs outside the garbage run now
 *   8. finalizers run once each (PEP 442); 2–4 again over the unreachable set: resurrected objects survive
 *   9. tp_clear each object left (its slots released) — the cycles free by refcount
 *  10. a full collection clears the free lists; collect() returns uncollectable + collected
 * ```
 *
 * The `cpython` profile also models what makes CPython's counts move without an allocation: lists are
 * taken from and returned to a free list of up to 80 without touching `count[0]`.
 *
 * @module
 */
import type { Allocator, Ptr } from "@heapkit/contract";
import type {
  CollectionCallback,
  GenerationsCapability,
  PlanCapabilities,
  RefcountCapability,
  WeakrefCallback,
  WeakrefCapability,
} from "../capabilities.js";
import * as layout from "../layout.js";
import { listLength, listMerge } from "../lists.js";
import { ManagedHeap, type ManagedHeapOptions } from "../managed.js";
import { Finalization, reportUnraisable, type UnraisableHook } from "../policies/finalization.js";
import { type GenerationStats, Generations, HEADS, NUM_GENERATIONS } from "../policies/generations.js";
import { ReferenceCounting } from "../policies/refcounting.js";
import { TrialDeletion } from "../policies/trial-deletion.js";
import { WeakReferences } from "../policies/weakrefs.js";
import type { ObjectType, TypeSpec } from "../types.js";

const { F_FINALIZED, TYPE_MASK, W_CAP, W_INFO, W_NEXT } = layout;

export type { CollectionCallback, CollectionInfo, WeakrefCallback } from "../capabilities.js";
export { type GenerationStats, NUM_GENERATIONS } from "../policies/generations.js";

/** `gc.DEBUG_SAVEALL`: unreachable objects go to `garbage` instead of being freed. */
export const DEBUG_SAVEALL = 32;
/** CPython's list free-list capacity (`PyList_MAXFREELIST`). */
export const CPYTHON_LIST_FREELIST = 80;

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
  /**
   * Receives every exception a finalizer, weakref callback or gc callback throws inside the collector
   * (CPython's `sys.unraisablehook`). Default {@link reportUnraisable}: a line on `console.error`.
   * Either way the collector goes on, and stays usable.
   */
  onUnraisable?: UnraisableHook;
}

/**
 * Reference counting plus CPython 3.11's generational cycle collector: the `gc` module's surface over
 * objects in any allocator. See the module drawing for the algorithm.
 */
export class RefcountCycles
  extends ManagedHeap
  implements RefcountCapability, GenerationsCapability, WeakrefCapability
{
  /** The plan's name. */
  readonly plan = "refcount+cycles" as const;
  /** Counts, generations and weak references; objects never move. */
  readonly capabilities: PlanCapabilities;
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

  private readonly counting: ReferenceCounting;
  private readonly generations: Generations;
  private readonly trial: TrialDeletion;
  private readonly finalization: Finalization;
  private readonly weakrefs: WeakReferences;
  private collecting = false;
  private debug = 0;

  constructor(allocator: Allocator, options: RefcountCyclesOptions = {}) {
    super(allocator, layout.COUNTED_HEADER, HEADS.count, options);
    this.trial = new TrialDeletion(this);
    this.generations = new Generations(this, this.trial);
    this.counting = new ReferenceCounting(this, this.generations);
    this.counter = this.counting;
    this.finalization = new Finalization(
      this,
      this.generations,
      this.counting,
      options.onUnraisable ?? reportUnraisable,
    );
    this.counting.finalization = this.finalization;
    this.profile = options.profile ?? "cpython";
    this.generations.enabled = options.enabled ?? true;
    if (options.thresholds) this.setThreshold(...options.thresholds);
    this.list = this.defineType({
      name: "list",
      refs: "list",
      freeList: this.profile === "cpython" ? CPYTHON_LIST_FREELIST : 0,
    });
    this.weakrefType = this.defineType({ name: "weakref", refs: 0, bytes: 8, tracked: true });
    this.weakrefs = new WeakReferences(this, this.weakrefType, this.generations, this.finalization);
    this.counting.weakrefs = this.weakrefs;
    this.capabilities = Object.freeze({
      refcounts: this,
      generations: this,
      weakrefs: this,
      compaction: null,
    });
  }

  /** Declares a type (see {@link ManagedHeap.defineType}); notes finalizers and free lists. */
  override defineType(spec: TypeSpec): ObjectType {
    const type = super.defineType(spec);
    this.finalization.noteType(type);
    this.counting.noteType(type);
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
    this.checkCapacity(capacity);
    let ptr = type.freeList > 0 ? this.counting.takeFromFreeList(type) : 0;
    const reused = ptr !== 0;
    if (!reused) {
      ptr = this.allocator.malloc(type.size);
      if (type.tracked && this.generations.countAllocation()) this.collectDue();
    }
    try {
      this.initObject(ptr, type, 1, capacity);
    } catch (error) {
      // the item block could not be had: the object goes back where it came from, uncounted
      this.giveBack(ptr, type, reused);
      throw error;
    }
    if (type.tracked) this.generations.track(ptr);
    return ptr;
  }

  /** Returns a block {@link RefcountCycles.allocate} took but could not make an object of. */
  private giveBack(ptr: Ptr, type: ObjectType, reused: boolean): void {
    if (reused) {
      // never initialized: still a freed object of its type, as the free list holds them
      this.counting.free(ptr, type);
      return;
    }
    this.allocator.free(ptr);
    this.generations.countDeallocation(type);
  }

  /** Adds a reference to `obj`. */
  incref(obj: Ptr): void {
    this.checkObject(obj, "incref");
    this.counting.retain(obj);
  }

  /** Drops a reference to `obj`, freeing it (and what only it held) when the count reaches zero. */
  decref(obj: Ptr): void {
    this.checkObject(obj, "decref");
    this.counting.release(obj);
  }

  /** The reference count of an object. */
  refcount(obj: Ptr): number {
    this.checkObject(obj, "refcount");
    return this.counting.count(obj);
  }

  /** Gives a list room for `capacity` references; a tracked list's new slots are provisioned for. */
  protected override resizeList(list: Ptr, capacity: number): void {
    const before = this.i32[(list >> 2) + W_CAP];
    super.resizeList(list, capacity);
    this.generations.slotsChanged(list, capacity - before);
  }

  /** True if the cycle collector tracks `obj` (`gc.is_tracked`). */
  isTracked(obj: Ptr): boolean {
    this.checkObject(obj, "isTracked");
    return this.generations.isTracked(obj);
  }

  /** True if the object's finalizer has run (`gc.is_finalized`). */
  isFinalized(obj: Ptr): boolean {
    this.checkObject(obj, "isFinalized");
    return (this.i32[(obj >> 2) + W_INFO] & F_FINALIZED) !== 0;
  }

  // ------------------------------------------------------------------ the gc module

  /** `gc.enable()`. */
  enable(): void {
    this.generations.enabled = true;
  }
  /** `gc.disable()`. */
  disable(): void {
    this.generations.enabled = false;
  }
  /** `gc.isenabled()`. */
  isEnabled(): boolean {
    return this.generations.enabled;
  }

  /** `gc.get_count()`: `[count0, count1, count2]` (no tuple is allocated here, unlike CPython). */
  getCount(): [number, number, number] {
    const count = this.generations.count;
    return [count[0], count[1], count[2]];
  }

  /** `gc.get_threshold()`. */
  getThreshold(): [number, number, number] {
    const threshold = this.generations.threshold;
    return [threshold[0], threshold[1], threshold[2]];
  }

  /** `gc.set_threshold(t0, [t1, [t2]])`: 0 for `t0` disables automatic collection. */
  setThreshold(t0: number, t1?: number, t2?: number): void {
    this.generations.setThreshold(t0, t1, t2);
  }

  /** `gc.get_stats()`: per generation, cumulative. */
  getStats(): GenerationStats[] {
    return this.generations.stats.map((s) => ({ ...s }));
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
    const size = this.generations.size;
    return [size[0], size[1], size[2]];
  }

  /** `[long_lived_pending, long_lived_total]`: the state of the 25 % rule. */
  longLived(): [number, number] {
    return [this.generations.longLivedPending, this.generations.longLivedTotal];
  }

  /** Objects on `type`'s free list (default: the built-in list type). */
  freeListLength(type: ObjectType = this.list): number {
    return this.counting.freeListLength(type);
  }

  /** `gc.freeze()`: every tracked object moves to the permanent generation; all counts become 0. */
  freeze(): void {
    this.generations.freeze();
  }

  /** `gc.unfreeze()`: the permanent generation goes back into the oldest generation. */
  unfreeze(): void {
    this.generations.unfreeze();
  }

  /** `gc.get_freeze_count()`. */
  getFreezeCount(): number {
    return this.generations.size[HEADS.permanent];
  }

  /** `gc.get_objects(generation?)`: tracked objects (the permanent generation left out). */
  getObjects(generation?: number): Ptr[] {
    if (generation !== undefined) {
      if (!Number.isInteger(generation) || generation < 0 || generation >= NUM_GENERATIONS) {
        throw new RangeError(`getObjects: generation must be 0, 1 or 2, not ${generation}`);
      }
      return this.generations.objects(generation);
    }
    return [0, 1, 2].flatMap((g) => this.generations.objects(g));
  }

  /** `gc.get_referrers(*objs)`: tracked objects (generations 0-2) that refer to any of `objs`. */
  getReferrers(...objs: Ptr[]): Ptr[] {
    const wanted = new Set(objs);
    return this.getObjects().filter((o) => this.referencesOf(o).some((c) => wanted.has(c)));
  }

  /** `gc.get_referents(*objs)`: the objects `objs` refer to. */
  getReferents(...objs: Ptr[]): Ptr[] {
    return objs.flatMap((o) => this.referencesOf(o));
  }

  /** Every object the collector tracks (generations 0-2 and the permanent one). */
  allObjects(): Ptr[] {
    return [0, 1, 2, HEADS.permanent].flatMap((g) => this.generations.objects(g));
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
    this.weakrefs.attach(wr, target, callback);
    return wr;
  }

  /** The object a weakref points to, or 0 once it was cleared (calling the weakref in Python). */
  deref(weakref: Ptr): Ptr {
    this.checkObject(weakref, "deref");
    const target = this.weakrefs.targetOf(weakref);
    if (target < 0) throw new TypeError(`deref: the object at ${weakref} is not a weakref`);
    return target;
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
    return this.collectWithCallbacks(generation);
  }

  /** gc_collect_generations, from an allocation: the generation that is due, if any, unless one runs. */
  private collectDue(): void {
    if (this.collecting) return;
    const generation = this.generations.due();
    if (generation >= 0) this.collectWithCallbacks(generation);
  }

  /** The callbacks around gc_collect_main, each through the unraisable guard. */
  private collectWithCallbacks(generation: number): number {
    this.collecting = true;
    try {
      const callbacks = this.callbacks.slice();
      this.invokeCallbacks(callbacks, "start", generation, 0, 0);
      const [uncollectable, collected] = this.collectMain(generation);
      this.invokeCallbacks(callbacks, "stop", generation, collected, uncollectable);
      return uncollectable + collected;
    } finally {
      this.collecting = false;
    }
  }

  private invokeCallbacks(
    callbacks: readonly CollectionCallback[],
    phase: "start" | "stop",
    generation: number,
    collected: number,
    uncollectable: number,
  ): void {
    for (const cb of callbacks) {
      this.finalization.guard("gc callback", 0, () => cb(phase, { generation, collected, uncollectable }));
    }
  }

  /** gc_collect_main, pass by pass: returns [uncollectable, collected]. */
  private collectMain(generation: number): [number, number] {
    const scope = this.generations.begin(generation); // 1
    const unreachable = this.head(HEADS.unreachable);
    const survivors = this.trial.deduceUnreachable(scope.young, unreachable, scope.target, scope.settled); // 2-4
    this.generations.keepSurvivors(scope, survivors); // 5
    const finalizers = this.head(HEADS.finalizers);
    if (this.finalization.anyLegacy) this.finalization.moveLegacyFinalizers(unreachable, finalizers); // 6
    let collected = this.weakrefs.handleWeakrefs(
      unreachable,
      this.head(HEADS.weakrefCallbacks),
      scope.target,
    ); // 7
    if (this.finalization.anyFinalizer) this.finalizeAndRescue(unreachable, scope.target, scope.old); // 8
    collected += listLength(this.i32, unreachable);
    const saveAll = (this.debug & DEBUG_SAVEALL) !== 0;
    this.finalization.deleteGarbage(unreachable, scope.target, saveAll, this.garbage); // 9
    const uncollectable = this.keepUncollectable(finalizers, scope.target, saveAll);
    if (generation === NUM_GENERATIONS - 1) this.counting.clearFreeLists(); // 10
    this.generations.record(generation, collected, uncollectable);
    return [uncollectable, collected];
  }

  /** Step 8: finalizers run, then trial deletion again: what they resurrected joins the older generation. */
  private finalizeAndRescue(unreachable: Ptr, target: number, old: Ptr): void {
    this.finalization.finalizeGarbage(unreachable, this.head(HEADS.finalized));
    const still = this.head(HEADS.stillUnreachable);
    this.generations.size[target] += this.trial.deduceUnreachable(unreachable, still, target);
    listMerge(this.i32, unreachable, old);
    listMerge(this.i32, still, unreachable);
  }

  /** Uncollectable objects: counted, saved in `garbage` (each holding a reference), kept in generation `target`. */
  private keepUncollectable(finalizers: Ptr, target: number, saveAll: boolean): number {
    let uncollectable = 0;
    for (let p = this.i32[(finalizers >> 2) + W_NEXT]; p !== finalizers; p = this.i32[(p >> 2) + W_NEXT]) {
      uncollectable++;
      if (saveAll || this.types[this.i32[(p >> 2) + W_INFO] & TYPE_MASK].legacyFinalizer) {
        this.retainRef(p);
        this.garbage.push(p);
      }
    }
    this.generations.adopt(finalizers, target);
    return uncollectable;
  }
}
