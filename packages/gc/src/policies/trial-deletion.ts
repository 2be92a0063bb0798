/**
 * Trial deletion (gcmodule.c's update_refs, subtract_refs and move_unreachable): which objects of a
 * list are reachable only from each other. The heap is walked once; everything else runs over plain
 * arrays, each object's gc_refs indexed by its address, the walk over a copy of the list:
 *
 * ```
 *   heap (one buffer, maybe resizable)             one plain Int32Array's segments (grown at track
 *                                                  time, see TrialDeletion.work)
 *   young ─► o ─► o ─► …   number: walk once ──►   records [p1 2 s s | p2 3 s s s | …]  address, count,
 *                                                           the references' slots, in list order
 *                                                  state   [slot → gc_refs]  slot = (address − lowest) >> 5
 *                          update_refs and subtract_refs in the same walk: state[own slot] += refcount,
 *                                  state[target's slot] −= 1 per reference (the sums add up in any order)
 *                          move_unreachable over the records: the walk is the records in order, then
 *                                  the objects that came back (a queue); "unreachable" is the objects
 *                                  moved out, in order, less those that came back — no list links;
 *                                  state back to 0
 *   young ◄── relinked only if something moved (the generations and flags of those that stay are
 *             written as they are numbered)
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
/** The info bits a survivor keeps: its generation is set anew and the collector's flags cleared. */
const SURVIVOR_KEEP = CLEAR_GEN & ~(F_COLLECTING | F_UNREACHABLE);
/**
 * log2 of the bytes of address a slot of `state` stands for: the counted header's 32 bytes, so no two
 * objects share a slot. A constant, so that the compiler knows every slot fits 27 bits.
 */
const SLOT_SHIFT = 5;
/** Flag of a slot's state during deduceUnreachable: in the set being examined. */
const S_COLLECTING = 1;
/** Flag of a slot's state during deduceUnreachable: tentatively unreachable. */
const S_UNREACHABLE = 2;
/**
 * A slot's state once move_unreachable has visited it as reachable (no longer COLLECTING, so it is
 * not visited again): 0 if it never left its place in young, S_VISITED if it had been moved out and
 * came back to young's tail.
 */
const S_VISITED = S_UNREACHABLE;
/** Words of a record before its references: the object's address and its number of references. */
const RECORD_HEAD = 2;

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

/**
 * A slot's state, put back to 0 if it is negative and even: a reference from the set to an object
 * outside it (or to nothing), whose slot numbering decremented and nothing else wrote. An object of
 * the set is odd (COLLECTING) until visited, then 0 or S_VISITED.
 */
function cleared(state: number): number {
  return state & ~((state >> 31) & ((state & S_COLLECTING) - 1));
}

