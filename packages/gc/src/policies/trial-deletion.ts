/**
 * Trial deletion (gcmodule.c's update_refs, subtract_refs and move_unreachable): which objects of a
 * list are reachable only from each other. It runs over dense arrays indexed by an object's position
 * in the list, 1 … n:
 *
 * ```
 *   heap (one resizable buffer)                        plain Int32Arrays (grown at track time)
 *   young ─► o ─► o ─► …     number: walk once ──►     objectAt [p1 p2 …]   gcRefs [rc1 rc2 …]
 *                                                      edges    [targets' addresses, object by object]
 *                                                      edgeStart[where each object's edges begin]
 *                                                      positionOf[address >> 5] := position
 *                                                                (0 outside a collection)
 *                            subtract: one read of positionOf per reference (0: not in young);
 *                                      then gcRefs[position] −= 1
 *                            move_unreachable over positions: the walk is 1 … n, then the objects
 *                                      that came back (a queue); "unreachable" is the objects moved
 *                                      out, in order, less those that came back — no list links
 *   young ◄── write back: generations and flags of the objects that change generation; relinked only
 *             if something moved; positionOf back to 0
 * ```
 *
 * @module
 */
import { HeapCorruptionError, type Ptr } from "@heapkit/contract";
import * as layout from "../layout.js";
import { listEmpty } from "../lists.js";
import type { ManagedHeap } from "../managed.js";

