/**
 * Marking: everything reachable from a set of roots gets the MARK flag, traced with an explicit
 * stack — no recursion, so a million-long chain is fine.
 *
 * ```
 *  stack ← roots; while stack: p ← pop; for each slot c of p: if !MARK(c): MARK(c), push c
 * ```
 *
 * @module
 */
import type { Ptr } from "@heapkit/contract";
import * as layout from "../layout.js";
import type { ManagedHeap } from "../managed.js";

// Module-local copies of the layout constants: some toolchains (vite/vitest) turn every use of an
// imported binding into a property read on a module object, which the hot loops cannot afford.
const { F_MARK, W_INFO, W_NREFS, W_REFS } = layout;

/**
 * Marks (F_MARK) everything reachable from `roots` in `space`. Returns the number of objects newly
 * marked; pushes them on `out` if given.
 */
export function markFrom(space: ManagedHeap, roots: ArrayLike<Ptr>, out?: Ptr[]): number {
  let stack: Int32Array = space.stack;
  let top = 0;
  let marked = 0;
  const i32 = space.i32;
  for (let r = 0; r < roots.length; r++) {
    const p = roots[r];
    if (p === 0 || (i32[(p >> 2) + W_INFO] & F_MARK) !== 0) continue;
    i32[(p >> 2) + W_INFO] |= F_MARK;
    if (top === stack.length) stack = space.growStack(top + 1);
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
        if (top === stack.length) stack = space.growStack(top + 1);
        stack[top++] = c;
      }
    }
  }
  return marked;
}