/** The passes that find what a list's objects keep alive only among themselves. */
export class TrialDeletion {
  /**
   * Every working array of deduceUnreachable, as segments of one plain `Int32Array` (TurboFan checks
   * and loads an array's map, length and data pointer again in a loop for each array used), grown as
   * objects are tracked (see provision), kept between collections:
   *
   * ```
   *  [0, P)           movedOut   the records moved to the unreachable list, in the order they moved
   *  [P, 2P)          cameBack   the slots of the objects that came back to young's tail, in that order
   *  [2P, 2P + R)     records    the set in list order, an object each: its address, its number of
   *                              references, then their targets' slots (offsets into this segment
   *                              stand for the objects)
   *  [2P + R, … + 1)  state      slot → gc_refs << 2 | S_UNREACHABLE | S_COLLECTING (see S_VISITED)
   *                              during a collection, 0 outside one; slot A stands for every address
   *                              outside the A slots (an empty reference's 0 among them)
   * ```
   *
   * A slot is (address − addressBase) >> 5; the slots cover every tracked object (see {@link
   * TrialDeletion.cover}). gc_refs indexed by address rather than by position in the list needs no
   * pass of its own for subtract_refs: numbering finds a reference's slot by arithmetic on its
   * address and decrements it at once, before or after the target adds its own refcount. A reference
   * to an object outside the set decrements that object's slot too; move_unreachable puts it back to
   * 0 as it meets it (see {@link cleared}), and so does the relinking of the unreachable objects for
   * their own references. The random accesses land in a plain array of a word per 32 bytes of the
   * tracked objects' span, where the heap's own words (in a resizable buffer, a heap's own under 32 MiB) cost V8 more per access
   * and are spread over all of it.
   */
  private work = new Int32Array(0);
  /** Entries P of movedOut and cameBack: more than the objects of a collection. */
  private positions = 0;
  /** Words R the records hold. */
  private recordRoom = 0;
  /**
   * Slot → its object's record, written only when something comes back (the queue is the only
   * reader), never cleared: an array of its own, made at the first collection that needs it, so that
   * the working array, which grows as objects are tracked, does not carry it.
   */
  private recordOf = new Int32Array(0);
  /** Slots A: state holds one more. */
  private addressRoom = 0;
  /** The address slot 0 stands for (slot k: addresses base + k·32 …). */
  private addressBase = 0;
  /** How many entries of `cameBack` moveUnreachable has filled. */
  private cameBackCount = 0;
  /** How many entries of `movedOut` moveUnreachable has filled. */
  private movedOutCount = 0;
  /** Where numberChunk left off: the objects numbered so far… */
  private numbered = 0;
  /** …and where a pass over the records left off (numberChunk: the words written so far). */
  private cursor = 0;
  /** Where a relinking chunk left off: the objects linked so far, and the last of them. */
  private relinked = 0;
  private lastLinked = 0;

  constructor(private readonly space: ManagedHeap) {
    if (space.header.bytes < 1 << SLOT_SHIFT) {
      throw new RangeError(`trial deletion needs headers of at least ${1 << SLOT_SHIFT} bytes`);
    }
  }

  /**
   * update_refs + subtract_refs + move_unreachable: leaves in `base` what is reachable from outside
   * it (given generation `survivorGen`, flags cleared) and moves the rest to the empty list
   * `unreachable` (flagged COLLECTING | UNREACHABLE, generation WORKING), both in exactly the order
   * CPython's passes leave them. Returns the number of survivors. The first `settled` objects of
   * `base` already carry generation `survivorGen`, with the collector's flags clear (a full
   * collection's old objects): their headers are not written unless they move.
   *
   * CPython's passes go to every reference's target twice, at random places in the heap (subtract_refs,
   * then move_unreachable). Here the heap is walked once and the rest runs over plain arrays, which
   * are small, and plain: every access to the heap's words costs V8 extra checks when the buffer is resizable.
   *
   *   number      walk `base`: its record, state[slot] += refcount, state[target's slot] −= 1 per
   *               reference (update_refs and subtract_refs); each object past the settled ones gets
   *               the survivors' generation and flags now (relinking rewrites those of any that move)
   *   move        move_unreachable itself, over the records (see moveUnreachable: no linked list
   *               needed); state back to 0
   *   relink      only if anything moved: both lists relinked in the heap in their final order
   */
  deduceUnreachable(base: Ptr, unreachable: Ptr, survivorGen: number, settled = 0): number {
    if (!listEmpty(this.space.i32, unreachable)) {
      throw new HeapCorruptionError(unreachable, "trial deletion needs an empty unreachable list");
    }
    // small functions rather than one: each is optimized on its own, with its own type feedback
    const n = this.numberObjects(base, settled, survivorGen << GEN_SHIFT);
    const movedOut = this.moveUnreachable(n);
    // nobody left young: the heap list is already in its final order
    if (movedOut === 0) return n;
    const survivors = n - movedOut + this.cameBackCount;
    this.relinkSurvivors(n, survivors, base, survivorGen << GEN_SHIFT);
    this.relinkUnreachable(n - survivors, unreachable);
    return survivors;
  }

