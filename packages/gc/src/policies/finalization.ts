/**
 * Finalization: what happens to an object before it is freed — legacy finalizers (uncollectable
 * garbage), PEP 442 finalizers (run once, may resurrect), tp_clear (the object lets go of what it
 * holds) — and the one place user code runs inside the collector, so the one place that makes the
 * collector safe from it.
 *
 * User code — a finalizer, a weakref callback, a `gc.callbacks` entry — may throw anything,
 * including `OutOfMemoryError` from an allocation of its own. As CPython does with
 * `PyErr_WriteUnraisable`, the exception never leaves the collector: it goes to the plan's
 * {@link UnraisableHook} (by default {@link reportUnraisable}: a line on the console), and the
 * collector goes on exactly as if the call had returned. Every list is then in order, every object is
 * freed or kept as it would have been, and the next collection finds what it would have found.
 *
 * ```
 *  unreachable ──6. legacy finalizers──► finalizers list (and all they reach): uncollectable
 *       │
 *       ├──8. PEP 442: each finalizer once (FINALIZED bit), the object held meanwhile
 *       │      then trial deletion again: what a finalizer resurrected survives
 *       └──9. tp_clear each object left: its slots released, the cycles free by refcount
 * ```
 *
 * @module
 */
import type { Ptr } from "@heapkit/contract";
import * as layout from "../layout.js";
import { listAppend, listEmpty, listFirst, listMerge, listRemove } from "../lists.js";
import type { ManagedHeap, ReferenceCounter } from "../managed.js";
import type { ObjectType } from "../types.js";
import type { Generations } from "./generations.js";

const { F_COLLECTING, F_FINALIZED, F_UNREACHABLE, TYPE_MASK, W_CAP, W_INFO, W_NEXT, W_NREFS, W_RC, W_REFS } =
  layout;

/** Which kind of user code raised. */
export type UnraisableKind = "finalizer" | "weakref callback" | "gc callback";

/** An exception user code raised inside the collector (CPython's `sys.UnraisableHookArgs`). */
export interface UnraisableEvent {
  /** What was thrown. */
  readonly error: unknown;
  /** Which kind of user code threw it. */
  readonly kind: UnraisableKind;
  /** The object it ran for: the finalized object, the weakref, or 0 for a gc callback. */
  readonly object: Ptr;
  /** A sentence for a log: where it happened. */
  readonly message: string;
}

/** Receives every exception user code raises inside the collector; the collector then goes on. */
export type UnraisableHook = (event: UnraisableEvent) => void;

/**
 * The default {@link UnraisableHook}, like CPython's `sys.unraisablehook`: writes the message and the
 * error to `console.error`, and nothing else — the collection goes on.
 */
export const reportUnraisable: UnraisableHook = (event) => {
  console.error(`${event.message}:`, event.error);
};

/** Legacy finalizers, PEP 442 finalizers, tp_clear, and the guard around every call into user code. */
export class Finalization {
  /** True once a type with a finalizer was declared. */
  anyFinalizer = false;
  /** True once a type with a legacy finalizer was declared. */
  anyLegacy = false;

  constructor(
    private readonly space: ManagedHeap,
    private readonly generations: Generations,
    private readonly counter: ReferenceCounter,
    private readonly onUnraisable: UnraisableHook,
  ) {}

  /** Notes what a newly declared type needs. */
  noteType(type: ObjectType): void {
    if (type.finalizer !== null) this.anyFinalizer = true;
    if (type.legacyFinalizer) this.anyLegacy = true;
  }

  /**
   * Runs user code: an exception it throws goes to the unraisable hook (and, if the hook throws too,
   * to {@link reportUnraisable}); it never reaches the caller.
   */
  guard(kind: UnraisableKind, object: Ptr, call: () => void): void {
    try {
      call();
    } catch (error) {
      const where = kind === "gc callback" ? "a gc callback" : `the ${kind} of the object at ${object}`;
      const event: UnraisableEvent = { error, kind, object, message: `Exception ignored in ${where}` };
      try {
        this.onUnraisable(event);
      } catch (hookError) {
        try {
          reportUnraisable({
            ...event,
            error: hookError,
            message: "Exception ignored in the unraisable hook",
          });
          reportUnraisable(event);
        } catch {
          // even the console refused: there is nowhere left to report to, and the collector must go on
        }
      }
    } finally {
      this.space.refresh();
    }
  }

  /**
   * PyObject_CallFinalizerFromDealloc: an object whose count reached zero and whose finalizer has not
   * run is resurrected for the call (count 1, tracked again). Returns true if it is still referenced
   * afterwards (it lives on), false if it is to be freed (and untracked).
   */
  finalizeFromDealloc(obj: Ptr, type: ObjectType): boolean {
    const finalizer = type.finalizer;
    if (finalizer === null) return false;
    let i32 = this.space.i32;
    const w = obj >> 2;
    if ((i32[w + W_INFO] & F_FINALIZED) !== 0) return false;
    i32[w + W_INFO] |= F_FINALIZED;
    i32[w + W_RC] = 1;
    if (type.tracked) this.generations.track(obj);
    this.guard("finalizer", obj, () => finalizer(obj));
    i32 = this.space.i32;
    const rc = i32[w + W_RC] - 1;
    i32[w + W_RC] = rc;
    if (rc > 0) return true;
    this.generations.untrack(obj);
    return false;
  }

