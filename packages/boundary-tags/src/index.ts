/**
 * `@heapkit/boundary-tags` — the mechanism heapkit's fit strategies share: boundary-tag blocks,
 * splitting, immediate coalescing, growth at the top, in-place realloc, aligned allocation, the
 * block walk and the invariant check, written once. A strategy supplies only its free-block index
 * (the policy) by extending {@link BoundaryTagEngine}.
 *
 * @packageDocumentation
 */
export {
  LEFT,
  RIGHT,
  treeBlocks,
  treeFirstFit,
  treeInsert,
  treeLargest,
  treeRemove,
} from "./address-tree.js";
export { BoundaryTagEngine } from "./engine.js";
export { listBlocks, NEXT, PREV, pushFront, unlink } from "./free-list.js";
export {
  ENGINE_HEADER_BYTES,
  FLAG_MASK,
  HEADER_BYTES,
  MAGIC,
  MIN_BLOCK,
  PREV_USED,
  USED,
} from "./layout.js";
export {
  BIN_COUNT,
  BITMAP_WORDS,
  binFloor,
  binOf,
  EXACT_LIMIT,
  isBinMarked,
  isExactBin,
  markBin,
  nextMarkedBin,
  unmarkBin,
} from "./size-bins.js";
export { AddressTreeEngine } from "./tree-engine.js";
