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
  blockSizeAt,
  ENGINE_HEADER_BYTES,
  FLAG_MASK,
  HEADER_BYTES,
  isPrevUsedHeader,
  isUsedHeader,
  MAGIC,
  MIN_BLOCK,
  PREV_USED,
  SIZE_MASK,
  sizeOfHeader,
  USED,
} from "./layout.js";
export { POLICY_NUMBERS, POLICY_OPTION_BITS, type PolicyName, policyId } from "./policy-ids.js";
export {
  BIN_COUNT,
  BITMAP_WORDS,
  binFloor,
  binOf,
  EXACT_LIMIT,
  isBinMarked,
  isExactBin,
  lowestBit,
  markBin,
  maskFromBit,
  maskOfBit,
  nextMarkedBin,
  unmarkBin,
  wordOfBit,
} from "./size-bins.js";
export { AddressTreeEngine } from "./tree-engine.js";
