/**
 * The object model every plan shares: types, object headers in the heap, reference slots, lists of
 * references, raw bytes, and the references JS holds (handles and root arrays). How references are
 * counted or traced, and how dead objects are found, belongs to the policies a plan composes
 * (./policies/, ./plans/).
 *
 * ```
 *   JS                                 heap (any Allocator of the contract)
 *   Handle #3 ──► handle table[3] ──►  [hdr|slot0|slot1|bytes]──►[hdr|…]
 *   RootArray  ──► slots Int32Array ─► [hdr (list)| refs ─┐]
 *                                                          └► item block [p0 p1 p2 …]
 *   state block (in the heap): list heads — generations, permanent, working lists
 * ```
 *
 * @module
 */
import { type Allocator, InvalidSizeError, NULL_PTR, type Ptr, UseAfterFreeError } from "@heapkit/contract";
import type { PlanCapabilities } from "./capabilities.js";
import * as layout from "./layout.js";
import { listInit, listNodes } from "./lists.js";
import { markFrom } from "./policies/marking.js";
import { MAX_TYPES, makeType, type ObjectType, type TypeSpec } from "./types.js";

// Module-local copies of the layout constants: some toolchains (vite/vitest) turn every use of an
// imported binding into a property read on a module object, which the hot loops cannot afford.
const {
  F_ALIVE,
  F_MARK,
  GEN_SHIFT,
  GEN_UNTRACKED,
  HEAD_BYTES,
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

/** The plans a {@link ManagedHeap} can be. */
export type PlanName = "refcount+cycles" | "mark-sweep" | "mark-compact";

/** The most reference slots a list may reserve: its item block must fit below the heap's 2^31-byte limit. */
export const MAX_LIST_CAPACITY = 2 ** 29 - 1;

/** Options every plan accepts. */
export interface ManagedHeapOptions {
  /**
   * Check every object argument (default true): a pointer that is not a live object throws
   * `UseAfterFreeError`. Off, calls trust their arguments (for benchmarks).
   */
  checked?: boolean;
}

/** How a counting plan takes and gives back references the object model stores or drops. */
export interface ReferenceCounter {
  /** Takes a reference on a non-null `ptr`. */
  retain(ptr: Ptr): void;
  /** Gives a reference on a non-null `ptr` back (which may free it). */
  release(ptr: Ptr): void;
}

/**
 * A handle or root array used after it was released: the reference it held is gone, and storing a
 * new one would keep that object alive with nothing left to release it.
 */
export class ReleasedRootError extends RangeError {
  /** The call that was refused (`Handle.set`, `RootArray.set`, …). */
  readonly operation: string;

  constructor(operation: string, what: string) {
    super(`${operation}: ${what} was already released`);
    this.name = "ReleasedRootError";
    this.operation = operation;
  }
}

/**
 * A reference held from JS: while it is held, the object it points to stays alive (a counting plan
 * counts it; tracing plans trace from it; a moving plan updates it when the object moves).
 */
export class Handle {
  // the heap hands a released handle's id to the next new handle: this one must stop using it
  private released = false;

  /** @internal */
  constructor(
    private readonly heap: ManagedHeap,
    /** Index in the heap's handle table. */
    readonly id: number,
  ) {}

  /** The object's current address (it changes when a moving plan compacts); 0 once released. */
  get ptr(): Ptr {
    return this.released ? NULL_PTR : this.heap.handleSlot(this.id);
  }

  /** Points the handle at another object (or 0), releasing the previous one; throws {@link ReleasedRootError} once released. */
  set(ptr: Ptr): void {
    if (this.released) throw new ReleasedRootError("Handle.set", `handle ${this.id}`);
    this.heap.setHandle(this.id, ptr);
  }

  /** Drops the reference; the handle then holds 0, and a second release throws {@link ReleasedRootError}. */
  release(): void {
    if (this.released) throw new ReleasedRootError("Handle.release", `handle ${this.id}`);
    this.released = true;
    this.heap.releaseHandle(this.id);
  }
}

/**
 * A fixed array of root slots held from JS (CPython's `roots` list in the oracle scenarios): each
 * slot holds one reference or 0.
 */
export class RootArray {
  /** The slots (read-only for users: write through {@link RootArray.set}). */
  readonly slots: Int32Array;
  private disposed = false;

  /** @internal */
  constructor(
    private readonly heap: ManagedHeap,
    length: number,
  ) {
    this.slots = new Int32Array(length);
  }

  /** Slots in the array. */
  get length(): number {
    return this.slots.length;
  }

  /** The object in slot `index` (0 if empty). */
  get(index: number): Ptr {
    return this.slots[this.index(index)];
  }

  /**
   * Stores `ptr` (or 0) in slot `index`: the new object is retained first, then the old one released.
   * Throws {@link ReleasedRootError} after {@link RootArray.dispose}.
   */
  set(index: number, ptr: Ptr): void {
    if (this.disposed) throw new ReleasedRootError("RootArray.set", "the root array");
    this.store(index, ptr);
  }

  /** Empties every slot and stops being a root; throws {@link ReleasedRootError} the second time. */
  dispose(): void {
    if (this.disposed) throw new ReleasedRootError("RootArray.dispose", "the root array");
    this.disposed = true;
    this.heap.removeRootArray(this);
    for (let i = 0; i < this.slots.length; i++) this.store(i, NULL_PTR);
  }

  private store(index: number, ptr: Ptr): void {
    const i = this.index(index);
    if (ptr !== NULL_PTR) this.heap.checkObject(ptr, "RootArray.set");
    this.heap.retainRef(ptr);
    const old = this.slots[i];
    this.slots[i] = ptr;
    this.heap.releaseRef(old);
  }

  private index(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.slots.length) {
      throw new RangeError(`root slot ${index} is outside 0..${this.slots.length - 1}`);
    }
    return index;
  }
}

