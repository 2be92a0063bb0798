/**
 * Doubly linked lists threaded through the heap (CPython's `gc_list_*`): an object's `next`/`prev`
 * words link it into one list at a time, and a list head is a cell with the same two words. Every
 * function takes the heap's words as they are now (re-read them after anything that grows memory).
 *
 * @module
 */
import * as layout from "./layout.js";

// Module-local copies of the layout constants: some toolchains (vite/vitest) turn every use of an
// imported binding into a property read on a module object, which the hot loops cannot afford.
const { W_NEXT, W_PREV } = layout;

/** Empties a list head. */
export function listInit(i32: Int32Array, head: number): void {
  i32[(head >> 2) + W_NEXT] = head;
  i32[(head >> 2) + W_PREV] = head;
}

/** Appends `node` at the tail of the list `head`. */
export function listAppend(i32: Int32Array, node: number, head: number): void {
  const h = head >> 2;
  const last = i32[h + W_PREV];
  i32[(last >> 2) + W_NEXT] = node;
  i32[(node >> 2) + W_PREV] = last;
  i32[(node >> 2) + W_NEXT] = head;
  i32[h + W_PREV] = node;
}

/** Unlinks `node` from whatever list holds it. */
export function listRemove(i32: Int32Array, node: number): void {
  const n = node >> 2;
  const prev = i32[n + W_PREV];
  const next = i32[n + W_NEXT];
  i32[(prev >> 2) + W_NEXT] = next;
  i32[(next >> 2) + W_PREV] = prev;
  i32[n + W_NEXT] = 0;
  i32[n + W_PREV] = 0;
}

/** Moves every node of `from` to the tail of `to`, leaving `from` empty (O(1)). */
export function listMerge(i32: Int32Array, from: number, to: number): void {
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
  listInit(i32, from);
}

/** True if the list is empty. */
export function listEmpty(i32: Int32Array, head: number): boolean {
  return i32[(head >> 2) + W_NEXT] === head;
}

/** The first node of a non-empty list. */
export function listFirst(i32: Int32Array, head: number): number {
  return i32[(head >> 2) + W_NEXT];
}

/** The addresses of a list's nodes, in order. */
export function listNodes(i32: Int32Array, head: number): number[] {
  const out: number[] = [];
  for (let p = i32[(head >> 2) + W_NEXT]; p !== head; p = i32[(p >> 2) + W_NEXT]) out.push(p);
  return out;
}

/** The number of nodes of a list. */
export function listLength(i32: Int32Array, head: number): number {
  let n = 0;
  for (let p = i32[(head >> 2) + W_NEXT]; p !== head; p = i32[(p >> 2) + W_NEXT]) n++;
  return n;
}
