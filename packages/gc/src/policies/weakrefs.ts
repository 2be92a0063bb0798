/**
 * Weak references: a weakref object points at its target without keeping it alive. When the target
 * dies — by refcount or in a collection — every weakref to it is cleared first, then the callbacks
 * of the weakrefs that outlive it run (a weakref that is garbage itself never calls back).
 *
 * ```
 *  target (WEAKREFS flag) ◄── weakrefsTo[target] = [wr1, wr2]      wr: [hdr | target address]
 *  refcount death:  clear all, then call back              (PyObject_ClearWeakRefs)
 *  collection:      clear those to unreachable objects,    (handle_weakrefs)
 *                   hold each live weakref, call back, release it
 * ```
 *
 * @module
 */
import type { Ptr } from "@heapkit/contract";
import type { WeakrefCallback } from "../capabilities.js";
import * as layout from "../layout.js";
import { listAppend, listEmpty, listFirst, listRemove } from "../lists.js";
import type { ManagedHeap } from "../managed.js";
import type { ObjectType } from "../types.js";
import type { Finalization } from "./finalization.js";
import type { Generations } from "./generations.js";

const { F_COLLECTING, F_WEAKREFS, GEN_MASK, GEN_SHIFT, GEN_WORKING, TYPE_MASK, W_INFO, W_NEXT } = layout;

/** The weak references of a plan, by target, and their callbacks. */
export class WeakReferences {
  private readonly weakrefsTo = new Map<Ptr, Ptr[]>();
  private readonly callbacks = new Map<Ptr, WeakrefCallback>();

  constructor(
    private readonly space: ManagedHeap,
    /** The type of weakref objects (tracked, 8 raw bytes holding the target). */
    readonly type: ObjectType,
    private readonly generations: Generations,
    private readonly finalization: Finalization,
  ) {}

  /** True if no weakref is alive (collections can skip handle_weakrefs). */
  get none(): boolean {
    return this.weakrefsTo.size === 0;
  }

  /** Makes the weakref object `wr` point at `target`, with `callback` if given. */
  attach(wr: Ptr, target: Ptr, callback?: WeakrefCallback): void {
    const i32 = this.space.i32;
    i32[(wr + this.type.bytesOffset) >> 2] = target;
    i32[(target >> 2) + W_INFO] |= F_WEAKREFS;
    const list = this.weakrefsTo.get(target);
    if (list) list.push(wr);
    else this.weakrefsTo.set(target, [wr]);
    if (callback) this.callbacks.set(wr, callback);
  }

  /** The target of `obj` if it is a weakref (0 if cleared), else −1. */
  targetOf(obj: Ptr): number {
    const i32 = this.space.i32;
    if ((i32[(obj >> 2) + W_INFO] & TYPE_MASK) !== this.type.id) return -1;
    return i32[(obj + this.type.bytesOffset) >> 2];
  }

  /**
   * What a dying object does with weak references: a weakref leaves its target's list (its callback
   * never runs); a target's weakrefs are cleared and their callbacks run (PyObject_ClearWeakRefs).
   */
  objectDying(obj: Ptr): void {
    if ((this.space.i32[(obj >> 2) + W_INFO] & F_WEAKREFS) !== 0) this.clearAndCallBack(obj);
    if (this.targetOf(obj) >= 0) this.unregister(obj);
  }

  /** A dying weakref leaves its target's list (its callback never runs). */
  private unregister(wr: Ptr): void {
    const target = this.targetOf(wr);
    this.callbacks.delete(wr);
    if (target <= 0) return;
    this.space.i32[(wr + this.type.bytesOffset) >> 2] = 0;
    const list = this.weakrefsTo.get(target);
    if (!list) return;
    const at = list.indexOf(wr);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) {
      this.weakrefsTo.delete(target);
      this.space.i32[(target >> 2) + W_INFO] &= ~F_WEAKREFS;
    }
  }

  /** PyObject_ClearWeakRefs from a refcount death: clear them all, then run the callbacks. */
  private clearAndCallBack(obj: Ptr): void {
    const list = this.weakrefsTo.get(obj) ?? [];
    this.weakrefsTo.delete(obj);
    this.space.i32[(obj >> 2) + W_INFO] &= ~F_WEAKREFS;
    const calls: [Ptr, WeakrefCallback][] = [];
    for (const wr of list) {
      this.space.i32[(wr + this.type.bytesOffset) >> 2] = 0;
      const cb = this.callbacks.get(wr);
      if (cb) {
        this.callbacks.delete(wr);
        calls.push([wr, cb]);
      }
    }
    for (const [wr, cb] of calls) this.callBack(wr, cb);
  }

  /** Runs a callback with the weakref held, through the unraisable guard. */
  private callBack(wr: Ptr, cb: WeakrefCallback): void {
    this.space.retainRef(wr);
    this.finalization.guard("weakref callback", wr, () => cb(wr));
    this.space.releaseRef(wr);
  }

  /**
   * handle_weakrefs: clears every weakref to an unreachable object (and every weakref that is itself
   * garbage); runs the callbacks of the weakrefs that outlive the garbage, each held on the working
   * list `pending` meanwhile; a weakref that lives on joins generation `target`. Returns the weakrefs
   * freed right after their callback (CPython counts them as collected).
   */
  handleWeakrefs(unreachable: Ptr, pending: Ptr, target: number): number {
    if (this.none) return 0;
    const space = this.space;
    let i32 = space.i32;
    for (let p = i32[(unreachable >> 2) + W_NEXT]; p !== unreachable; p = i32[(p >> 2) + W_NEXT]) {
      if (this.targetOf(p) >= 0) this.unregister(p);
      if ((i32[(p >> 2) + W_INFO] & F_WEAKREFS) === 0) continue;
      const list = this.weakrefsTo.get(p) ?? [];
      this.weakrefsTo.delete(p);
      i32[(p >> 2) + W_INFO] &= ~F_WEAKREFS;
      for (const wr of list) {
        i32[(wr + this.type.bytesOffset) >> 2] = 0;
        if (!this.callbacks.has(wr)) continue;
        if ((i32[(wr >> 2) + W_INFO] & F_COLLECTING) !== 0) {
          // the weakref is garbage too: its callback never runs
          this.callbacks.delete(wr);
          continue;
        }
        space.retainRef(wr);
        this.generations.untrack(wr);
        i32[(wr >> 2) + W_INFO] = (i32[(wr >> 2) + W_INFO] & ~GEN_MASK) | (GEN_WORKING << GEN_SHIFT);
        listAppend(i32, wr, pending);
      }
    }
    let freed = 0;
    while (!listEmpty(space.i32, pending)) {
      const wr = listFirst(space.i32, pending);
      const cb = this.callbacks.get(wr) as WeakrefCallback;
      this.callbacks.delete(wr);
      this.finalization.guard("weakref callback", wr, () => cb(wr));
      space.releaseRef(wr);
      i32 = space.i32;
      if (listFirst(i32, pending) === wr) {
        listRemove(i32, wr);
        listAppend(i32, wr, space.head(target));
        i32[(wr >> 2) + W_INFO] = (i32[(wr >> 2) + W_INFO] & ~GEN_MASK) | (target << GEN_SHIFT);
        this.generations.size[target]++;
      } else {
        freed++;
      }
    }
    return freed;
  }
}