/** How list item blocks grow: CPython's list_resize over-allocation (about 1/8 more). */
function grownCapacity(needed: number): number {
  return (needed + (needed >> 3) + 6) & ~3;
}

/**
 * Managed objects over any {@link Allocator}: the part every plan shares. Use a plan —
 * `RefcountCycles`, `MarkSweep` or `MarkCompact`, or `createPlan` — rather than this class.
 */
export abstract class ManagedHeap {
  /** Which plan this is. */
  abstract readonly plan: PlanName;
  /** What the plan can do beyond the object model (see {@link PlanCapabilities}). */
  abstract readonly capabilities: PlanCapabilities;
  /** The allocator objects live in. */
  readonly allocator: Allocator;
  /** The plan's object header. */
  readonly header: layout.HeaderLayout;
  /** Whether object arguments are checked (see {@link ManagedHeapOptions.checked}). */
  readonly checked: boolean;
  /** The declared types, by id. */
  readonly types: ObjectType[] = [];
  /** The heap's words (re-read after anything that can grow the memory). @internal */
  i32: Int32Array;
  /** The block of list heads in the heap. @internal */
  readonly heads: Ptr;
  /** Handle table: JS-held references, by handle id (0 = free). @internal */
  handleTable: Int32Array = new Int32Array(16);
  private handleTop = 1;
  private handleFree = new Uint8Array(16);
  private readonly freeHandles: number[] = [];
  /** Root arrays in use. @internal */
  readonly rootArrays: RootArray[] = [];
  /** An explicit stack for traversals (no recursion anywhere). @internal */
  stack: Int32Array = new Int32Array(1024);
  /** The plan's reference counting, set once by a counting plan's constructor; null for a tracing plan. */
  protected counter: ReferenceCounter | null = null;

  /**
   * @param header - the plan's header layout
   * @param headCount - list heads the plan needs in the heap
   */
  protected constructor(
    allocator: Allocator,
    header: layout.HeaderLayout,
    headCount: number,
    options: ManagedHeapOptions = {},
  ) {
    this.allocator = allocator;
    this.header = header;
    this.checked = options.checked ?? true;
    this.heads = allocator.malloc(headCount * HEAD_BYTES);
    this.i32 = allocator.memory.i32;
    for (let h = 0; h < headCount; h++) listInit(this.i32, this.head(h));
  }

  // ------------------------------------------------------------------ types

  /** Declares a type; its objects all share the layout the spec describes. */
  defineType(spec: TypeSpec): ObjectType {
    if (this.types.length >= MAX_TYPES) throw new RangeError(`defineType: at most ${MAX_TYPES} types`);
    const type = makeType(this.types.length, spec, this.header.bytes);
    this.types.push(type);
    return type;
  }

  /** The type of a live object. */
  typeOf(obj: Ptr): ObjectType {
    this.checkObject(obj, "typeOf");
    return this.types[this.i32[(obj >> 2) + W_INFO] & TYPE_MASK];
  }

  // ------------------------------------------------------------------ allocation (plan-specific)

