/**
 * Trial deletion (gcmodule.c's update_refs, subtract_refs and move_unreachable): which objects of a
 * list are reachable only from each other. It runs over dense arrays indexed by an object's position
 * in the list, 1 … n:
 *
 * ```
 *   heap (one resizable buffer)                        one plain Int32Array's segments (grown at
 *                                                      track time, see TrialDeletion.work)
 *   young ─► o ─► o ─► …     number: walk once ──►     objectAt [p1 p2 …]   gcRefs [rc1 rc2 …]
 *                                                      edges    [targets' addresses, object by object]
 *                                                      edgeStart[where each object's edges begin]
 *                                                      positionOf[(address − lowest) >> 5] := position
 *                                                                (0 outside a collection)
 *                            subtract: one read of positionOf per reference (0: not in young);
 *                                      then gcRefs[position] −= 1
 *                            move_unreachable over positions: the walk is 1 … n, then the objects
 *                                      that came back (a queue); "unreachable" is the objects moved
 *                                      out, in order, less those that came back — no list links;
 *                                      positionOf back to 0 as the walk passes
 *   young ◄── write back: generations and flags of the objects that change generation; relinked only
 *             if something moved
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
 * The first call of a pass takes this many, and each next call twice as many up to {@link CHUNK}: the
 * first calls return before V8 has seen a long loop, so the code after the loop has its feedback by
 * the time the function is compiled — even when that compilation starts inside a loop (OSR).
 */
const FIRST_CHUNK = 8;
/** A list with more references than this is numbered on its own (see numberLongList). */
const LONG_LIST = 64;

/** The size of the call after one of `size`. */
function nextChunk(size: number): number {
  return size < CHUNK ? size * 2 : CHUNK;
}

