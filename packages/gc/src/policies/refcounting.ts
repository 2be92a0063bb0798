/**
 * Reference counting: every object of a counting plan carries a count ({@link COUNTED_HEADER}); a
 * count reaching zero frees the object at once, and what only it held after it, from an explicit
 * stack (CPython's trashcan plays this role), so a chain of a million objects frees without
 * recursion. Freed objects of a type with a free list wait there for reuse, as CPython's lists do.
 *
 * ```
 *  release(p): rc(p) −= 1 → 0?  push p ──► dealloc stack [p, c1, c2, …]
 *  while the stack: o ← pop; finalizer (once; may resurrect) → weakrefs cleared, callbacks run
 *                   each child c, last slot first: rc(c) −= 1 → 0? untrack c, push c
 *                   o's block → its type's free list if there is room, else the allocator
 * ```
 *
 * @module
 */
import type { Ptr } from "@heapkit/contract";
import * as layout from "../layout.js";
import type { ManagedHeap, ReferenceCounter } from "../managed.js";
import type { ObjectType } from "../types.js";
import type { Finalization } from "./finalization.js";
import type { Generations } from "./generations.js";
import type { WeakReferences } from "./weakrefs.js";

// Module-local copies of the layout constants: some toolchains (vite/vitest) turn every use of an
// imported binding into a property read on a module object, which the hot loops cannot afford.
const { F_ALIVE, F_WEAKREFS, TYPE_MASK, W_INFO, W_NREFS, W_RC, W_REFS } = layout;

/** Counts, the dealloc stack and the free lists of a counting plan. */
export class ReferenceCounting implements ReferenceCounter {
  private readonly freeLists = new Map<number, Ptr[]>();
  private deallocating = false;
  private deallocTop = 0;
  private deallocStack: Int32Array = new Int32Array(1024);
  /** Set by the plan once made (finalization releases references through this policy). */
  finalization: Finalization | null = null;
  /** Set by the plan once made (weak references need the plan's weakref type). */
  weakrefs: WeakReferences | null = null;

  constructor(
    private readonly space: ManagedHeap,
    private readonly generations: Generations,
  ) {}

  /** Gives a newly declared type with a free list its list. */
  noteType(type: ObjectType): void {
    if (type.freeList > 0) this.freeLists.set(type.id, []);
  }

  /** Takes a reference on `ptr` (not null). */
  retain(ptr: Ptr): void {
    this.space.i32[(ptr >> 2) + W_RC]++;
  }

  /** Gives back a reference on `ptr` (not null), freeing it at zero. */
  release(ptr: Ptr): void {
    const i32 = this.space.i32;
    const rc = i32[(ptr >> 2) + W_RC] - 1;
    i32[(ptr >> 2) + W_RC] = rc;
    if (rc === 0) this.dealloc(ptr);
  }

  /** The count of `ptr`. */
  count(ptr: Ptr): number {
    return this.space.i32[(ptr >> 2) + W_RC];
  }

  /** A freed object of `type` to reuse (CPython's PyList_New: no gc_alloc, no count), or 0. */
  takeFromFreeList(type: ObjectType): Ptr {
    if (type.freeList === 0) return 0;
    const free = this.freeLists.get(type.id) as Ptr[];
    return free.length > 0 ? (free.pop() as Ptr) : 0;
  }

  /** Objects on `type`'s free list. */
  freeListLength(type: ObjectType): number {
    return this.freeLists.get(type.id)?.length ?? 0;
  }

  /**
   * Frees an object whose count reached zero, then everything that only it held, iteratively: the
   * pending objects wait on an explicit stack.
   */
  private dealloc(first: Ptr): void {
    // like list_dealloc, untrack at once: a collection that runs meanwhile must not see it
    this.generations.untrack(first);
    if (this.deallocTop === this.deallocStack.length) this.growDeallocStack();
    this.deallocStack[this.deallocTop++] = first;
    if (this.deallocating) return;
    this.deallocating = true;
    try {
      const types = this.space.types;
      while (this.deallocTop > 0) {
        const obj = this.deallocStack[--this.deallocTop];
        const w = obj >> 2;
        const type = types[this.space.i32[w + W_INFO] & TYPE_MASK];
        // the tests in line keep the common object — no finalizer, no weakrefs — free of calls
        if (type.finalizer !== null && this.finalization?.finalizeFromDealloc(obj, type)) continue;
        const weakrefs = this.weakrefs;
        if (
          weakrefs !== null &&
          ((this.space.i32[w + W_INFO] & F_WEAKREFS) !== 0 || type === weakrefs.type)
        ) {
          weakrefs.objectDying(obj);
        }
        this.releaseChildren(obj);
        this.free(obj, type);
      }
    } finally {
      this.deallocating = false;
    }
  }

  /** Releases an object's children, last slot first (list_dealloc's order), pushing those that die. */
  private releaseChildren(obj: Ptr): void {
    const i32 = this.space.i32;
    const w = obj >> 2;
    const base = i32[w + W_REFS] >> 2;
    let top = this.deallocTop;
    for (let i = i32[w + W_NREFS] - 1; i >= 0; i--) {
      const child = i32[base + i];
      if (child !== 0) {
        const rc = i32[(child >> 2) + W_RC] - 1;
        i32[(child >> 2) + W_RC] = rc;
        if (rc === 0) {
          this.generations.untrack(child);
          if (top === this.deallocStack.length) {
            this.deallocTop = top;
            this.growDeallocStack();
          }
          this.deallocStack[top++] = child;
        }
      }
    }
    this.deallocTop = top;
  }

  private growDeallocStack(): void {
    const larger = new Int32Array(this.deallocStack.length * 2);
    larger.set(this.deallocStack);
    this.deallocStack = larger;
  }

  /** Returns an object's memory: to its type's free list if there is room, else to the allocator. */
  free(obj: Ptr, type: ObjectType): void {
    const space = this.space;
    if (type.isList) space.freeItems(obj);
    space.i32[(obj >> 2) + W_INFO] &= ~F_ALIVE;
    if (type.freeList > 0) {
      const free = this.freeLists.get(type.id) as Ptr[];
      if (free.length < type.freeList) {
        free.push(obj);
        return;
      }
    }
    space.allocator.free(obj);
    this.generations.countDeallocation(type);
  }

  /** clear_freelists: objects kept for reuse go back to the allocator (PyObject_GC_Del each). */
  clearFreeLists(): void {
    for (const [typeId, free] of this.freeLists) {
      const type = this.space.types[typeId];
      for (const p of free) {
        this.space.allocator.free(p);
        this.generations.countDeallocation(type);
      }
      free.length = 0;
    }
  }
}