  /**
   * Allocates an object of `type` and returns its address. In a counting plan the caller owns the
   * one reference it has (release it with `decref`, or store it and then release it); in tracing
   * plans it is unrooted: store it or root it before the next allocation. {@link ManagedHeap.new} is
   * the safer path. A capacity that is not an integer from 0 to {@link MAX_LIST_CAPACITY} throws
   * `InvalidSizeError`; an allocation that fails leaves nothing behind.
   *
   * @param capacity - for list types, reference slots to reserve
   */
  abstract allocate(type: ObjectType, capacity?: number): Ptr;

  /** Runs a collection; returns the number of unreachable objects found. */
  abstract collect(generation?: number): number;

  /** Every object the plan manages (tracked objects, for refcount+cycles), in list order. */
  abstract allObjects(): Ptr[];

  /** The objects reachable from the references JS holds (handles and root arrays). */
  reachableObjects(): Ptr[] {
    const out: Ptr[] = [];
    markFrom(this, this.jsRoots(), out);
    const i32 = this.i32;
    for (const p of out) i32[(p >> 2) + W_INFO] &= ~F_MARK;
    return out;
  }

  /** Takes a reference on `ptr` if the plan counts references; no-op for 0. @internal */
  retainRef(ptr: Ptr): void {
    if (ptr !== NULL_PTR && this.counter !== null) this.counter.retain(ptr);
  }

  /** Gives back a reference on `ptr` if the plan counts references; no-op for 0. @internal */
  releaseRef(ptr: Ptr): void {
    if (ptr !== NULL_PTR && this.counter !== null) this.counter.release(ptr);
  }

  /** Allocates an object and returns a {@link Handle} to it: the object stays alive until the handle is released. */
  new(type: ObjectType, capacity = 0): Handle {
    const ptr = this.allocate(type, capacity);
    const handle = this.handle(ptr);
    this.releaseRef(ptr);
    return handle;
  }

  /** A new handle holding `ptr` (or 0). */
  handle(ptr: Ptr): Handle {
    if (ptr !== NULL_PTR) this.checkObject(ptr, "handle");
    const id = this.freeHandles.length > 0 ? (this.freeHandles.pop() as number) : this.handleTop++;
    if (id >= this.handleTable.length) {
      const larger = new Int32Array(this.handleTable.length * 2);
      larger.set(this.handleTable);
      this.handleTable = larger;
      const flags = new Uint8Array(larger.length);
      flags.set(this.handleFree);
      this.handleFree = flags;
    }
    this.handleFree[id] = 0;
    this.retainRef(ptr);
    this.handleTable[id] = ptr;
    return new Handle(this, id);
  }

