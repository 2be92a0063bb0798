/**
 * Plan 3 — mark-compact: mark-sweep, then the live objects are slid together so the free space
 * becomes one block. It is Lisp-2's three passes, with the allocator as the placer, so it works over
 * any allocator of the contract:
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
import type { Allocator, Ptr } from "@heapkit/contract";
import * as layout from "../layout.js";
import { MarkSweep, type TracingOptions } from "./mark-sweep.js";

// Module-local copies of the layout constants: some toolchains (vite/vitest) turn every use of an
// imported binding into a property read on a module object, which the hot loops cannot afford.
const { HEADER_BYTES, TYPE_MASK, W_CAP, W_INFO, W_NEXT, W_NREFS, W_PREV, W_REFS } = layout;

/** Options of {@link MarkCompact}. */
export interface CompactOptions extends TracingOptions {
  /**
   * Compact when the objects freed since the last compaction are at least this fraction of the live
   * objects (default 0.25; 0 compacts after every collection that freed something). `compact()`
   * compacts at once.
   */
  compactRatio?: number;
}

/** What one compaction did. */
export interface CompactionReport {
  /** Objects moved. */
  moved: number;
  /** Bytes of objects and item blocks re-placed. */
  bytes: number;
}

/** Mark-compact over any allocator: mark, sweep, then slide the survivors together (see the module drawing). */
export class MarkCompact extends MarkSweep {
  /** The plan's name. */
  override readonly plan = "mark-compact" as const;
  /** What the last compaction did. */
  lastCompaction: CompactionReport = { moved: 0, bytes: 0 };
  /** Compact when the objects freed since the last compaction reach this fraction of the live ones. */
  readonly compactRatio: number;
  private freedSinceCompaction = 0;

  constructor(allocator: Allocator, options: CompactOptions = {}) {
    super(allocator, options);
    this.compactRatio = options.compactRatio ?? 0.25;
  }

  /**
   * Marks and sweeps; then compacts if enough has been freed since the last compaction (see
   * {@link CompactOptions.compactRatio}). Returns the number of objects freed.
   */
  override collect(generation?: number): number {
    const freed = super.collect(generation);
    this.freedSinceCompaction += freed;
    if (
      this.freedSinceCompaction > 0 &&
      this.freedSinceCompaction >= this.compactRatio * this.counters.objects
    ) {
      this.compact();
    }
    return freed;
  }

  /** Slides every live object (and its item block) to the lowest addresses the allocator offers. */
  compact(): CompactionReport {
    this.freedSinceCompaction = 0;
    const objects = this.allObjects().sort((a, b) => a - b);
    const count = objects.length;
    let i32 = this.i32;
    // 1. evacuate: sizes and contents, then free every block
    const sizes = new Int32Array(count);
    const itemCounts = new Int32Array(count);
    let total = 0;
    for (let k = 0; k < count; k++) {
      const p = objects[k];
      sizes[k] = this.types[i32[(p >> 2) + W_INFO] & TYPE_MASK].size;
      itemCounts[k] = this.types[i32[(p >> 2) + W_INFO] & TYPE_MASK].isList ? i32[(p >> 2) + W_NREFS] : -1;
      total += sizes[k] + Math.max(0, itemCounts[k]) * 4;
    }
    const saved = new Uint8Array(total);
    const u8 = this.allocator.memory.u8;
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
      if (itemCounts[k] >= 0 && i32[(p >> 2) + W_REFS] !== 0) this.allocator.free(i32[(p >> 2) + W_REFS]);
      this.allocator.free(p);
    }
    // 2. forward: new places, in the old address order
    const moved = new Int32Array(count);
    const movedItems = new Int32Array(count);
    for (let k = 0; k < count; k++) {
      moved[k] = this.allocator.malloc(sizes[k]);
      movedItems[k] = itemCounts[k] > 0 ? this.allocator.malloc(itemCounts[k] * 4) : 0;
    }
    i32 = this.refresh();
    const bytes = this.allocator.memory.u8;
    at = 0;
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
        i32[w + W_REFS] = moved[k] + HEADER_BYTES;
      }
    }
    // 3. update every reference through the forwarding table
    const forward = (p: Ptr): Ptr => {
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
      throw new Error(`mark-compact: ${p} is not a live object (a dangling reference)`);
    };
    const all = this.head(0);
    let prev = all;
    for (let k = 0; k < count; k++) {
      const w = moved[k] >> 2;
      const refs = i32[w + W_REFS] >> 2;
      for (let i = 0, n = i32[w + W_NREFS]; i < n; i++) i32[refs + i] = forward(i32[refs + i]);
      // relink the all-objects list in the new address order
      i32[w + W_PREV] = prev;
      i32[(prev >> 2) + W_NEXT] = moved[k];
      prev = moved[k];
    }
    i32[(prev >> 2) + W_NEXT] = all;
    i32[(all >> 2) + W_PREV] = prev;
    for (let id = 1; id < this.handleTable.length; id++) {
      if (this.handleTable[id] !== 0) this.handleTable[id] = forward(this.handleTable[id]);
    }
    for (const array of this.rootArrays) {
      const slots = array.slots;
      for (let s = 0; s < slots.length; s++) slots[s] = forward(slots[s]);
    }
    let movedCount = 0;
    for (let k = 0; k < count; k++) if (moved[k] !== objects[k]) movedCount++;
    this.counters.moved += movedCount;
    this.lastCompaction = { moved: movedCount, bytes: total };
    return this.lastCompaction;
  }
}
