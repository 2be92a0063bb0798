/**
 * The object model every plan shares: types, object headers in the heap, reference slots, lists of
 * references, raw bytes, and the references JS holds (handles and root arrays). How references are
 * counted or traced, and how dead objects are found, is left to a plan (./plans/).
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
import { type Allocator, NULL_PTR, type Ptr, UseAfterFreeError } from "@heapkit/contract";
import * as layout from "./layout.js";
import { MAX_TYPES, makeType, type ObjectType, type TypeSpec } from "./types.js";

// Module-local copies of the layout constants: some toolchains (vite/vitest) turn every use of an
// imported binding into a property read on a module object, which the hot loops cannot afford.
const {
  F_ALIVE,
  F_MARK,
  GEN_SHIFT,
  GEN_UNTRACKED,
  HEAD_BYTES,
  HEADER_BYTES,
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

/** Options every plan accepts. */
export interface ManagedHeapOptions {
  /**
   * Check every object argument (default true): a pointer that is not a live object throws
   * `UseAfterFreeError`. Off, calls trust their arguments (for benchmarks).
   */
  checked?: boolean;
}

/**
 * A reference held from JS: while it is held, the object it points to stays alive (a refcount plan
 * counts it; tracing plans trace from it; mark-compact updates it when the object moves).
 */
export class Handle {
  /** @internal */
  constructor(
    private readonly heap: ManagedHeap,
    /** Index in the heap's handle table. */
    readonly id: number,
  ) {}

  /** The object's current address (it changes when a moving plan compacts); 0 once released. */
  get ptr(): Ptr {
    return this.heap.handleSlot(this.id);
  }

  /** Points the handle at another object (or 0), releasing the previous one. */
  set(ptr: Ptr): void {
    this.heap.setHandle(this.id, ptr);
  }