  /** A new array of `length` empty root slots. */
  roots(length: number): RootArray {
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`roots(${length}): expected a length`);
    const array = new RootArray(this, length);
    this.rootArrays.push(array);
    return array;
  }

  /** @internal */
  handleSlot(id: number): Ptr {
    return this.handleTable[id];
  }

  /** @internal */
  setHandle(id: number, ptr: Ptr): void {
    this.checkHandle(id, "Handle.set");
    if (ptr !== NULL_PTR) this.checkObject(ptr, "Handle.set");
    this.retainRef(ptr);
    const old = this.handleTable[id];
    this.handleTable[id] = ptr;
    this.releaseRef(old);
  }

  /** @internal */
  releaseHandle(id: number): void {
    this.checkHandle(id, "Handle.release");
    this.handleFree[id] = 1;
    const old = this.handleTable[id];
    this.handleTable[id] = 0;
    this.freeHandles.push(id);
    this.releaseRef(old);
  }

  private checkHandle(id: number, operation: string): void {
    if (id <= 0 || id >= this.handleTop || this.handleFree[id] === 1) {
      throw new ReleasedRootError(operation, `handle ${id}`);
    }
  }

  /** @internal */
  removeRootArray(array: RootArray): void {
    const at = this.rootArrays.indexOf(array);
    if (at >= 0) this.rootArrays.splice(at, 1);
  }

  /** Handles currently held. */
  get handleCount(): number {
    return this.handleTop - 1 - this.freeHandles.length;
  }

  // ------------------------------------------------------------------ references

  /** Reference slots in use: the fixed count, or a list's length. */
  length(obj: Ptr): number {
    this.checkObject(obj, "length");
    return this.i32[(obj >> 2) + W_NREFS];
  }

  /** The reference in slot `index` (0 for none). */
  get(obj: Ptr, index: number): Ptr {
    this.checkObject(obj, "get");
    const w = obj >> 2;
    this.checkIndex(obj, index, this.i32[w + W_NREFS], "get");
    return this.i32[(this.i32[w + W_REFS] >> 2) + index];
  }

  /** Stores `value` (or 0) in slot `index`: `value` is retained, the old reference released. */
  set(obj: Ptr, index: number, value: Ptr): void {
    this.checkObject(obj, "set");
    if (value !== NULL_PTR) this.checkObject(value, "set");
    const w = obj >> 2;
    this.checkIndex(obj, index, this.i32[w + W_NREFS], "set");
    this.retainRef(value);
    const at = (this.i32[w + W_REFS] >> 2) + index;
    const old = this.i32[at];
    this.i32[at] = value;
    this.releaseRef(old);
  }

  /** Appends `value` to a list object (CPython's `list.append`). */
  append(list: Ptr, value: Ptr): void {
    this.checkObject(list, "append");
    if (value !== NULL_PTR) this.checkObject(value, "append");
    const w = list >> 2;
    if (!this.types[this.i32[w + W_INFO] & TYPE_MASK].isList) {
      throw new TypeError(`append: the object at ${list} is not a list`);
    }
    const n = this.i32[w + W_NREFS];
    if (n === this.i32[w + W_CAP]) this.resizeList(list, grownCapacity(n + 1));
    this.retainRef(value);
    const i32 = this.i32;
    i32[(i32[w + W_REFS] >> 2) + n] = value;
    i32[w + W_NREFS] = n + 1;
  }

  /** Removes item `index` of a list, shifting the rest down, and releases it (CPython's `del a[k]`). */
  removeAt(list: Ptr, index: number): void {
    this.checkObject(list, "removeAt");
    const i32 = this.i32;
    const w = list >> 2;
    if (!this.types[i32[w + W_INFO] & TYPE_MASK].isList) {
      throw new TypeError(`removeAt: the object at ${list} is not a list`);
    }
    const n = i32[w + W_NREFS];
    this.checkIndex(list, index, n, "removeAt");
    const base = i32[w + W_REFS] >> 2;
    const old = i32[base + index];
    i32.copyWithin(base + index, base + index + 1, base + n);
    i32[base + n - 1] = 0;
    i32[w + W_NREFS] = n - 1;
    this.releaseRef(old);
  }

  /** The index of the first item of `list` equal to `value`, or −1. */
  indexOf(list: Ptr, value: Ptr): number {
    this.checkObject(list, "indexOf");
    const i32 = this.i32;
    const w = list >> 2;
    const base = i32[w + W_REFS] >> 2;
    const n = i32[w + W_NREFS];
    for (let i = 0; i < n; i++) if (i32[base + i] === value) return i;
    return -1;
  }

  /** The references an object holds, in slot order (nulls left out). */
  referencesOf(obj: Ptr): Ptr[] {
    this.checkObject(obj, "referencesOf");
    const i32 = this.i32;
    const w = obj >> 2;
    const base = i32[w + W_REFS] >> 2;
    const out: Ptr[] = [];
    for (let i = 0, n = i32[w + W_NREFS]; i < n; i++) if (i32[base + i] !== 0) out.push(i32[base + i]);
    return out;
  }

  /** The raw bytes of an object, as a `Uint8Array` over the heap (re-make it after the heap grows). */
  bytesOf(obj: Ptr): Uint8Array {
    const type = this.typeOf(obj);
    return new Uint8Array(this.allocator.memory.buffer, obj + type.bytesOffset, type.bytes);
  }

  /** A `DataView` over an object's raw bytes. */
  viewOf(obj: Ptr): DataView {
    const type = this.typeOf(obj);
    return new DataView(this.allocator.memory.buffer, obj + type.bytesOffset, type.bytes);
  }

  /** True if `ptr` is a live managed object of this heap. */
  isAlive(ptr: Ptr): boolean {
    return (
      (ptr | 0) === ptr &&
      ptr > 0 &&
      this.allocator.isLive(ptr) &&
      (this.allocator.memory.i32[(ptr >> 2) + W_INFO] & F_ALIVE) !== 0 &&
      (this.allocator.memory.i32[(ptr >> 2) + W_INFO] & TYPE_MASK) < this.types.length
    );
  }

  /** Throws `UseAfterFreeError` if checking is on and `ptr` is not a live object. @internal */
  checkObject(ptr: Ptr, operation: string): void {
    if (this.checked && !this.isAlive(ptr)) throw new UseAfterFreeError(ptr, operation);
  }

  // ------------------------------------------------------------------ internals for plans and policies

  /** The address of list head `index`. @internal */
  head(index: number): Ptr {
    return this.heads + index * HEAD_BYTES;
  }

  /** Re-reads the heap's words after a call that may have grown the memory. @internal */
  refresh(): Int32Array {
    this.i32 = this.allocator.memory.i32;
    return this.i32;
  }

  /** Throws `InvalidSizeError` unless `capacity` is an integer from 0 to {@link MAX_LIST_CAPACITY}. */
  protected checkCapacity(capacity: number): void {
    if (!Number.isInteger(capacity) || capacity < 0 || capacity > MAX_LIST_CAPACITY) {
      throw new InvalidSizeError("allocate", "capacity", capacity, MAX_LIST_CAPACITY);
    }
  }

  /**
   * Writes a fresh header for an object of `type` at `ptr` (untracked, reference count `rc` if the
   * header has one), with a list's item block of `capacity` slots. If the item block cannot be had,
   * nothing is written and the allocator's error propagates: the caller gives `ptr` back.
   */
  protected initObject(ptr: Ptr, type: ObjectType, rc: number, capacity: number): void {
    let items = 0;
    if (type.isList && capacity > 0) {
      items = this.allocator.malloc(capacity * 4);
    }
    const i32 = this.refresh();
    const w = ptr >> 2;
    i32[w + W_INFO] = type.id | (GEN_UNTRACKED << GEN_SHIFT) | F_ALIVE;
    i32[w + W_NEXT] = 0;
    i32[w + W_PREV] = 0;
    i32[w + W_SCRATCH] = 0;
    if (this.header.counted) i32[w + W_RC] = rc;
    if (type.isList) {
      i32[w + W_REFS] = items;
      i32[w + W_NREFS] = 0;
      i32[w + W_CAP] = items === 0 ? 0 : capacity;
      if (items !== 0) i32.fill(0, items >> 2, (items >> 2) + capacity);
    } else {
      const slots = w + this.header.words;
      i32[w + W_REFS] = ptr + this.header.bytes;
      i32[w + W_NREFS] = type.refs;
      i32[w + W_CAP] = type.refs;
      i32.fill(0, slots, slots + type.refs);
    }
    if (type.bytes > 0) this.allocator.memory.u8.fill(0, ptr + type.bytesOffset, ptr + type.size);
  }

  /** Gives a list object room for `capacity` references (moving its item block if needed). */
  protected resizeList(list: Ptr, capacity: number): void {
    const w = list >> 2;
    const old = this.i32[w + W_REFS];
    const moved = this.allocator.realloc(old, capacity * 4);
    const i32 = this.refresh();
    const n = i32[w + W_NREFS];
    i32.fill(0, (moved >> 2) + n, (moved >> 2) + capacity);
    i32[w + W_REFS] = moved;
    i32[w + W_CAP] = capacity;
  }

  /** Frees a list object's item block. @internal */
  freeItems(obj: Ptr): void {
    const w = obj >> 2;
    const items = this.i32[w + W_REFS];
    if (items !== 0 && this.types[this.i32[w + W_INFO] & TYPE_MASK].isList) {
      this.allocator.free(items);
      this.i32[w + W_REFS] = 0;
      this.i32[w + W_NREFS] = 0;
      this.i32[w + W_CAP] = 0;
    }
  }

  /** Makes the traversal stack at least `size` entries long. @internal */
  growStack(size: number): Int32Array {
    if (size > this.stack.length) {
      let length = this.stack.length;
      while (length < size) length *= 2;
      const larger = new Int32Array(length);
      larger.set(this.stack);
      // written once now, so its pages are mapped here and not in the middle of a collection
      larger.fill(0, this.stack.length);
      this.stack = larger;
    }
    return this.stack;
  }

  /** Every reference JS holds, as a list of addresses (handles, then root arrays). @internal */
  jsRoots(): Ptr[] {
    const out: Ptr[] = [];
    for (let id = 1; id < this.handleTop; id++)
      if (this.handleTable[id] !== 0) out.push(this.handleTable[id]);
    for (const array of this.rootArrays) {
      for (const p of array.slots) if (p !== 0) out.push(p);
    }
    return out;
  }

  /** The objects on list head `index`, in order. */
  protected listNodes(index: number): Ptr[] {
    return listNodes(this.i32, this.head(index));
  }

  private checkIndex(obj: Ptr, index: number, n: number, operation: string): void {
    if (!Number.isInteger(index) || index < 0 || index >= n) {
      throw new RangeError(`${operation}: index ${index} is outside the ${n} slots of the object at ${obj}`);
    }
  }
}