  /**
   * update_refs and subtract_refs: copies out the objects of `base` as records in list order, each
   * reference decrementing its target's state, and gives those past the first `settled` the info
   * `bits` of a survivor; returns the number of objects. The walk goes up to {@link CHUNK} objects
   * per call.
   */
  private numberObjects(base: Ptr, settled: number, bits: number): number {
    const i32 = this.space.i32;
    let p = i32[(base >> 2) + W_NEXT];
    let n = 0;
    let r = 0;
    let size = FIRST_CHUNK;
    while (p !== base) {
      // the queues hold an entry per object, and a call numbers at least one
      const room = this.positions - 2;
      if (n >= room) {
        this.grow(n + 3, 0, true);
        continue;
      }
      const next = this.numberChunk(p, base, n, r, Math.min(n + size, room), settled, bits);
      size = nextChunk(size);
      if (next !== p) {
        p = next;
        n = this.numbered;
        r = this.cursor;
        continue;
      }
      // numberChunk stopped at p: it is a long list, or its record may not fit (numberLongList
      // numbers any object, once its record fits)
      const words = RECORD_HEAD + i32[(p >> 2) + W_NREFS];
      if (r + words > this.recordRoom) {
        this.grow(0, r + words, true);
        continue;
      }
      p = this.numberLongList(p, r, ++n > settled, bits);
      r += words;
    }
    return n;
  }

  /**
   * One call of numberObjects: numbers the objects from `p` on as n + 1, n + 2, … up to `last`, their
   * records from word `r` on, while they fit (a record is sure to fit if it starts RECORD_HEAD +
   * LONG_LIST words before the end: past that, the rest go through numberLongList, which fits them
   * exactly); leaves the new n and r in `numbered` and `cursor` and returns the first object not
   * numbered (`base` at the end of the list).
   */
  private numberChunk(
    p: Ptr,
    base: Ptr,
    n: number,
    r: number,
    last: number,
    settled: number,
    bits: number,
  ): Ptr {
    const i32 = this.space.i32;
    const work = this.work;
    const records = 2 * this.positions;
    const state = records + this.recordRoom;
    const A = this.addressRoom;
    const lowest = this.addressBase;
    // where the next record goes, and the last place one of any short object's length fits. Indices
    // kept as int32 (| 0) and as few live values as possible: fewer spills in V8's code
    let at = (records + r) | 0;
    const lastStart = (state - RECORD_HEAD - LONG_LIST) | 0;
    let i = n | 0;
    while (p !== base && i < last) {
      // the header's words first, together
      const w = p >> 2;
      const count = i32[w + W_NREFS];
      if (at > lastStart || count > LONG_LIST) break;
      const rc = i32[w + W_RC];
      const refs = i32[w + W_REFS] >> 2;
      const next = i32[w + W_NEXT];
      if (i >= settled) {
        const info = i32[w + W_INFO];
        const survivorInfo = (info & SURVIVOR_KEEP) | bits;
        if (survivorInfo !== info) i32[w + W_INFO] = survivorInfo;
      }
      i = (i + 1) | 0;
      // a tracked object: inside the slots
      work[state + ((p - lowest) >> SLOT_SHIFT)] += (rc << 2) | S_COLLECTING;
      work[at] = p;
      work[at + 1] = count;
      // two at a time: most objects hold a few references, and the loop's own steps cost as much.
      // An address below the slots (an empty reference's 0: the base is at least 1) wraps past them
      const to = (at + RECORD_HEAD) | 0;
      let k = 0;
      for (; k + 1 < count; k += 2) {
        const a = Math.min((i32[refs + k] - lowest) >>> SLOT_SHIFT, A);
        const b = Math.min((i32[refs + k + 1] - lowest) >>> SLOT_SHIFT, A);
        work[to + k] = a;
        work[to + k + 1] = b;
        work[state + a] -= 4;
        work[state + b] -= 4;
      }
      if (k < count) {
        const a = Math.min((i32[refs + k] - lowest) >>> SLOT_SHIFT, A);
        work[to + k] = a;
        work[state + a] -= 4;
      }
      at = (to + count) | 0;
      p = next;
    }
    this.numbered = i;
    this.cursor = at - records;
    return p;
  }

