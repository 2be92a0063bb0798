/**
 * An address-ordered index of free blocks that finds the first fit without a scan: a Cartesian
 * tree (Vuillemin 1980; the "fast fits" of Stephenson, SOSP 1983) threaded through the free blocks,
 * in their two link words, with its root in the policy's metadata.
 *
 * ```
 *  root word (metadata)             key: the block's address       (in-order = address order)
 *        |                          priority: its size, ties broken by a hash of the address
 *        v                          (a max-heap: no block is bigger than its parent)
 *     0x7f0 (4096)
 *      /        \                   free block b
 *   0x1a8 (512)  0x9c8 (64)         +--------------+
 *    /      \                       | header       |
 *  0x040    0x3e0                   | left  (b+4)  |   lower addresses
 *  (48)     (256)                   | right (b+8)  |   higher addresses
 *                                   | …    footer  |
 *                                   +--------------+
 * ```
 *
 * First fit, lowest address first: a subtree holds a block of `size` or more exactly when its root
 * does (heap order), so the search starts at the root and goes left while the node fits; the last
 * node that fitted is the lowest-addressed block that fits. Next fit's search (the lowest block that
 * fits at or above its rover) is the same walk, which also goes right past blocks below the rover.
 *
 * Insert descends by address to the first node of lower priority and splits that subtree around the
 * new key; remove descends by address to the block and merges its two subtrees in its place. All
 * three cost the depth of the tree. With sizes unrelated to addresses (random frees) the shape is a
 * random treap's, O(log n) deep; a heap whose free blocks grow with their address (sorted sizes) makes
 * it a path, O(n), the cost an address-ordered list has always. The hash (a bijection of the 32-bit
 * address) makes the priorities distinct, so runs of equal sizes — the common case: many blocks of
 * the smallest size — are balanced like a treap instead of forming a path.
 *
 * Links are block offsets (0 is no child), at the same offsets as a free list's next and prev, so a
 * block of the minimum size (header, two links, footer) holds a node. All functions take the current
 * `Uint32Array` view; none allocates.
 *
 * @module
 */
import { HeapCorruptionError } from "@heapkit/contract";
import { SIZE_MASK as LAYOUT_SIZE_MASK } from "./layout.js";

// Module-private copies of the layout's constants: V8 reads an imported binding through its module
// cell at every use, and these are read in every malloc and free.
const SIZE_MASK = LAYOUT_SIZE_MASK;

/** Byte offset of the left (lower addresses) link inside a free block. */
export const LEFT = 4;
/** Byte offset of the right (higher addresses) link inside a free block. */
export const RIGHT = 8;

/** A bijection of 32-bit addresses, so that no two blocks have the same priority. */
function tieBreak(block: number): number {
  return Math.imul(block, 0x9e37_79b1) >>> 0;
}

/** True when block `a` (size `sizeA`) ranks above block `b` (size `sizeB`) in the heap order. */
function ranksAbove(a: number, sizeA: number, b: number, sizeB: number): boolean {
  return sizeA > sizeB || (sizeA === sizeB && tieBreak(a) > tieBreak(b));
}

/**
 * The lowest-addressed free block at `from` or above (first fit: 0; next fit: its rover) with at
 * least `size` bytes, or 0. `rootWord` is a word index. It walks one path: past blocks below `from`
 * it goes right; at a block that fits and is at `from` or above, it remembers it and goes left for a
 * lower one; a subtree whose root does not fit holds nothing that does, so the walk ends there.
 */
export function treeFirstFit(u32: Uint32Array, rootWord: number, size: number, from = 0): number {
  let node = u32[rootWord];
  let found = 0;
  while (node !== 0 && (u32[node >> 2] & SIZE_MASK) >= size) {
    if (node < from) {
      node = u32[(node + RIGHT) >> 2];
    } else {
      found = node;
      node = u32[(node + LEFT) >> 2];
    }
  }
  return found;
}