  /**
   * move_legacy_finalizers + move_legacy_finalizer_reachable: unreachable objects with a legacy
   * finalizer, and everything they reach, move to `finalizers`: uncollectable.
   */
  moveLegacyFinalizers(unreachable: Ptr, finalizers: Ptr): void {
    const i32 = this.space.i32;
    const types = this.space.types;
    let p = i32[(unreachable >> 2) + W_NEXT];
    while (p !== unreachable) {
      const next = i32[(p >> 2) + W_NEXT];
      if (types[i32[(p >> 2) + W_INFO] & TYPE_MASK].legacyFinalizer) {
        listRemove(i32, p);
        listAppend(i32, p, finalizers);
        i32[(p >> 2) + W_INFO] &= ~(F_COLLECTING | F_UNREACHABLE);
      }
      p = next;
    }
    for (p = i32[(finalizers >> 2) + W_NEXT]; p !== finalizers; p = i32[(p >> 2) + W_NEXT]) {
      const refs = i32[(p >> 2) + W_REFS] >> 2;
      for (let i = 0, n = i32[(p >> 2) + W_NREFS]; i < n; i++) {
        const c = i32[refs + i];
        if (c !== 0 && (i32[(c >> 2) + W_INFO] & F_COLLECTING) !== 0) {
          listRemove(i32, c);
          listAppend(i32, c, finalizers);
          i32[(c >> 2) + W_INFO] &= ~(F_COLLECTING | F_UNREACHABLE);
        }
      }
    }
  }

  /**
   * finalize_garbage: each finalizer of `collectable` runs once (the FINALIZED bit), the object held
   * meanwhile; `seen` (an empty working list) takes each object before its call, so whatever the call
   * does to the list, every object is visited once, and all end up back in `collectable`.
   */
  finalizeGarbage(collectable: Ptr, seen: Ptr): void {
    const space = this.space;
    while (!listEmpty(space.i32, collectable)) {
      const i32 = space.i32;
      const p = listFirst(i32, collectable);
      listRemove(i32, p);
      listAppend(i32, p, seen);
      const finalizer = space.types[i32[(p >> 2) + W_INFO] & TYPE_MASK].finalizer;
      if (finalizer !== null && (i32[(p >> 2) + W_INFO] & F_FINALIZED) === 0) {
        i32[(p >> 2) + W_INFO] |= F_FINALIZED;
        this.counter.retain(p);
        this.guard("finalizer", p, () => finalizer(p));
        this.counter.release(p);
      }
    }
    listMerge(space.i32, seen, collectable);
  }

  /**
   * delete_garbage: clears every object of `collectable` (or, with `saveAll`, keeps it in `garbage`);
   * an object still alive afterwards joins generation `target`, where it may die later.
   */
  deleteGarbage(collectable: Ptr, target: number, saveAll: boolean, garbage: Ptr[]): void {
    const space = this.space;
    while (!listEmpty(space.i32, collectable)) {
      const p = listFirst(space.i32, collectable);
      this.counter.retain(p);
      if (saveAll) {
        garbage.push(p);
      } else {
        this.clear(p);
        this.counter.release(p);
      }
      if (listFirst(space.i32, collectable) === p) this.generations.placeIn(p, target);
    }
  }

  /**
   * tp_clear: empties the object, then releases what it held, last first. A fixed object clears one
   * slot at a time (Py_CLEAR); a list detaches its item block first (list_clear), so nothing run by a
   * release can see or reuse the items while they are being released.
   */
  clear(obj: Ptr): void {
    const space = this.space;
    const counter = this.counter;
    let i32 = space.i32;
    const w = obj >> 2;
    const n = i32[w + W_NREFS];
    if (n === 0) return;
    const base = i32[w + W_REFS];
    if (space.types[i32[w + W_INFO] & TYPE_MASK].isList) {
      // still tracked (on the unreachable list), so its slots leave the count as its capacity drops to 0
      this.generations.slotsChanged(obj, -i32[w + W_CAP]);
      i32[w + W_REFS] = 0;
      i32[w + W_NREFS] = 0;
      i32[w + W_CAP] = 0;
      for (let i = n - 1; i >= 0; i--) {
        const old = i32[(base >> 2) + i];
        if (old !== 0) {
          counter.release(old);
          i32 = space.i32;
        }
      }
      space.allocator.free(base);
    } else {
      for (let i = n - 1; i >= 0; i--) {
        const at = (base >> 2) + i;
        const old = i32[at];
        if (old !== 0) {
          i32[at] = 0;
          counter.release(old);
          i32 = space.i32;
        }
      }
    }
  }
}
