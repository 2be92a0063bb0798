/**
 * Sweeping: every object of a list that marking did not reach goes back to the allocator (with its
 * item block); the marks of the rest are cleared for the next collection.
 *
 * ```
 *  for p in the list: MARK(p) ? clear MARK : unlink p, free its item block and p
 * ```
 *
 * @module
 */
import type { Ptr } from "@heapkit/contract";
import * as layout from "../layout.js";
import { listRemove } from "../lists.js";
import type { ManagedHeap } from "../managed.js";

const { F_ALIVE, F_MARK, W_INFO, W_NEXT } = layout;

/** Frees every unmarked object of the list `head` and clears the marks; returns how many it freed. */
export function sweep(space: ManagedHeap, head: Ptr): number {
  let freed = 0;
  let p = space.i32[(head >> 2) + W_NEXT];
  while (p !== head) {
    const i32 = space.i32;
    const w = p >> 2;
    const next = i32[w + W_NEXT];
    if ((i32[w + W_INFO] & F_MARK) !== 0) {
      i32[w + W_INFO] &= ~F_MARK;
    } else {
      listRemove(i32, p);
      space.freeItems(p);
      i32[w + W_INFO] &= ~F_ALIVE;
      space.allocator.free(p);
      freed++;
    }
    p = next;
  }
  return freed;
}