  /**
   * Numbers one long list, `list`, its record at word `r` (where it fits), giving it the info `bits`
   * of a survivor if `unsettled`; returns the object after it. Its references are copied into the
   * record in one copy (a memcpy out of the heap's buffer, where reading them one by one pays a
   * resizable buffer's checks on each), then turned into slots in place by numberRefs, in calls of
   * their own, not through numberChunk: a loop of numberChunk's as long as a long list would have V8
   * compile numberChunk in the middle of it, before the rest of the function had run, and drop that
   * code at its next call.
   */
  private numberLongList(list: Ptr, r: number, unsettled: boolean, bits: number): Ptr {
    const i32 = this.space.i32;
    const work = this.work;
    const w = list >> 2;
    const at = 2 * this.positions + r;
    const state = 2 * this.positions + this.recordRoom;
    if (unsettled) i32[w + W_INFO] = (i32[w + W_INFO] & SURVIVOR_KEEP) | bits;
    work[state + ((list - this.addressBase) >> SLOT_SHIFT)] += (i32[w + W_RC] << 2) | S_COLLECTING;
    const refs = i32[w + W_REFS] >> 2;
    const count = i32[w + W_NREFS];
    work[at] = list;
    work[at + 1] = count;
    work.set(i32.subarray(refs, refs + count), at + RECORD_HEAD);
    for (let k = 0, size = FIRST_CHUNK; k < count; k += size, size = nextChunk(size)) {
      this.numberRefs(at + RECORD_HEAD + k, Math.min(size, count - k));
    }
    return i32[w + W_NEXT];
  }

  /** One call of numberLongList: `count` references copied to word `to` of the work array, made slots. */
  private numberRefs(to: number, count: number): void {
    const work = this.work;
    const state = 2 * this.positions + this.recordRoom;
    const A = this.addressRoom;
    const lowest = this.addressBase;
    for (let k = to, end = to + count; k < end; k++) {
      const a = Math.min((work[k] - lowest) >>> SLOT_SHIFT, A);
      work[k] = a;
      work[state + a] -= 4;
    }
  }

  /**
   * move_unreachable over the records. CPython walks young in order; an object with gc_refs 0 moves
   * to the tail of "unreachable" (tentatively); one with gc_refs > 0 is reachable, and each child
   * still in the set gets gc_refs 1 and, if it was moved out, comes back to young's tail, to be
   * visited in its turn. Objects only ever leave young at the walk's cursor and only come back at its
   * tail, so the walk is the n records in order, then those that came back in order (`cameBack`, a
   * queue); and the unreachable list is `movedOut` in order, less those that came back. Returns how
   * many were moved out (those that came back included); `cameBackCount` says how many came back.
   */
  private moveUnreachable(n: number): number {
    this.cameBackCount = 0;
    this.movedOutCount = 0;
    this.cursor = 0;
    let t = 1;
    for (let size = FIRST_CHUNK; t <= n; size = nextChunk(size))
      t = this.moveChunk(t, n, Math.min(size, n + 1 - t));
    if (this.cameBackCount === 0) return this.movedOutCount;
    // the queue's objects are found by slot: where their records are
    this.mapRecords(n);
    for (let size = FIRST_CHUNK; t <= n + this.cameBackCount; size = nextChunk(size))
      t = this.moveChunk(t, n, size);
    return this.movedOutCount;
  }