/** The passes that find what a list's objects keep alive only among themselves. */
export class TrialDeletion {
  /**
   * Every working array of deduceUnreachable, as segments of one plain `Int32Array` (TurboFan checks
   * and loads an array's map, length and data pointer again in a loop for each array used; one array
   * costs a pass a quarter less than five), grown as objects are tracked (see provision), kept between
   * collections:
   *
   * ```
   *  [0, P)           objectAt    position → object address
   *  [P, 2P)          gcRefs      position → gc_refs << 2 | S_UNREACHABLE | S_COLLECTING (see S_VISITED)
   *  [2P, 3P)         edgeStart   position → index of its first reference in edges; the entry after
   *                               the last object ends them
   *  [3P, 4P)         movedOut    the positions moved to the unreachable list, in the order they moved
   *  [4P, 5P)         cameBack    the positions that came back to young's tail, in that order
   *  [5P, 5P + E)     edges       the set's references, object by object in slot order; positions
   *                               after subtractRefs
   *  [5P + E, … + A)  positionOf  (address − addressBase) >> positionShift → the object's position during a
   *                               collection, 0 otherwise and for anything not in the set
   * ```
   *
   * Objects are at least a header apart, so no two share an entry of positionOf; it covers every
   * tracked object (see {@link TrialDeletion.cover}). Subtract_refs reads it once per reference, at
   * random: a plain array an eighth of the heap's size, where the heap's own words (a resizable
   * buffer) cost V8 more per access and are spread over all of it.
   */
  private work = new Int32Array(0);
  /** Positions P (0 … P − 1) the segments hold. */
  private positions = 0;
  /** References E `edges` holds. */
  private edgeRoom = 0;
  /** Entries A of positionOf. */
  private addressRoom = 0;
  /** The address positionOf's entry 0 stands for (entry k: addresses base + k·32 …). */
  private addressBase = 0;
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
   *   move        move_unreachable itself, over positions (see moveUnreachable: no linked list
   *               needed); positionOf back to 0
   *   write back  generations and flags of those that change, and — if anything moved — both lists
   *               relinked in the heap in their final order
   */
  deduceUnreachable(base: Ptr, unreachable: Ptr, survivorGen: number, settled = 0): number {
    if (!listEmpty(this.space.i32, unreachable)) {
      throw new HeapCorruptionError(unreachable, "trial deletion needs an empty unreachable list");
    }
    // small functions rather than one: each is optimized on its own, with its own type feedback
    const n = this.numberObjects(base);
    this.subtractRefs(n);
    const movedOut = this.moveUnreachable(n);
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
   * set": its gc_refs word stays 0, not COLLECTING. The walk goes up to {@link CHUNK} objects per call.
   */
  private numberObjects(base: Ptr): number {
    const i32 = this.space.i32;
    let p = i32[(base >> 2) + W_NEXT];
    let n = 0;
    let e = 0;
    let size = FIRST_CHUNK;
    while (p !== base) {
      // positions up to `room` leave room for the end entry n + 1 of edgeStart
      const room = this.positions - 3;
      if (n >= room) {
        this.grow(n + 4, 0, true);
        continue;
      }
      const next = this.numberChunk(p, base, n, e, Math.min(n + size, room));
      size = nextChunk(size);
      if (next !== p) {
        p = next;
        n = this.numbered;
        e = this.copied;
        continue;
      }
      // numberChunk stopped at p: its references do not fit in `edges`, or it is a long list
      const count = i32[(p >> 2) + W_NREFS];
      if (e + count > this.edgeRoom) {
        this.grow(0, e + count, true);
        continue;
      }
      p = this.numberLongList(p, ++n, e);
      e += count;
    }
    if (n + 2 >= this.positions) this.grow(n + 3, 0, true);
    this.work[2 * this.positions + n + 1] = e;
    return n;
  }

  /**
   * One call of numberObjects: numbers the objects from `p` on as n + 1, n + 2, … up to position
   * `last`, while their references fit in `edges`; leaves the new n and e in `numbered` and `copied`
   * and returns the first object not numbered (`base` at the end of the list).
   */
  private numberChunk(p: Ptr, base: Ptr, n: number, e: number, last: number): Ptr {
    const i32 = this.space.i32;
    const work = this.work;
    const P = this.positions;
    const gcRefs = P;
    const edgeStart = 2 * P;
    const edges = 5 * P;
    const positionOf = edges + this.edgeRoom;
    const shift = this.positionShift;
    const lowest = this.addressBase;
    const room = this.edgeRoom;
    while (p !== base && n < last) {
      // the header's words first, together
      const w = p >> 2;
      const count = i32[w + W_NREFS];
      if (e + count > room || count > LONG_LIST) break;
      const rc = i32[w + W_RC];
      const refs = i32[w + W_REFS] >> 2;
      const next = i32[w + W_NEXT];
      n++;
      work[n] = p; // objectAt
      work[gcRefs + n] = (rc << 2) | S_COLLECTING;
      work[positionOf + ((p - lowest) >> shift)] = n;
      work[edgeStart + n] = e;
      // two at a time: most objects hold a few references, and the loop's own steps cost as much
      const to = edges + e;
      let r = 0;
      for (; r + 1 < count; r += 2) {
        work[to + r] = i32[refs + r];
        work[to + r + 1] = i32[refs + r + 1];
      }
      if (r < count) work[to + r] = i32[refs + r];
      e += count;
      p = next;
    }
    this.numbered = n;
    this.copied = e;
    return p;
  }

  /**
   * Numbers one long list, `list`, as `position` (its references copied from `e` on, where they fit)
   * and returns the object after it. Its references are copied in one copy of the engine's, not by
   * numberChunk: a loop of numberChunk's as long as a long list would have V8 compile numberChunk in
   * the middle of it, before the rest of the function had run, and drop that code at its next call.
   */
  private numberLongList(list: Ptr, position: number, e: number): Ptr {
    const i32 = this.space.i32;
    const work = this.work;
    const P = this.positions;
    const w = list >> 2;
    const refs = i32[w + W_REFS] >> 2;
    work[position] = list;
    work[P + position] = (i32[w + W_RC] << 2) | S_COLLECTING;
    work[5 * P + this.edgeRoom + ((list - this.addressBase) >> this.positionShift)] = position;
    work[2 * P + position] = e;
    work.set(i32.subarray(refs, refs + i32[w + W_NREFS]), 5 * P + e);
    return i32[w + W_NEXT];
  }

  /**
   * subtract_refs: references from inside the set do not keep anything alive. Each reference becomes
   * its target's position for move_unreachable (0 for an empty slot or a target out of the set).
   */
  private subtractRefs(n: number): void {
    const end = this.work[2 * this.positions + n + 1];
    for (let k = 0, size = FIRST_CHUNK; k < end; k += size, size = nextChunk(size)) {
      this.subtractChunk(k, Math.min(k + size, end));
    }
    this.work[this.positions] = 0; // references out of the set were counted at position 0
  }

  /** One call of subtractRefs: references `from` … `to` − 1. */
  private subtractChunk(from: number, to: number): void {
    const work = this.work;
    const P = this.positions;
    const gcRefs = P;
    const edges = 5 * P;
    const positionOf = edges + this.edgeRoom;
    const covered = this.addressRoom;
    const lowest = this.addressBase;
    const shift = this.positionShift;
    // a read at random each, but in a plain array an eighth of the heap's size. An address past
    // positionOf (which covers every tracked object) is an untracked object's; one below it (an empty
    // slot's 0 among them: the base is at least 1) wraps past it too
    for (let k = edges + from, end = edges + to; k < end; k++) {
      const at = (work[k] - lowest) >>> shift;
      work[k] = at < covered ? work[positionOf + at] : 0;
    }
    for (let k = edges + from, end = edges + to; k < end; k++) work[gcRefs + work[k]] -= 4;
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
    for (let t = 1, size = FIRST_CHUNK; t <= n + this.cameBackCount; size = nextChunk(size)) {
      t = this.moveChunk(t, n, size);
    }
    return this.movedOutCount;
  }

  /** One call of moveUnreachable: up to `size` steps from step `first`; returns the next step. */
  private moveChunk(first: number, n: number, size: number): number {
    const work = this.work;
    const P = this.positions;
    const gcRefs = P;
    const edgeStart = 2 * P;
    const movedOut = 3 * P;
    const cameBack = 4 * P;
    const edges = 5 * P;
    const positionOf = edges + this.edgeRoom;
    const lowest = this.addressBase;
    const shift = this.positionShift;
    const oneRef = (1 << 2) | S_COLLECTING;
    let out = this.movedOutCount;
    let back = this.cameBackCount;
    const stop = first + size;
    let t = first;
    // step t visits position t while t ≤ n, then the (t − n)-th object that came back
    for (; t <= n + back && t < stop; t++) {
      let i = t;
      if (t <= n) {
        // positionOf back to 0 as the walk passes (subtract_refs was its last reader): outside a
        // collection it holds no position
        work[positionOf + ((work[i] - lowest) >> shift)] = 0;
      } else {
        i = work[cameBack + t - n - 1];
      }
      if (work[gcRefs + i] >>> 2 === 0) {
        // tentatively unreachable (what came back has gc_refs 1, so this is a first visit)
        work[gcRefs + i] |= S_UNREACHABLE;
        work[movedOut + out++] = i;
        continue;
      }
      // reachable from outside (or from something that is): everything it refers to is too. A child
      // needs work only if it is in the set with gc_refs 0 and not visited: state COLLECTING, with
      // or without UNREACHABLE. Which children do is as random as the graph, so the step has no
      // branch to mispredict: every child's word is rewritten (to itself, or to gc_refs 1), and
      // every child is written at the queue's tail, which moves on only if the child had been moved
      // out.
      for (let e = edges + work[edgeStart + i], end = edges + work[edgeStart + i + 1]; e < end; e++) {
        const c = work[e];
        const state = work[gcRefs + c];
        const needsWork = (((state | S_UNREACHABLE) ^ (S_COLLECTING | S_UNREACHABLE)) - 1) >>> 31;
        work[gcRefs + c] = state ^ ((state ^ oneRef) & -needsWork);
        work[cameBack + back] = c;
        back += needsWork & (state >>> 1); // S_UNREACHABLE is bit 1
      }
      work[gcRefs + i] = t <= n ? 0 : S_VISITED;
    }
    this.movedOutCount = out;
    this.cameBackCount = back;
    return t;
  }

  /**
   * The write-back when no object moved: the heap list is right as it is; each object from position
   * `first` to n gets generation `gen` with the collector flags cleared (those before `first` have it
   * already); its info word is written only if that changes it.
   */
  private writeBackInPlace(first: number, n: number, gen: number): void {
    for (let i = first, size = FIRST_CHUNK; i <= n; i += size, size = nextChunk(size)) {
      this.writeBackChunk(i, Math.min(i + size, n + 1), gen);
    }
  }

  /** One call of writeBackInPlace: positions `from` … `to` − 1. */
  private writeBackChunk(from: number, to: number, gen: number): void {
    const i32 = this.space.i32;
    const work = this.work;
    const keep = CLEAR_GEN & ~(F_COLLECTING | F_UNREACHABLE);
    const bits = gen << GEN_SHIFT;
    for (let i = from; i < to; i++) {
      const w = work[i] >> 2;
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
    for (let t = 1, size = FIRST_CHUNK; this.relinked < survivors; size = nextChunk(size)) {
      t = this.relinkSurvivorChunk(t, n, survivors, bits, size);
    }
    const i32 = this.space.i32;
    const last = this.lastLinked;
    i32[(last >> 2) + W_NEXT] = head;
    i32[(head >> 2) + W_PREV] = last;
  }

  /** One call of relinkSurvivors: up to `size` steps of the walk from step `first`; returns the next step. */
  private relinkSurvivorChunk(
    first: number,
    n: number,
    survivors: number,
    bits: number,
    size: number,
  ): number {
    const work = this.work;
    const gcRefs = this.positions;
    const cameBack = 4 * this.positions;
    const keep = CLEAR_GEN & ~(F_COLLECTING | F_UNREACHABLE);
    let last = this.lastLinked;
    let linked = this.relinked;
    const stop = first + size;
    let t = first;
    for (; linked < survivors && t < stop; t++) {
      // the walk's order again: positions 1 … n that never left (word 0), then what came back
      const i = t <= n ? t : work[cameBack + t - n - 1];
      if (t <= n && work[gcRefs + i] !== 0) continue;
      last = this.relinkAfter(last, work[i], keep, bits);
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
    for (let k = 0, size = FIRST_CHUNK; this.relinked < count; size = nextChunk(size)) {
      k = this.relinkUnreachableChunk(k, count, size);
    }
    const i32 = this.space.i32;
    const last = this.lastLinked;
    i32[(last >> 2) + W_NEXT] = head;
    i32[(head >> 2) + W_PREV] = last;
  }

  /** One call of relinkUnreachable: up to `size` entries of `movedOut` from `first`; returns the next. */
  private relinkUnreachableChunk(first: number, count: number, size: number): number {
    const work = this.work;
    const gcRefs = this.positions;
    const movedOut = 3 * this.positions;
    const flags = (GEN_WORKING << GEN_SHIFT) | F_COLLECTING | F_UNREACHABLE;
    let last = this.lastLinked;
    let linked = this.relinked;
    const stop = first + size;
    let k = first;
    for (; linked < count && k < stop; k++) {
      const i = work[movedOut + k];
      if ((work[gcRefs + i] & S_COLLECTING) === 0) continue; // it came back
      last = this.relinkAfter(last, work[i], CLEAR_GEN, flags);
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
    if (positions >= this.positions || slots > this.edgeRoom) this.grow(positions + 1, slots, false);
  }

  /**
   * Makes positionOf cover the object `obj`: called as objects are tracked, so that it covers every
   * tracked object (numbering does not check); it spans the addresses of the tracked objects (at
   * least doubling when it grows), not the heap's whole memory.
   */
  cover(obj: Ptr): void {
    const shift = this.positionShift;
    const base = this.addressBase;
    const A = this.addressRoom;
    if (obj >= base && (obj - base) >>> shift < A) return;
    // the addresses covered so far and obj's, in at least twice as many entries: the new ones above
    // when it grows up, below when it grows down
    const unit = 1 << shift;
    const start = A === 0 ? obj : Math.min(base, obj);
    const end = A === 0 ? obj + 1 : Math.max(base + A * unit, obj + 1);
    const entries = Math.max(Math.ceil((end - start) / unit) + 1, 2 * A, 1024);
    // at least 1, so that an empty slot (address 0) is below it
    const newBase = A !== 0 && obj < base ? Math.max(1, end - entries * unit) : start;
    this.reallocate(this.positions, this.edgeRoom, entries, newBase, false);
  }

  /**
   * Makes `work` hold at least `positions` positions and `edges` references (each segment at least
   * doubles when it grows). `keep`: in the middle of numbering, every segment's entries are kept.
   */
  private grow(positions: number, edges: number, keep: boolean): void {
    const P = this.positions;
    const E = this.edgeRoom;
    const newP = positions > P ? Math.max(positions, 2 * P, 1024) : P;
    const newE = edges > E ? Math.max(edges, 2 * E, 1024) : E;
    this.reallocate(newP, newE, this.addressRoom, this.addressBase, keep);
  }

  /**
   * Lays `work` out anew for segments of the given sizes and positionOf's base. Outside a collection
   * every segment is scratch (positionOf must only read 0): the array is cut up differently, and only
   * when it is too small is a new one made, twice as large, written once all through so that its
   * pages are mapped now rather than at their first use in a collection (fresh memory is mapped page
   * by page on first touch). `keep`, in the middle of numbering: the old segments' entries are copied
   * into a new array (the sizes only grow, and positionOf's base and size stay).
   */
  private reallocate(newP: number, newE: number, newA: number, newBase: number, keep: boolean): void {
    const P = this.positions;
    const E = this.edgeRoom;
    const A = this.addressRoom;
    const old = this.work;
    const total = 5 * newP + newE + newA;
    if (!keep && total <= old.length) {
      old.fill(0, 5 * newP + newE, total);
    } else {
      const work = new Int32Array(keep ? total : Math.max(total, 2 * old.length));
      work.fill(0);
      if (keep) {
        for (let segment = 0; segment < 5; segment++) {
          work.set(old.subarray(segment * P, segment * P + P), segment * newP);
        }
        work.set(old.subarray(5 * P, 5 * P + E), 5 * newP);
        work.set(old.subarray(5 * P + E, 5 * P + E + A), 5 * newP + newE);
      }
      this.work = work;
    }
    this.positions = newP;
    this.edgeRoom = newE;
    this.addressRoom = newA;
    this.addressBase = newBase;
  }
}
