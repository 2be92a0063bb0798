/**
 * Generations, as CPython 3.11 keeps them (`Modules/gcmodule.c`): tracking, the counts and
 * thresholds that trigger collections, the 25 % rule for the oldest generation, and freezing.
 *
 * ```
 *  generations (list heads in the heap)     count[g]: gen 0 — allocations minus deallocations
 *   gen0 ─► o ─► o ─► …    threshold 700              gen 1 — gen-0 collections since the last gen-1
 *   gen1 ─► o ─► …         threshold 10               gen 2 — gen-1 collections since the last gen-2
 *   gen2 ─► o ─► …         threshold 10 (+ the 25 % long-lived rule)
 *   permanent ─► …         gc.freeze()
 * ```
 *
 * @module
 */
import type { Ptr } from "@heapkit/contract";
import * as layout from "../layout.js";
import { listAppend, listMerge, listNodes, listRemove } from "../lists.js";
import type { ManagedHeap } from "../managed.js";
import type { ObjectType } from "../types.js";
import type { TrialDeletion } from "./trial-deletion.js";

const {
  F_COLLECTING,
  F_UNREACHABLE,
  GEN_MASK,
  GEN_PERMANENT,
  GEN_SHIFT,
  GEN_UNTRACKED,
  W_CAP,
  W_INFO,
  W_NEXT,
} = layout;

/** Number of generations (the permanent one aside). */
export const NUM_GENERATIONS = 3;

/** The list heads a generational plan keeps in the heap: generations 0-2 are heads 0-2. */
export const HEADS = Object.freeze({
  /** `gc.freeze()`'s permanent generation. */
  permanent: 3,
  /** A collection's unreachable objects. */
  unreachable: 4,
  /** Objects reachable from legacy finalizers: uncollectable. */
  finalizers: 5,
  /** Weakrefs whose callbacks are due. */
  weakrefCallbacks: 6,
  /** What is still unreachable after the finalizers ran. */
  stillUnreachable: 7,
  /** Objects whose finalizer has been considered. */
  finalized: 8,
  /** Heads in all. */
  count: 9,
});

const CLEAR_GEN = ~GEN_MASK;
/** The info bits a survivor keeps: its generation is set anew and the collector's flags cleared. */
const SURVIVOR_KEEP = CLEAR_GEN & ~(F_COLLECTING | F_UNREACHABLE);

/** Per-generation statistics, as `gc.get_stats()` reports them. */
export interface GenerationStats {
  /** Collections of this generation. */
  collections: number;
  /** Objects collected by them. */
  collected: number;
  /** Uncollectable objects they found. */
  uncollectable: number;
}

/** Where one collection works: the generations merged into `young`, and where its survivors go. */
export interface CollectionScope {
  /** The generation collected. */
  readonly generation: number;
  /** The head of the generation being collected, holding every younger one too. */
  readonly young: Ptr;
  /** The generation survivors join (the same one for a full collection). */
  readonly target: number;
  /** Its head. */
  readonly old: Ptr;
  /**
   * How many objects at the head of `young` are in the target generation already (a full
   * collection's old objects, which young starts with): trial deletion leaves their headers alone.
   */
  readonly settled: number;
}

/** The generations of tracked objects, their counts, thresholds and statistics. */
export class Generations {
  /** `gc.get_count()`'s figures. */
  readonly count = [0, 0, 0];
  /** `gc.get_threshold()`'s figures. */
  readonly threshold = [700, 10, 10];
  /** Tracked objects per generation, the permanent one at index 3. */
  readonly size = [0, 0, 0, 0];
  /** `gc.get_stats()`'s figures. */
  readonly stats: GenerationStats[] = [0, 1, 2].map(() => ({
    collections: 0,
    collected: 0,
    uncollectable: 0,
  }));
  /** Automatic collection on. */
  enabled = true;
  /** Survivors of generation-1 collections since the last full one (the 25 % rule). */
  longLivedPending = 0;
  /** Survivors of the last full collection. */
  longLivedTotal = 0;
  /** Reference slots (capacity) of the tracked objects: a bound on what a collection copies out. */
  private trackedSlots = 0;

  constructor(
    private readonly space: ManagedHeap,
    private readonly trial: TrialDeletion,
  ) {}

  /** Starts tracking `obj` in generation 0. */
  track(obj: Ptr): void {
    const i32 = this.space.i32;
    const w = obj >> 2;
    i32[w + W_INFO] = (i32[w + W_INFO] & CLEAR_GEN) | (0 << GEN_SHIFT);
    listAppend(i32, obj, this.space.head(0));
    this.size[0]++;
    this.trackedSlots += i32[w + W_CAP];
    this.provision();
    this.trial.cover(obj);
  }

  /** Stops tracking `obj` (a no-op if it is not tracked). */
  untrack(obj: Ptr): void {
    const i32 = this.space.i32;
    const w = obj >> 2;
    const gen = (i32[w + W_INFO] & GEN_MASK) >> GEN_SHIFT;
    if (gen === GEN_UNTRACKED) return;
    listRemove(i32, obj);
    if (gen <= GEN_PERMANENT) this.size[gen]--;
    this.trackedSlots -= i32[w + W_CAP];
    i32[w + W_INFO] = (i32[w + W_INFO] & CLEAR_GEN) | (GEN_UNTRACKED << GEN_SHIFT);
  }

  /** True if `obj` is tracked. */
  isTracked(obj: Ptr): boolean {
    return (this.space.i32[(obj >> 2) + W_INFO] & GEN_MASK) >> GEN_SHIFT !== GEN_UNTRACKED;
  }

  /** A tracked object's reference slots changed by `delta` (a list grew, or was cleared). */
  slotsChanged(obj: Ptr, delta: number): void {
    if (!this.isTracked(obj)) return;
    this.trackedSlots += delta;
    if (delta > 0) this.provision();
  }