  /**
   * One call of moveUnreachable: up to `size` steps from step `first` (not past step n while the
   * walk is in the records: recordOf is not written yet); returns the next step.
   */
  private moveChunk(first: number, n: number, size: number): number {
    const work = this.work;
    const P = this.positions;
    const movedOut = 0;
    const cameBack = P;
    const records = 2 * P;
    const state = records + this.recordRoom;
    const recordOf = this.recordOf;
    const lowest = this.addressBase;
    const oneRef = (1 << 2) | S_COLLECTING;
    let out = this.movedOutCount;
    let back = this.cameBackCount;
    let r = this.cursor;
    const stop = first + size;
    let t = first;
    // step t visits the t-th record while t ≤ n, then the (t − n)-th object that came back
    for (; t <= n + back && t < stop; t++) {
      let at = r;
      if (t <= n) r += RECORD_HEAD + work[records + r + 1];
      else at = recordOf[work[cameBack + t - n - 1]];
      const slot = state + ((work[records + at] - lowest) >> SLOT_SHIFT);
      const own = work[slot];
      if (own >>> 2 === 0) {
        // tentatively unreachable (what came back has gc_refs 1, so this is a first visit)
        work[slot] = own | S_UNREACHABLE;
        work[movedOut + out++] = at;
        continue;
      }
      // reachable from outside (or from something that is): everything it refers to is too. A child
      // needs work only if it is in the set with gc_refs 0 and not visited: state COLLECTING, with
      // or without UNREACHABLE (1 or 3); it gets gc_refs 1, and comes back if it had been moved out.
      // A negative child is a reference outside the set, its slot back to 0 (see cleared). Branches,
      // not arithmetic that rewrites every child: most children need nothing, and an unconditional
      // store per child (its state, the queue's tail) cost about three times as much per reference
      for (let e = records + at + RECORD_HEAD, end = e + work[records + at + 1]; e < end; e++) {
        const c = state + work[e];
        const s = work[c];
        if ((s | S_UNREACHABLE) === (S_COLLECTING | S_UNREACHABLE)) {
          work[c] = oneRef;
          if (s === (S_COLLECTING | S_UNREACHABLE)) work[cameBack + back++] = c - state;
        } else if (s < 0) {
          work[c] = cleared(s);
        }
      }
      work[slot] = t <= n ? 0 : S_VISITED;
    }
    this.movedOutCount = out;
    this.cameBackCount = back;
    this.cursor = r;
    return t;
  }

  /** Writes recordOf for the n records. */
  private mapRecords(n: number): void {
    if (this.recordOf.length < this.addressRoom) this.recordOf = new Int32Array(this.addressRoom);
    this.cursor = 0;
    for (let t = 0, size = FIRST_CHUNK; t < n; t += size, size = nextChunk(size)) {
      this.mapChunk(Math.min(size, n - t));
    }
  }

  /** One call of mapRecords: `count` records from the cursor on. */
  private mapChunk(count: number): void {
    const work = this.work;
    const records = 2 * this.positions;
    const recordOf = this.recordOf;
    const lowest = this.addressBase;
    let r = this.cursor;
    for (let k = 0; k < count; k++) {
      recordOf[(work[records + r] - lowest) >> SLOT_SHIFT] = r;
      r += RECORD_HEAD + work[records + r + 1];
    }
    this.cursor = r;
  }