// Module-local copies of the layout constants: some toolchains (vite/vitest) turn every use of an
// imported binding into a property read on a module object, which the hot loops cannot afford.
const {
  F_COLLECTING,
  F_UNREACHABLE,
  GEN_MASK,
  GEN_SHIFT,
  GEN_WORKING,
  W_INFO,
  W_NEXT,
  W_NREFS,
  W_PREV,
  W_RC,
  W_REFS,
} = layout;

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
 * Objects (or references, or steps) a pass handles per call. Each pass runs as many short calls
 * rather than one long loop: V8 gives a function its type feedback lazily and compiles a long-running
 * call on the stack (OSR) with what few iterations it has seen, then drops that code at the first
 * statement the feedback missed ("insufficient type feedback") — again at the next collection. A
 * function called many times is compiled whole, with the feedback of whole calls, and the
 * collections after the first run compiled code from their start (see the README's Benchmarks).
 */
const CHUNK = 512;

/**
 * A new `Int32Array` of `size` holding `old`'s entries then zeros, every page of it written once. The
 * zeros are already there; writing them makes the kernel map the pages now rather than at their first
 * use (a large array is fresh memory, mapped page by page on first touch), so that a collection
 * does not pay for them: the README's Benchmarks section has the figures.
 */
function faultedIn(size: number, old?: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const array = new Int32Array(size);
  if (old !== undefined) array.set(old);
  array.fill(0, old === undefined ? 0 : old.length);
  return array;
}

/** The passes that find what a list's objects keep alive only among themselves. */
export class TrialDeletion {
  // The dense working arrays of deduceUnreachable, indexed by an object's position in the list being
  // examined. Grown as objects are tracked (see provision), kept between collections.
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
  /**
   * `address >> positionShift` → the object's position during a collection, 0 otherwise (and for
   * anything not in the set being examined). Objects are at least a header apart, so no two share
   * an entry. It covers every tracked object's address (see {@link TrialDeletion.cover}); a reference
   * beyond it is to an untracked object. A plain array: a collection reads it once per reference, at
   * random, where the heap's own words (a resizable buffer) cost V8 more per access and are spread
   * over the whole heap.
   */
  private positionOf = new Int32Array(0);
  /** log2 of the header's bytes, rounded down: addresses of distinct objects differ in these bits. */
  private readonly positionShift: number;
  /** How many entries of `cameBack` moveUnreachable has filled. */
  private cameBackCount = 0;
  /** How many entries of `movedOut` moveUnreachable has filled. */
  private movedOutCount = 0;
  /** Where numberChunk left off: the last position numbered… */
  private numbered = 0;
  /** …and the references copied so far. */
  private copied = 0;
  /** Where a relinking chunk left off: the objects linked so far, and the last of them. */
  private relinked = 0;
  private lastLinked = 0;

  constructor(private readonly space: ManagedHeap) {
    this.positionShift = 31 - Math.clz32(space.header.bytes);
  }

  /**
   * update_refs + subtract_refs + move_unreachable: leaves in `base` what is reachable from outside
   * it (given generation `survivorGen`, flags cleared) and moves the rest to the empty list
   * `unreachable` (flagged COLLECTING | UNREACHABLE, generation WORKING), both in exactly the order
   * CPython's passes leave them. Returns the number of survivors. The first `settled` objects of
   * `base` already carry generation `survivorGen`, with the collector's flags clear (a full
   * collection's old objects): if nothing moves, their headers are not written.
   *
   * CPython's passes go to every reference's target twice, at random places in the heap (subtract_refs,
   * then move_unreachable). Here the heap is walked once and the rest runs over plain arrays indexed
   * by an object's position in `base` (1 … n, in list order), which are small, and plain: every
   * access to the heap's words (a resizable buffer) costs V8 extra checks.
   *
   *   number      walk `base`: position → address, gc_refs := refcount, its references copied out,
   *               positionOf[its address] := its position (0 means "not in the set")
   *   subtract    each reference becomes its target's position, then gc_refs −= 1 per reference
   *               inside the set
   *   move        move_unreachable itself, over positions (see moveUnreachable: no linked list needed)
   *   write back  generations and flags of those that change, and — if anything moved — both lists
   *               relinked in the heap in their final order; positionOf back to 0
   */
  deduceUnreachable(base: Ptr, unreachable: Ptr, survivorGen: number, settled = 0): number {
    if (!listEmpty(this.space.i32, unreachable)) {
      throw new HeapCorruptionError(unreachable, "trial deletion needs an empty unreachable list");
    }
    // small functions rather than one: each is optimized on its own, with its own type feedback
    const n = this.numberObjects(base);
    this.subtractRefs(n);
    const movedOut = this.moveUnreachable(n);
    this.forgetPositions(n);
    if (movedOut === 0) {
      // nobody left young: the heap list is already in its final order
      this.writeBackInPlace(Math.max(settled, 0) + 1, n, survivorGen);
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
   * set": its gc_refs word stays 0, not COLLECTING. The walk goes {@link CHUNK} objects per call.
   */
  private numberObjects(base: Ptr): number {
    const i32 = this.space.i32;
    let p = i32[(base >> 2) + W_NEXT];
    let n = 0;
    let e = 0;
    while (p !== base) {
      // positions up to `room` leave room for the end entry n + 1 of edgeStart
      const room = this.objectAt.length - 3;
      if (n >= room) {
        this.growWorkingArrays(n + 3);
        continue;
      }
      if (p >> this.positionShift >= this.positionOf.length) this.cover(p);
      const next = this.numberChunk(p, base, n, e, Math.min(n + CHUNK, room));
      if (next === p) {
        // the next object's references do not fit in `edges`
        this.growEdges(e + i32[(p >> 2) + W_NREFS]);
        continue;
      }
      p = next;
      n = this.numbered;
      e = this.copied;
    }
    if (n + 2 >= this.objectAt.length) this.growWorkingArrays(n + 2);
    this.edgeStart[n + 1] = e;
    return n;
  }

  /**
   * One call of numberObjects: numbers the objects from `p` on as n + 1, n + 2, … up to position
   * `last`, while their references fit in `edges` and their addresses in `positionOf`; leaves the new
   * n and e in `numbered` and `copied` and returns the first object not numbered (`base` at the end
   * of the list).
   */
  private numberChunk(p: Ptr, base: Ptr, n: number, e: number, last: number): Ptr {
    const i32 = this.space.i32;
    const objectAt = this.objectAt;
    const gcRefs = this.gcRefs;
    const edgeStart = this.edgeStart;
    const edges = this.edges;
    const positionOf = this.positionOf;
    const shift = this.positionShift;
    const room = edges.length;
    const covered = positionOf.length;
    while (p !== base && n < last) {
      const w = p >> 2;
      const count = i32[w + W_NREFS];
      const at = p >> shift;
      if (e + count > room || at >= covered) break;
      n++;
      objectAt[n] = p;
      gcRefs[n] = (i32[w + W_RC] << 2) | S_COLLECTING;
      positionOf[at] = n;
      edgeStart[n] = e;
      const refs = i32[w + W_REFS] >> 2;
      for (let r = 0; r < count; r++) edges[e + r] = i32[refs + r];
      e += count;
      p = i32[w + W_NEXT];
    }
    this.numbered = n;
    this.copied = e;
    return p;
  }

  /**
   * subtract_refs: references from inside the set do not keep anything alive. Each reference becomes
   * its target's position for move_unreachable (0 for an empty slot or a target out of the set).
   */
  private subtractRefs(n: number): void {
    const end = this.edgeStart[n + 1];
    for (let k = 0; k < end; k += CHUNK) this.subtractChunk(k, Math.min(k + CHUNK, end));
    this.gcRefs[0] = 0; // references out of the set were counted there
  }

  /** One call of subtractRefs: references `from` … `to` − 1. */
  private subtractChunk(from: number, to: number): void {
    const edges = this.edges;
    const positionOf = this.positionOf;
    const shift = this.positionShift;
    const covered = positionOf.length;
    // a read at random each, but in a plain array an eighth of the heap's size
    for (let k = from; k < to; k++) {
      const target = edges[k];
      const at = target >> shift;
      edges[k] = target !== 0 && at < covered ? positionOf[at] : 0;
    }
    const gcRefs = this.gcRefs;
    for (let k = from; k < to; k++) gcRefs[edges[k]] -= 4;
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
    this.cameBackCount = 0;
    this.movedOutCount = 0;
    for (let t = 1; t <= n + this.cameBackCount; ) t = this.moveChunk(t, n);
    return this.movedOutCount;
  }

  /** One call of moveUnreachable: up to {@link CHUNK} steps from step `first`; returns the next step. */
  private moveChunk(first: number, n: number): number {
    const gcRefs = this.gcRefs;
    const edgeStart = this.edgeStart;
    const edges = this.edges;
    const movedOut = this.movedOut;
    const cameBack = this.cameBack;
    const oneRef = (1 << 2) | S_COLLECTING;
    let out = this.movedOutCount;
    let back = this.cameBackCount;
    const stop = first + CHUNK;
    let t = first;
    // step t visits position t while t ≤ n, then the (t − n)-th object that came back
    for (; t <= n + back && t < stop; t++) {
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
      // branch to mispredict: every child's word is
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
    this.movedOutCount = out;
    this.cameBackCount = back;
    return t;
  }

  /** positionOf back to 0 for the objects numbered 1 … n: outside a collection it holds no position. */
  private forgetPositions(n: number): void {
    for (let i = 1; i <= n; i += CHUNK) this.forgetChunk(i, Math.min(i + CHUNK, n + 1));
  }

  /** One call of forgetPositions: positions `from` … `to` − 1. */
  private forgetChunk(from: number, to: number): void {
    const objectAt = this.objectAt;
    const positionOf = this.positionOf;
    const shift = this.positionShift;
    for (let i = from; i < to; i++) positionOf[objectAt[i] >> shift] = 0;
  }

  /**
   * The write-back when no object moved: the heap list is right as it is; each object from position
   * `first` to n gets generation `gen` with the collector flags cleared (those before `first` have it
   * already); its info word is written only if that changes it.
   */
  private writeBackInPlace(first: number, n: number, gen: number): void {
    for (let i = first; i <= n; i += CHUNK) this.writeBackChunk(i, Math.min(i + CHUNK, n + 1), gen);
  }

  /** One call of writeBackInPlace: positions `from` … `to` − 1. */
  private writeBackChunk(from: number, to: number, gen: number): void {
    const i32 = this.space.i32;
    const objectAt = this.objectAt;
    const keep = CLEAR_GEN & ~(F_COLLECTING | F_UNREACHABLE);
    const bits = gen << GEN_SHIFT;
    for (let i = from; i < to; i++) {
      const w = objectAt[i] >> 2;
      const info = i32[w + W_INFO];
      const survivorInfo = (info & keep) | bits;
      if (survivorInfo !== info) i32[w + W_INFO] = survivorInfo;
    }
  }

  /**
   * Relinks young (`head`) in the heap in its final order — the positions that never left, in order
   * (word 0), then those that came back — giving them generation `gen`, flags cleared.
   */
  private relinkSurvivors(n: number, survivors: number, head: Ptr, gen: number): void {
    const bits = gen << GEN_SHIFT;
    this.relinked = 0;
    this.lastLinked = head;
    for (let t = 1; this.relinked < survivors; ) t = this.relinkSurvivorChunk(t, n, survivors, bits);
    const i32 = this.space.i32;
    const last = this.lastLinked;
    i32[(last >> 2) + W_NEXT] = head;
    i32[(head >> 2) + W_PREV] = last;
  }

  /** One call of relinkSurvivors: up to {@link CHUNK} steps of the walk from step `first`; returns the next step. */
  private relinkSurvivorChunk(first: number, n: number, survivors: number, bits: number): number {
    const objectAt = this.objectAt;
    const gcRefs = this.gcRefs;
    const cameBack = this.cameBack;
    const keep = CLEAR_GEN & ~(F_COLLECTING | F_UNREACHABLE);
    let last = this.lastLinked;
    let linked = this.relinked;
    const stop = first + CHUNK;
    let t = first;
    for (; linked < survivors && t < stop; t++) {
      // the walk's order again: positions 1 … n that never left (word 0), then what came back
      const i = t <= n ? t : cameBack[t - n - 1];
      if (t <= n && gcRefs[i] !== 0) continue;
      last = this.relinkAfter(last, objectAt[i], keep, bits);
      linked++;
    }
    this.lastLinked = last;
    this.relinked = linked;
    return t;
  }

  /** Links the unreachable objects, in the order they were moved out, into the empty list `head`. */
  private relinkUnreachable(count: number, head: Ptr): void {
    this.relinked = 0;
    this.lastLinked = head;
    for (let k = 0; this.relinked < count; ) k = this.relinkUnreachableChunk(k, count);
    const i32 = this.space.i32;
    const last = this.lastLinked;
    i32[(last >> 2) + W_NEXT] = head;
    i32[(head >> 2) + W_PREV] = last;
  }

  /** One call of relinkUnreachable: up to {@link CHUNK} entries of `movedOut` from `first`; returns the next. */
  private relinkUnreachableChunk(first: number, count: number): number {
    const objectAt = this.objectAt;
    const gcRefs = this.gcRefs;
    const movedOut = this.movedOut;
    const flags = (GEN_WORKING << GEN_SHIFT) | F_COLLECTING | F_UNREACHABLE;
    let last = this.lastLinked;
    let linked = this.relinked;
    const stop = first + CHUNK;
    let k = first;
    for (; linked < count && k < stop; k++) {
      const i = movedOut[k];
      if ((gcRefs[i] & S_COLLECTING) === 0) continue; // it came back
      last = this.relinkAfter(last, objectAt[i], CLEAR_GEN, flags);
      linked++;
    }
    this.lastLinked = last;
    this.relinked = linked;
    return k;
  }

  /**
   * One step of the relinking passes: links `obj` after `last` (the caller closes the list) and sets
   * its info word to `(info & keep) | bits`. Returns `obj`, the new last.
   */
  private relinkAfter(last: Ptr, obj: Ptr, keep: number, bits: number): Ptr {
    const i32 = this.space.i32;
    const w = obj >> 2;
    i32[(last >> 2) + W_NEXT] = obj;
    i32[w + W_PREV] = last;
    i32[w + W_INFO] = (i32[w + W_INFO] & keep) | bits;
    return obj;
  }

  /**
   * Keeps the working arrays big enough for a collection of `tracked` objects holding `slots`
   * reference slots. Cheap unless they must grow. numberObjects still checks as it goes: a short array
   * would drop writes.
   */
  provision(tracked: number, slots: number): void {
    // numberObjects' own test, for n = every tracked object
    const positions = tracked + 2;
    if (positions >= this.objectAt.length) this.growWorkingArrays(positions);
    if (slots > this.edges.length) this.growEdges(slots);
  }

  /**
   * Makes `positionOf` cover the address `obj` (called as objects are tracked): grown, if it must, to
   * cover the heap's whole memory as it is now, so that it grows as often as the memory does.
   */
  cover(obj: Ptr): void {
    const at = obj >> this.positionShift;
    if (at < this.positionOf.length) return;
    const heapEntries = (this.space.i32.length << 2) >>> this.positionShift;
    this.positionOf = faultedIn(
      Math.max(at + 1, heapEntries + 1, this.positionOf.length * 2, 1024),
      this.positionOf,
    );
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
}
