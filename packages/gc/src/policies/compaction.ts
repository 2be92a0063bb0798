/**
 * Compaction: the live objects slide together so the free space becomes one block. It is Lisp-2's
 * three passes, with the allocator as the placer, so it works over any allocator of the contract:
 *
 * ```
 *  before   |A|..|B|....|C|.|D|......        (holes left by the sweep)
 *  1. evacuate: copy A B C D (and their item blocks) aside in address order, free every block —
 *     the allocator coalesces the holes into one free block
 *  2. forward:  re-allocate A B C D in the same order; an address-ordered allocator puts them at the
 *     bottom, one after another; new address of each = its forwarding address
 *  3. update:   every reference slot, item block, handle and root slot is rewritten through the
 *     forwarding table (binary search over the old addresses, which are sorted)
 *  after    |A|B|C|D|........................ (one free block: fragmentation gone)
 * ```
 *
 * Why not Lisp-2 in place: the blocks belong to the allocator, whose headers and free index sit
 * between them; moving payloads behind its back would corrupt it. Asking it for the new places keeps
 * every invariant (`check()` passes after every compaction). Handles and root arrays are the only way
 * JS holds objects, so they are updated with everything else and survive every move.
 *
 * @module
 */
import { HeapCorruptionError, type Ptr } from "@heapkit/contract";
import * as layout from "../layout.js";
import type { ManagedHeap } from "../managed.js";

const { TYPE_MASK, W_CAP, W_INFO, W_NEXT, W_NREFS, W_PREV, W_REFS } = layout;

/** The live objects copied aside by {@link evacuate}, in address order. */
export interface Evacuation {
  /** The old addresses, ascending. */
  readonly objects: readonly Ptr[];
  /** Each object's block size. */
  readonly sizes: Int32Array;
  /** Each list's item count (−1 for a fixed type). */
  readonly itemCounts: Int32Array;
  /** Every object's bytes, then its items, one after another. */
  readonly saved: Uint8Array;
  /** Bytes saved. */
  readonly bytes: number;
}

/** 1. Copies every object of `objects` (ascending addresses) and its items aside, then frees their blocks. */
export function evacuate(space: ManagedHeap, objects: readonly Ptr[]): Evacuation {
  const count = objects.length;
  const i32 = space.i32;
  const sizes = new Int32Array(count);
  const itemCounts = new Int32Array(count);
  let bytes = 0;
  for (let k = 0; k < count; k++) {
    const p = objects[k];
    const type = space.types[i32[(p >> 2) + W_INFO] & TYPE_MASK];
    sizes[k] = type.size;
    itemCounts[k] = type.isList ? i32[(p >> 2) + W_NREFS] : -1;
    bytes += sizes[k] + Math.max(0, itemCounts[k]) * 4;
  }
  const saved = new Uint8Array(bytes);
  const u8 = space.allocator.memory.u8;
  let at = 0;
  for (let k = 0; k < count; k++) {
    const p = objects[k];
    saved.set(u8.subarray(p, p + sizes[k]), at);
    at += sizes[k];
    if (itemCounts[k] > 0) {
      const items = i32[(p >> 2) + W_REFS];
      saved.set(u8.subarray(items, items + itemCounts[k] * 4), at);
      at += itemCounts[k] * 4;
    }
  }
  for (let k = 0; k < count; k++) {
    const p = objects[k];
    if (itemCounts[k] >= 0 && i32[(p >> 2) + W_REFS] !== 0) space.allocator.free(i32[(p >> 2) + W_REFS]);
    space.allocator.free(p);
  }
  // blocks freed into a front cache would come back in reverse order, not coalesced at the bottom
  space.allocator.flushCache?.();
  return { objects, sizes, itemCounts, saved, bytes };
}

/**
 * 2. Re-allocates every evacuated object (and item block) in the old address order and copies it
 * back; returns each object's new address, its forwarding address.
 */
export function forward(space: ManagedHeap, evacuation: Evacuation): Int32Array {
  const { sizes, itemCounts, saved } = evacuation;
  const count = sizes.length;
  const moved = new Int32Array(count);
  const movedItems = new Int32Array(count);
  for (let k = 0; k < count; k++) {
    moved[k] = space.allocator.malloc(sizes[k]);
    movedItems[k] = itemCounts[k] > 0 ? space.allocator.malloc(itemCounts[k] * 4) : 0;
  }
  const i32 = space.refresh();
  const bytes = space.allocator.memory.u8;
  let at = 0;
  for (let k = 0; k < count; k++) {
    bytes.set(saved.subarray(at, at + sizes[k]), moved[k]);
    at += sizes[k];
    const w = moved[k] >> 2;
    if (itemCounts[k] >= 0) {
      if (itemCounts[k] > 0) {
        bytes.set(saved.subarray(at, at + itemCounts[k] * 4), movedItems[k]);
        at += itemCounts[k] * 4;
      }
      i32[w + W_REFS] = movedItems[k];
      i32[w + W_CAP] = itemCounts[k];
    } else {
      i32[w + W_REFS] = moved[k] + space.header.bytes;
    }
  }
  return moved;
}

/**
 * 3. Rewrites every reference — slots, handles, root arrays — through the forwarding table, and
 * relinks the list `head` in the new address order. Returns how many objects changed address.
 */
export function update(space: ManagedHeap, evacuation: Evacuation, moved: Int32Array, head: Ptr): number {
  const objects = evacuation.objects;
  const count = objects.length;
  const forwarded = (p: Ptr): Ptr => {
    if (p === 0) return 0;
    let lo = 0;
    let hi = count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = objects[mid];
      if (v === p) return moved[mid];
      if (v < p) lo = mid + 1;
      else hi = mid - 1;
    }
    throw new HeapCorruptionError(
      p,
      "mark-compact: a reference points at no live object (a dangling reference)",
    );
  };
  const i32 = space.i32;
  let prev = head;
  for (let k = 0; k < count; k++) {
    const w = moved[k] >> 2;
    const refs = i32[w + W_REFS] >> 2;
    for (let i = 0, n = i32[w + W_NREFS]; i < n; i++) i32[refs + i] = forwarded(i32[refs + i]);
    i32[w + W_PREV] = prev;
    i32[(prev >> 2) + W_NEXT] = moved[k];
    prev = moved[k];
  }
  i32[(prev >> 2) + W_NEXT] = head;
  i32[(head >> 2) + W_PREV] = prev;
  const handles = space.handleTable;
  for (let id = 1; id < handles.length; id++) {
    if (handles[id] !== 0) handles[id] = forwarded(handles[id]);
  }
  for (const array of space.rootArrays) {
    const slots = array.slots;
    for (let s = 0; s < slots.length; s++) slots[s] = forwarded(slots[s]);
  }
  let changed = 0;
  for (let k = 0; k < count; k++) if (moved[k] !== objects[k]) changed++;
  return changed;
}