/** The largest free block's size: the root's. */
export function treeLargest(u32: Uint32Array, rootWord: number): number {
  const root = u32[rootWord];
  return root === 0 ? 0 : u32[root >> 2] & SIZE_MASK;
}

/** Adds `block` (its header already holding `size`). */
export function treeInsert(u32: Uint32Array, rootWord: number, block: number, size: number): void {
  // the link (a word index) where the new node goes: below every node that ranks above it
  let link = rootWord;
  let node = u32[link];
  while (node !== 0 && ranksAbove(node, u32[node >> 2] & SIZE_MASK, block, size)) {
    link = (node + (block < node ? LEFT : RIGHT)) >> 2;
    node = u32[link];
  }
  u32[link] = block;
  // split the subtree that was there around the new address: lower keys left, higher right
  let leftLink = (block + LEFT) >> 2;
  let rightLink = (block + RIGHT) >> 2;
  while (node !== 0) {
    if (node < block) {
      u32[leftLink] = node;
      leftLink = (node + RIGHT) >> 2;
      node = u32[leftLink];
    } else {
      u32[rightLink] = node;
      rightLink = (node + LEFT) >> 2;
      node = u32[rightLink];
    }
  }
  u32[leftLink] = 0;
  u32[rightLink] = 0;
}

/** Removes `block`, which must be in the tree. */
export function treeRemove(u32: Uint32Array, rootWord: number, block: number): void {
  let link = rootWord;
  let node = u32[link];
  while (node !== block) {
    if (node === 0) throw new HeapCorruptionError(block, "a free block is missing from the address tree");
    link = (node + (block < node ? LEFT : RIGHT)) >> 2;
    node = u32[link];
  }
  // merge the two subtrees in its place: every key on the left is below every key on the right
  let left = u32[(block + LEFT) >> 2];
  let right = u32[(block + RIGHT) >> 2];
  while (left !== 0 && right !== 0) {
    if (ranksAbove(left, u32[left >> 2] & SIZE_MASK, right, u32[right >> 2] & SIZE_MASK)) {
      u32[link] = left;
      link = (left + RIGHT) >> 2;
      left = u32[link];
    } else {
      u32[link] = right;
      link = (right + LEFT) >> 2;
      right = u32[link];
    }
  }
  u32[link] = left !== 0 ? left : right;
}

/**
 * The blocks of the tree in address order, checking the search-tree order and the heap order on
 * the way. Stops after `limit` nodes, so a corrupted (cyclic) tree cannot loop forever; the caller's
 * check then sees a block twice or misses one.
 */
export function* treeBlocks(u32: Uint32Array, rootWord: number, limit: number): Generator<number> {
  // an explicit stack of (node, lowest allowed key, highest allowed key)
  const stack: number[] = [];
  let node = u32[rootWord];
  let low = 0;
  let high = 0xffff_ffff;
  let steps = 0;
  for (;;) {
    while (node !== 0 && steps <= limit) {
      steps++;
      if (node <= low || node >= high) {
        throw new HeapCorruptionError(node, "the address tree is out of address order");
      }
      stack.push(node, low, high);
      const left = u32[(node + LEFT) >> 2];
      if (left !== 0 && ranksAbove(left, u32[left >> 2] & SIZE_MASK, node, u32[node >> 2] & SIZE_MASK)) {
        throw new HeapCorruptionError(left, "a block of the address tree is bigger than its parent");
      }
      high = node;
      node = left;
    }
    if (stack.length === 0) return;
    high = stack.pop() as number;
    low = stack.pop() as number;
    node = stack.pop() as number;
    yield node;
    const right = u32[(node + RIGHT) >> 2];
    if (right !== 0 && ranksAbove(right, u32[right >> 2] & SIZE_MASK, node, u32[node >> 2] & SIZE_MASK)) {
      throw new HeapCorruptionError(right, "a block of the address tree is bigger than its parent");
    }
    low = node;
    node = right;
  }
}
