import type { ObjectType, RefcountCycles } from "../src/index.js";

/** Two objects of `type` (lists by default) referring to each other, held by nothing but themselves; returns their addresses. */
export function makeCycle(gc: RefcountCycles, type: ObjectType = gc.list): [number, number] {
  const a = gc.allocate(type);
  const b = gc.allocate(type);
  gc.append(a, b);
  gc.append(b, a);
  gc.decref(a);
  gc.decref(b);
  return [a, b];
}