  /** Drops the reference; the handle then holds 0 and may not be used again. */
  release(): void {
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

  /** Stores `ptr` (or 0) in slot `index`: the new object is retained first, then the old one released. */
  set(index: number, ptr: Ptr): void {
    const i = this.index(index);
    if (ptr !== NULL_PTR) this.heap.checkObject(ptr, "RootArray.set");
    this.heap.retainRef(ptr);
    const old = this.slots[i];
    this.slots[i] = ptr;
    this.heap.releaseRef(old);
  }

  /** Empties every slot and stops being a root. */
  dispose(): void {
    for (let i = 0; i < this.slots.length; i++) this.set(i, NULL_PTR);
    this.heap.removeRootArray(this);
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
 * `RefcountCycles`, `MarkSweep` or `MarkCompact` — rather than this class.
 */
export abstract class ManagedHeap {
  /** Which plan this is. */
  abstract readonly plan: PlanName;
  /** The allocator objects live in. */
  readonly allocator: Allocator;
  /** Whether object arguments are checked (see {@link ManagedHeapOptions.checked}). */
  readonly checked: boolean;
  /** The declared types, by id. */
  readonly types: ObjectType[] = [];
  /** The heap's words (re-read after anything that can grow the memory). */
  protected i32: Int32Array;
  /** The block of list heads in the heap. */
  protected readonly heads: Ptr;
  /** Handle table: JS-held references, by handle id (0 = free). */
  protected handleTable: Int32Array = new Int32Array(16);
  private handleTop = 1;
  private handleFree = new Uint8Array(16);
  private readonly freeHandles: number[] = [];
  /** Root arrays in use. */
  protected readonly rootArrays: RootArray[] = [];
  /** An explicit stack for traversals (no recursion anywhere). */
  protected stack: Int32Array = new Int32Array(1024);

  /** @param headCount - list heads the plan needs in the heap */
  protected constructor(allocator: Allocator, headCount: number, options: ManagedHeapOptions = {}) {
    this.allocator = allocator;
    this.checked = options.checked ?? true;
    this.heads = allocator.malloc(headCount * HEAD_BYTES);
    this.i32 = allocator.memory.i32;
    for (let h = 0; h < headCount; h++) this.listInit(this.head(h));
  }

  // ------------------------------------------------------------------ types

  /** Declares a type; its objects all share the layout the spec describes. */
  defineType(spec: TypeSpec): ObjectType {
    if (this.types.length >= MAX_TYPES) throw new RangeError(`defineType: at most ${MAX_TYPES} types`);
    const type = makeType(this.types.length, spec);
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
   * Allocates an object of `type` and returns its address. In the refcount plan the caller owns the
   * one reference it has (release it with `decref`, or store it and then `decref`); in tracing plans
   * it is unrooted: store it or root it before the next allocation. {@link ManagedHeap.new} is the
   * safer path.
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
    this.markFrom(this.jsRoots(), out);
    const i32 = this.i32;
    for (const p of out) i32[(p >> 2) + W_INFO] &= ~F_MARK;
    return out;
  }

  /** Takes a reference on `ptr` (refcount plans); no-op for 0. @internal */
  abstract retainRef(ptr: Ptr): void;
  /** Gives a reference on `ptr` back (refcount plans); no-op for 0. @internal */
  abstract releaseRef(ptr: Ptr): void;

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
    if (ptr !== NULL_PTR) this.checkObject(ptr, "Handle.set");
    this.retainRef(ptr);
    const old = this.handleTable[id];
    this.handleTable[id] = ptr;
    this.releaseRef(old);
  }

  /** @internal */
  releaseHandle(id: number): void {
    if (id <= 0 || id >= this.handleTop || this.handleFree[id] === 1) {
      throw new RangeError(`handle ${id} was already released`);
    }
    this.handleFree[id] = 1;
    const old = this.handleTable[id];
    this.handleTable[id] = 0;
    this.freeHandles.push(id);
    this.releaseRef(old);
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

  /** The reference count of an object (0 in tracing plans, which do not count). */
  refcount(obj: Ptr): number {
    this.checkObject(obj, "refcount");
    return this.i32[(obj >> 2) + W_RC];
  }

  /** Throws `UseAfterFreeError` if checking is on and `ptr` is not a live object. @internal */
  checkObject(ptr: Ptr, operation: string): void {
    if (this.checked && !this.isAlive(ptr)) throw new UseAfterFreeError(ptr, operation);
  }

  // ------------------------------------------------------------------ internals for plans

  /** The address of list head `index`. */
  protected head(index: number): Ptr {
    return this.heads + index * HEAD_BYTES;
  }

  /** Re-reads the heap's words after a call that may have grown the memory. */
  protected refresh(): Int32Array {
    this.i32 = this.allocator.memory.i32;
    return this.i32;
  }

  /** Writes a fresh header for an object of `type` at `ptr` (reference count `rc`, untracked). */
  protected initObject(ptr: Ptr, type: ObjectType, rc: number, capacity: number): void {
    let items = 0;
    if (type.isList && capacity > 0) {
      items = this.allocator.malloc(capacity * 4);
    }
    const i32 = this.refresh();
    const w = ptr >> 2;
    i32[w + W_RC] = rc;
    i32[w + W_INFO] = type.id | (GEN_UNTRACKED << GEN_SHIFT) | F_ALIVE;
    i32[w + W_NEXT] = 0;
    i32[w + W_PREV] = 0;
    i32[w + W_SCRATCH] = 0;
    if (type.isList) {
      i32[w + W_REFS] = items;
      i32[w + W_NREFS] = 0;
      i32[w + W_CAP] = items === 0 ? 0 : capacity;
      if (items !== 0) i32.fill(0, items >> 2, (items >> 2) + capacity);
    } else {
      i32[w + W_REFS] = ptr + HEADER_BYTES;
      i32[w + W_NREFS] = type.refs;
      i32[w + W_CAP] = type.refs;
      i32.fill(0, w + 8, w + 8 + type.refs);
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

  /** Frees a list object's item block. */
  protected freeItems(obj: Ptr): void {
    const w = obj >> 2;
    const items = this.i32[w + W_REFS];
    if (items !== 0 && this.types[this.i32[w + W_INFO] & TYPE_MASK].isList) {
      this.allocator.free(items);
      this.i32[w + W_REFS] = 0;
      this.i32[w + W_NREFS] = 0;
      this.i32[w + W_CAP] = 0;
    }
  }

  /** Makes the traversal stack at least `size` entries long. */
  protected growStack(size: number): Int32Array {
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

  /**
   * Marks (F_MARK) everything reachable from `roots` with an explicit stack — no recursion, so a
   * million-long chain is fine. Returns the number of objects newly marked; pushes them on `out`.
   */
  protected markFrom(roots: ArrayLike<Ptr>, out?: Ptr[]): number {
    let stack: Int32Array = this.stack;
    let top = 0;
    let marked = 0;
    const i32 = this.i32;
    for (let r = 0; r < roots.length; r++) {
      const p = roots[r];
      if (p === 0 || (i32[(p >> 2) + W_INFO] & F_MARK) !== 0) continue;
      i32[(p >> 2) + W_INFO] |= F_MARK;
      if (top === stack.length) stack = this.growStack(top + 1);
      stack[top++] = p;
    }
    while (top > 0) {
      const p = stack[--top];
      marked++;
      if (out !== undefined) out.push(p);
      const w = p >> 2;
      const refs = i32[w + W_REFS] >> 2;
      const n = i32[w + W_NREFS];
      for (let i = 0; i < n; i++) {
        const c = i32[refs + i];
        if (c !== 0 && (i32[(c >> 2) + W_INFO] & F_MARK) === 0) {
          i32[(c >> 2) + W_INFO] |= F_MARK;
          // each object is pushed once at most: a stack as long as the objects never grows here
          if (top === stack.length) stack = this.growStack(top + 1);
          stack[top++] = c;
        }
      }
    }
    return marked;
  }

  /** Every reference JS holds, as a list of addresses (handles, then root arrays). */
  protected jsRoots(): Ptr[] {
    const out: Ptr[] = [];
    for (let id = 1; id < this.handleTop; id++)
      if (this.handleTable[id] !== 0) out.push(this.handleTable[id]);
    for (const array of this.rootArrays) {
      for (const p of array.slots) if (p !== 0) out.push(p);
    }
    return out;
  }

  // ------------------------------------------------------------------ lists (CPython's gc_list_*)

  /** Empties a list head. */
  protected listInit(head: Ptr): void {
    const i32 = this.i32;
    i32[(head >> 2) + W_NEXT] = head;
    i32[(head >> 2) + W_PREV] = head;
  }

  /** Appends `node` at the tail of the list `head`. */
  protected listAppend(node: Ptr, head: Ptr): void {
    const i32 = this.i32;
    const h = head >> 2;
    const last = i32[h + W_PREV];
    i32[(last >> 2) + W_NEXT] = node;
    i32[(node >> 2) + W_PREV] = last;
    i32[(node >> 2) + W_NEXT] = head;
    i32[h + W_PREV] = node;
  }

  /** Unlinks `node` from whatever list holds it. */
  protected listRemove(node: Ptr): void {
    const i32 = this.i32;
    const n = node >> 2;
    const prev = i32[n + W_PREV];
    const next = i32[n + W_NEXT];
    i32[(prev >> 2) + W_NEXT] = next;
    i32[(next >> 2) + W_PREV] = prev;
    i32[n + W_NEXT] = 0;
    i32[n + W_PREV] = 0;
  }

  /** Moves every node of `from` to the tail of `to`, leaving `from` empty (O(1)). */
  protected listMerge(from: Ptr, to: Ptr): void {
    const i32 = this.i32;
    const f = from >> 2;
    const first = i32[f + W_NEXT];
    if (first === from) return;
    const last = i32[f + W_PREV];
    const t = to >> 2;
    const tail = i32[t + W_PREV];
    i32[(tail >> 2) + W_NEXT] = first;
    i32[(first >> 2) + W_PREV] = tail;
    i32[(last >> 2) + W_NEXT] = to;
    i32[t + W_PREV] = last;
    this.listInit(from);
  }

  /** True if the list is empty. */
  protected listEmpty(head: Ptr): boolean {
    return this.i32[(head >> 2) + W_NEXT] === head;
  }

  /** Walks a list: the addresses of its nodes, in order. */
  protected listNodes(head: Ptr): Ptr[] {
    const i32 = this.i32;
    const out: Ptr[] = [];
    for (let p = i32[(head >> 2) + W_NEXT]; p !== head; p = i32[(p >> 2) + W_NEXT]) out.push(p);
    return out;
  }

  private checkIndex(obj: Ptr, index: number, n: number, operation: string): void {
    if (!Number.isInteger(index) || index < 0 || index >= n) {
      throw new RangeError(`${operation}: index ${index} is outside the ${n} slots of the object at ${obj}`);
    }
  }
}