  /** `_PyObject_GC_Link`: counts an allocation; true if a collection is due before it is tracked. */
  countAllocation(): boolean {
    const count = this.count;
    count[0]++;
    return count[0] > this.threshold[0] && this.enabled && this.threshold[0] !== 0;
  }

  /** `PyObject_GC_Del`: count[0] counts allocations minus deallocations of tracked types, never below 0. */
  countDeallocation(type: ObjectType): void {
    if (type.tracked && this.count[0] > 0) this.count[0]--;
  }

  /** gc_collect_generations' choice: the oldest generation over its threshold (the 25 % rule aside), or −1. */
  due(): number {
    for (let g = NUM_GENERATIONS - 1; g >= 0; g--) {
      if (this.count[g] > this.threshold[g]) {
        if (g === NUM_GENERATIONS - 1 && this.longLivedPending < Math.floor(this.longLivedTotal / 4))
          continue;
        return g;
      }
    }
    return -1;
  }

  /** Step 1 of a collection: count[g+1] += 1; count[0..g] = 0; generations 0..g merged into g. */
  begin(generation: number): CollectionScope {
    const count = this.count;
    if (generation + 1 < NUM_GENERATIONS) count[generation + 1]++;
    for (let g = 0; g <= generation; g++) count[g] = 0;
    const young = this.space.head(generation);
    for (let g = 0; g < generation; g++) listMerge(this.space.i32, this.space.head(g), young);
    const target = generation + 1 < NUM_GENERATIONS ? generation + 1 : generation;
    // young keeps its own objects first and the younger generations follow (listMerge appends)
    const settled = target === generation ? this.size[generation] : 0;
    for (let g = 0; g <= generation; g++) this.size[g] = 0;
    return { generation, young, target, old: this.space.head(target), settled };
  }

  /**
   * Step 5: the survivors left in young (already carrying the target generation's number) join it;
   * generation-1 survivors add to long_lived_pending, a full collection's set long_lived_total.
   */
  keepSurvivors(scope: CollectionScope, survivors: number): void {
    this.size[scope.target] += survivors;
    if (scope.young !== scope.old) {
      if (scope.generation === NUM_GENERATIONS - 2) this.longLivedPending += survivors;
      listMerge(this.space.i32, scope.young, scope.old);
    } else {
      this.longLivedPending = 0;
      this.longLivedTotal = survivors;
    }
  }

  /** Moves `obj` from whatever list holds it to the tail of generation `gen`, collector flags cleared. */
  placeIn(obj: Ptr, gen: number): void {
    const i32 = this.space.i32;
    listRemove(i32, obj);
    listAppend(i32, obj, this.space.head(gen));
    i32[(obj >> 2) + W_INFO] = (i32[(obj >> 2) + W_INFO] & SURVIVOR_KEEP) | (gen << GEN_SHIFT);
    this.size[gen]++;
  }

  /** Every node of `head` joins generation `gen` (collector flags cleared); `head` is left empty. */
  adopt(head: Ptr, gen: number): void {
    const i32 = this.space.i32;
    const bits = gen << GEN_SHIFT;
    let n = 0;
    for (let p = i32[(head >> 2) + W_NEXT]; p !== head; p = i32[(p >> 2) + W_NEXT]) {
      i32[(p >> 2) + W_INFO] = (i32[(p >> 2) + W_INFO] & SURVIVOR_KEEP) | bits;
      n++;
    }
    this.size[gen] += n;
    listMerge(i32, head, this.space.head(gen));
  }

  /** Adds a collection's figures to its generation's statistics. */
  record(generation: number, collected: number, uncollectable: number): void {
    const stats = this.stats[generation];
    stats.collections++;
    stats.collected += collected;
    stats.uncollectable += uncollectable;
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

  /** `gc.freeze()`: every tracked object moves to the permanent generation; all counts become 0. */
  freeze(): void {
    const permanent = this.space.head(HEADS.permanent);
    for (let g = 0; g < NUM_GENERATIONS; g++) {
      this.setGeneration(this.space.head(g), GEN_PERMANENT);
      listMerge(this.space.i32, this.space.head(g), permanent);
      this.size[GEN_PERMANENT] += this.size[g];
      this.size[g] = 0;
      this.count[g] = 0;
    }
  }

  /** `gc.unfreeze()`: the permanent generation goes back into the oldest generation. */
  unfreeze(): void {
    const permanent = this.space.head(HEADS.permanent);
    this.setGeneration(permanent, 2);
    listMerge(this.space.i32, permanent, this.space.head(2));
    this.size[2] += this.size[GEN_PERMANENT];
    this.size[GEN_PERMANENT] = 0;
    this.provision();
  }

  /** The objects of generation `gen` (3: the permanent one), in list order. */
  objects(gen: number): Ptr[] {
    return listNodes(this.space.i32, this.space.head(gen));
  }

  /** Sets the generation field of every node of a list. */
  private setGeneration(head: Ptr, gen: number): void {
    const i32 = this.space.i32;
    const bits = gen << GEN_SHIFT;
    for (let p = i32[(head >> 2) + W_NEXT]; p !== head; p = i32[(p >> 2) + W_NEXT]) {
      i32[(p >> 2) + W_INFO] = (i32[(p >> 2) + W_INFO] & CLEAR_GEN) | bits;
    }
  }

  /**
   * Keeps trial deletion's working arrays big enough for a full collection of every tracked object:
   * called as objects are tracked and lists grow, so the memory is allocated (and faulted in) outside
   * the collections, as CPython allocates each object's gc header with it.
   */
  private provision(): void {
    this.trial.provision(this.size[0] + this.size[1] + this.size[2], this.trackedSlots);
  }
}