  /**
   * Relinks young (`head`) in the heap in its final order — the records that never left, in order
   * (state 0), then those that came back (their state back to 0) — giving them the info `bits`,
   * flags cleared.
   */
  private relinkSurvivors(n: number, survivors: number, head: Ptr, bits: number): void {
    this.relinked = 0;
    this.lastLinked = head;
    this.cursor = 0;
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
    const P = this.positions;
    const cameBack = P;
    const records = 2 * P;
    const state = records + this.recordRoom;
    const recordOf = this.recordOf;
    const lowest = this.addressBase;
    let last = this.lastLinked;
    let linked = this.relinked;
    let r = this.cursor;
    const stop = first + size;
    let t = first;
    for (; linked < survivors && t < stop; t++) {
      // the walk's order again: the records that never left (state 0), then what came back
      let obj: Ptr;
      if (t <= n) {
        obj = work[records + r];
        r += RECORD_HEAD + work[records + r + 1];
        if (work[state + ((obj - lowest) >> SLOT_SHIFT)] !== 0) continue;
      } else {
        const slot = work[cameBack + t - n - 1];
        work[state + slot] = 0;
        obj = work[records + recordOf[slot]];
      }
      last = this.relinkAfter(last, obj, SURVIVOR_KEEP, bits);
      linked++;
    }
    this.lastLinked = last;
    this.relinked = linked;
    this.cursor = r;
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

  /**
   * One call of relinkUnreachable: up to `size` entries of `movedOut` from `first`; returns the next.
   * Each unreachable object's state goes back to 0, and so does that of its references outside the
   * set (move_unreachable, which clears them for the reachable objects, never read its references).
   */
  private relinkUnreachableChunk(first: number, count: number, size: number): number {
    const work = this.work;
    const records = 2 * this.positions;
    const state = records + this.recordRoom;
    const lowest = this.addressBase;
    const flags = (GEN_WORKING << GEN_SHIFT) | F_COLLECTING | F_UNREACHABLE;
    let last = this.lastLinked;
    let linked = this.relinked;
    const stop = first + size;
    let k = first;
    for (; linked < count && k < stop; k++) {
      const at = records + work[k]; // movedOut
      const obj = work[at];
      const slot = state + ((obj - lowest) >> SLOT_SHIFT);
      // it came back: relinkSurvivors has put its state back to 0
      if ((work[slot] & S_COLLECTING) === 0) continue;
      work[slot] = 0;
      for (let e = at + RECORD_HEAD, end = e + work[at + 1]; e < end; e++) {
        const c = state + work[e];
        if (work[c] < 0) work[c] = cleared(work[c]);
      }
      last = this.relinkAfter(last, obj, CLEAR_GEN, flags);
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
    // numberObjects' own tests, for every tracked object
    const positions = tracked + 2;
    const words = RECORD_HEAD * tracked + slots;
    if (positions > this.positions || words > this.recordRoom) this.grow(positions, words, false);
  }

  /**
   * Makes the slots cover the object `obj`: called as objects are tracked, so that they cover every
   * tracked object (numbering does not check); they span the addresses of the tracked objects (at
   * least doubling when they grow), not the heap's whole memory.
   */
  cover(obj: Ptr): void {
    const base = this.addressBase;
    const A = this.addressRoom;
    if (obj >= base && (obj - base) >>> SLOT_SHIFT < A) return;
    // the addresses covered so far and obj's, in at least twice as many slots: the new ones above
    // when they grow up, below when they grow down
    const unit = 1 << SLOT_SHIFT;
    const start = A === 0 ? obj : Math.min(base, obj);
    const end = A === 0 ? obj + 1 : Math.max(base + A * unit, obj + 1);
    const entries = Math.max(Math.ceil((end - start) / unit) + 1, 2 * A, 1024);
    // at least 1, so that an empty reference (address 0) is below them
    const newBase = A !== 0 && obj < base ? Math.max(1, end - entries * unit) : start;
    this.reallocate(this.positions, this.recordRoom, entries, newBase, false);
  }

  /**
   * Makes `work` hold at least `positions` entries of the queues and `words` of records (each segment
   * at least doubles when it grows). `keep`: in the middle of numbering, every segment's entries are
   * kept.
   */
  private grow(positions: number, words: number, keep: boolean): void {
    const P = this.positions;
    const R = this.recordRoom;
    const newP = positions > P ? Math.max(positions, 2 * P, 1024) : P;
    const newR = words > R ? Math.max(words, 2 * R, 1024) : R;
    this.reallocate(newP, newR, this.addressRoom, this.addressBase, keep);
  }

  /**
   * Lays `work` out anew for segments of the given sizes and the slots' base. Outside a collection
   * every segment is scratch (state must only read 0): the array is cut up differently, and only
   * when it is too small is a new one made, twice as large, written once all through so that its
   * pages are mapped now rather than at their first use in a collection (fresh memory is mapped page
   * by page on first touch). `keep`, in the middle of numbering: the records and the state are
   * copied into a new array (the sizes only grow, and the slots' base and number stay; the queues
   * are not written yet).
   */
  private reallocate(newP: number, newR: number, newA: number, newBase: number, keep: boolean): void {
    const P = this.positions;
    const R = this.recordRoom;
    const A = this.addressRoom;
    const old = this.work;
    const total = 2 * newP + newR + newA + 1;
    if (!keep && total <= old.length) {
      old.fill(0, 2 * newP + newR, total);
    } else {
      const work = new Int32Array(keep ? total : Math.max(total, 2 * old.length));
      work.fill(0);
      if (keep) {
        work.set(old.subarray(2 * P, 2 * P + R), 2 * newP);
        work.set(old.subarray(2 * P + R, 2 * P + R + A + 1), 2 * newP + newR);
      }
      this.work = work;
    }
    this.positions = newP;
    this.recordRoom = newR;
    this.addressRoom = newA;
    this.addressBase = newBase;
  }
}
