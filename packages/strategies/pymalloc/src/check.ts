/**
 * `check()`: pymalloc's header, the fallback's own check, then one function per numbered invariant
 * of ./index.ts. Each throws `HeapCorruptionError` naming the word or pool and the invariant.
 *
 * @module
 */
import { HeapCorruptionError } from "@heapkit/contract";
import { addressInRange } from "./arena-map.js";
import { allocatedArenas } from "./inspection.js";
import {
  A_ADDRESS,
  A_FREEPOOLS,
  A_NEXT,
  A_NFREEPOOLS,
  A_NTOTALPOOLS,
  A_POOL_ADDRESS,
  A_PREV,
  ARENA_WORDS,
  DUMMY_SIZE_IDX,
  indexToSize,
  MAGIC,
  NB_SMALL_SIZE_CLASSES,
  P_ARENA,
  P_COUNT,
  P_FREEBLOCK,
  P_MAXNEXTOFFSET,
  P_NEXT,
  P_NEXTOFFSET,
  P_PREV,
  P_SZIDX,
  P_TAG,
  POOL_OVERHEAD,
  POOL_TAG,
  W_MAGIC,
  W_MAXARENAS,
  W_NARENAS,
  W_SHAPE,
  W_SUB_BASE,
  W_UNUSED,
  W_USABLE,
} from "./layout.js";
import type { PymallocParts } from "./parts.js";

/** Verifies every invariant; throws `HeapCorruptionError` at the first one broken. */
export function checkPymalloc(parts: PymallocParts): void {
  checkHeader(parts);
  parts.fallback.check();
  checkArenaObjects(parts);
  for (const [a, address] of allocatedArenas(parts)) {
    const index = (a - parts.layout.arenaWord) / ARENA_WORDS;
    const empty = checkFreePoolCount(parts, index, a, address);
    checkCarvedPools(parts, index, a, address, empty);
  }
  checkUsableArenas(parts);
  checkUsedPools(parts);
}

/** The magic word, the shape word and the fallback's base, as `format` wrote them. */
function checkHeader(parts: PymallocParts): void {
  const u32 = parts.memory.u32;
  const { layout } = parts;
  if (u32[layout.hw + W_MAGIC] !== MAGIC)
    throw new HeapCorruptionError(layout.base, "the region's magic word is overwritten");
  if (u32[layout.hw + W_SHAPE] !== layout.shapeWord() || u32[layout.hw + W_SUB_BASE] !== layout.subBase) {
    throw new HeapCorruptionError(layout.base + 4, "pymalloc's shape words are damaged");
  }
}

/** The word index of arena object `ref − 1`, once `ref` is known to name one. */
function arenaAt(parts: PymallocParts, ref: number, where: number, what: string): number {
  const maxarenas = parts.memory.u32[parts.layout.hw + W_MAXARENAS];
  if (ref < 1 || ref > maxarenas)
    throw new HeapCorruptionError(where << 2, `${what} ${ref - 1} is not an arena object`);
  return parts.layout.arenaObject(ref);
}

/**
 * Invariant 2: unused arena objects have address 0 and form a list without cycles; every other
 * object is allocated, pool-aligned, marked in the arena map, with a sane pool_address; they are
 * counted by narenas_currently_allocated.
 */
function checkArenaObjects(parts: PymallocParts): void {
  const u32 = parts.memory.u32;
  const { layout } = parts;
  const hw = layout.hw;
  const maxarenas = u32[hw + W_MAXARENAS];
  if (maxarenas > layout.capacity) {
    throw new HeapCorruptionError(
      (hw + W_MAXARENAS) << 2,
      `maxarenas ${maxarenas} exceeds the table's ${layout.capacity}`,
    );
  }
  const unused = new Set<number>();
  for (let ref = u32[hw + W_UNUSED]; ref !== 0; ) {
    const a = arenaAt(parts, ref, hw + W_UNUSED, "unused_arena_objects entry");
    if (unused.has(ref)) throw new HeapCorruptionError(a << 2, "the unused arena list has a cycle");
    unused.add(ref);
    if (u32[a + A_ADDRESS] !== 0)
      throw new HeapCorruptionError(a << 2, "an unused arena object has an address");
    ref = u32[a + A_NEXT];
  }
  let allocated = 0;
  for (let i = 0; i < maxarenas; i++) {
    const a = layout.arenaWord + i * ARENA_WORDS;
    const address = u32[a + A_ADDRESS];
    if (address === 0) {
      if (!unused.has(i + 1))
        throw new HeapCorruptionError(a << 2, `arena object ${i} is neither allocated nor unused`);
      continue;
    }
    allocated++;
    checkArenaPlace(parts, i, a, address);
  }
  if (allocated !== u32[hw + W_NARENAS]) {
    throw new HeapCorruptionError(
      (hw + W_NARENAS) << 2,
      `narenas_currently_allocated is ${u32[hw + W_NARENAS]}, the table holds ${allocated}`,
    );
  }
}

/** Invariant 2 for one allocated arena: where it lies, its map marks, its carved end and pool count. */
function checkArenaPlace(parts: PymallocParts, index: number, a: number, address: number): void {
  const u32 = parts.memory.u32;
  const { layout } = parts;
  if ((address & layout.poolMask) !== 0)
    throw new HeapCorruptionError(a << 2, `arena ${index} at ${address} is not pool-aligned`);
  if (
    !addressInRange(parts.memory.i32, layout, address) ||
    !addressInRange(parts.memory.i32, layout, address + layout.arenaSize - 1)
  ) {
    throw new HeapCorruptionError(a << 2, `arena ${index} at ${address} is not marked in the arena map`);
  }
  const carvedEnd = u32[a + A_POOL_ADDRESS];
  if (carvedEnd < address || carvedEnd > address + layout.arenaSize || (carvedEnd & layout.poolMask) !== 0) {
    throw new HeapCorruptionError(a << 2, `arena ${index}'s pool_address ${carvedEnd} is outside the arena`);
  }
  if (u32[a + A_NTOTALPOOLS] !== layout.maxPools) {
    throw new HeapCorruptionError(
      a << 2,
      `arena ${index}'s ntotalpools is ${u32[a + A_NTOTALPOOLS]}, not ${layout.maxPools}`,
    );
  }
}

/**
 * Invariant 3: an arena's nfreepools = the pools on its freepools list (carved, empty, each once)
 * + the pools not carved yet. Returns the pools on the list.
 */
function checkFreePoolCount(parts: PymallocParts, index: number, a: number, address: number): Set<number> {
  const u32 = parts.memory.u32;
  const { layout } = parts;
  const carvedEnd = u32[a + A_POOL_ADDRESS];
  const empty = new Set<number>();
  for (let pool = u32[a + A_FREEPOOLS]; pool !== 0; ) {
    if (pool < address || pool >= carvedEnd || (pool & layout.poolMask) !== 0 || empty.has(pool)) {
      throw new HeapCorruptionError(
        a << 2,
        `arena ${index}'s freepools list holds ${pool}, not one of its carved pools (or twice)`,
      );
    }
    empty.add(pool);
    if (u32[(pool >> 2) + P_COUNT] !== 0)
      throw new HeapCorruptionError(pool, "a pool on freepools has blocks in use");
    pool = u32[(pool >> 2) + P_NEXT];
  }
  const uncarved = (address + layout.arenaSize - carvedEnd) / layout.poolSize;
  if (u32[a + A_NFREEPOOLS] !== empty.size + uncarved) {
    throw new HeapCorruptionError(
      a << 2,
      `arena ${index}'s nfreepools is ${u32[a + A_NFREEPOOLS]}, but it has ${empty.size} free and ${uncarved} uncarved pools`,
    );
  }
  return empty;
}

/**
 * Invariant 4: each carved pool names its arena; in a used pool, ref.count + free-list length =
 * blocks carved, and the free list stays inside the carved blocks, on block boundaries, without repeats.
 */
function checkCarvedPools(
  parts: PymallocParts,
  index: number,
  a: number,
  address: number,
  empty: Set<number>,
): void {
  const u32 = parts.memory.u32;
  const { poolSize } = parts.layout;
  for (let pool = address; pool < u32[a + A_POOL_ADDRESS]; pool += poolSize) {
    const pw = pool >> 2;
    if (u32[pw + P_TAG] !== POOL_TAG)
      throw new HeapCorruptionError(pool, "the pool header's tag is overwritten");
    if (u32[pw + P_ARENA] !== index) {
      throw new HeapCorruptionError(
        pool,
        `pool's arenaindex is ${u32[pw + P_ARENA]}, it lies in arena ${index}`,
      );
    }
    const szidx = u32[pw + P_SZIDX];
    if (szidx === DUMMY_SIZE_IDX && empty.has(pool)) continue;
    if (szidx >= NB_SMALL_SIZE_CLASSES)
      throw new HeapCorruptionError(pool, `pool's szidx ${szidx} is not a size class`);
    checkPoolBlocks(parts, u32, pool, szidx);
  }
}

/** Invariant 4 for one pool of class `szidx`: its offsets, its free list and its ref.count agree. */
function checkPoolBlocks(parts: PymallocParts, u32: Uint32Array, pool: number, szidx: number): void {
  const { poolSize } = parts.layout;
  const pw = pool >> 2;
  const size = indexToSize(szidx);
  const nextoffset = u32[pw + P_NEXTOFFSET];
  if (
    u32[pw + P_MAXNEXTOFFSET] !== poolSize - size ||
    nextoffset < POOL_OVERHEAD + size ||
    (nextoffset - POOL_OVERHEAD) % size !== 0 ||
    nextoffset > poolSize
  ) {
    throw new HeapCorruptionError(
      pool,
      `pool's nextoffset ${nextoffset} / maxnextoffset ${u32[pw + P_MAXNEXTOFFSET]} do not fit class ${szidx}`,
    );
  }
  const carved = (nextoffset - POOL_OVERHEAD) / size;
  const visited = new Set<number>();
  for (let block = u32[pw + P_FREEBLOCK]; block !== 0; block = u32[block >> 2]) {
    if (
      block < pool + POOL_OVERHEAD ||
      block >= pool + nextoffset ||
      (block - pool - POOL_OVERHEAD) % size !== 0 ||
      visited.has(block)
    ) {
      throw new HeapCorruptionError(
        pool,
        `pool's free list holds ${block}, not a carved block of ${size} bytes (or twice)`,
      );
    }
    visited.add(block);
  }
  if (u32[pw + P_COUNT] + visited.size !== carved) {
    throw new HeapCorruptionError(
      pool,
      `pool's ref.count ${u32[pw + P_COUNT]} + ${visited.size} free blocks ≠ ${carved} carved blocks`,
    );
  }
}

/**
 * Invariant 1: usable_arenas is sorted by nfreepools ascending, its prev links agree, it holds
 * exactly the allocated arenas with free pools, and nfp2lasta[n] is its last arena with n free pools.
 */
function checkUsableArenas(parts: PymallocParts): void {
  const u32 = parts.memory.u32;
  const { layout } = parts;
  const hw = layout.hw;
  const withFreePools = new Set<number>();
  for (const [a] of allocatedArenas(parts)) {
    if (u32[a + A_NFREEPOOLS] > 0) withFreePools.add((a - layout.arenaWord) / ARENA_WORDS + 1);
  }
  let prev = 0;
  let prevNf = 0;
  const lasta = new Map<number, number>();
  for (let ref = u32[hw + W_USABLE]; ref !== 0; ) {
    const a = arenaAt(parts, ref, hw + W_USABLE, "usable_arenas entry");
    if (!withFreePools.delete(ref)) {
      throw new HeapCorruptionError(
        a << 2,
        `usable_arenas holds arena ${ref - 1}, which has no free pool or is listed twice`,
      );
    }
    if (u32[a + A_PREV] !== prev)
      throw new HeapCorruptionError(a << 2, `arena ${ref - 1}'s prevarena link is wrong`);
    const nf = u32[a + A_NFREEPOOLS];
    if (nf < prevNf) {
      throw new HeapCorruptionError(
        a << 2,
        `usable_arenas is not sorted by nfreepools (${nf} after ${prevNf})`,
      );
    }
    lasta.set(nf, ref);
    prev = ref;
    prevNf = nf;
    ref = u32[a + A_NEXT];
  }
  for (const missing of withFreePools) {
    throw new HeapCorruptionError(
      layout.arenaObject(missing) << 2,
      `arena ${missing - 1} has free pools but is not in usable_arenas`,
    );
  }
  for (let nf = 0; nf <= layout.maxPools; nf++) {
    if (u32[layout.lastaWord + nf] !== (lasta.get(nf) ?? 0)) {
      throw new HeapCorruptionError(
        (layout.lastaWord + nf) << 2,
        `nfp2lasta[${nf}] is not the last usable arena with ${nf} free pools`,
      );
    }
  }
}

/** Invariant 5: usedpools[c] holds exactly the pools of class c that are neither full nor empty. */
function checkUsedPools(parts: PymallocParts): void {
  const u32 = parts.memory.u32;
  const { layout } = parts;
  const listed = new Set<number>();
  for (let c = 0; c < NB_SMALL_SIZE_CLASSES; c++) {
    let prevPool = 0;
    for (let pool = u32[layout.usedWord + c]; pool !== 0; ) {
      if (
        !addressInRange(parts.memory.i32, layout, pool) ||
        (pool & layout.poolMask) !== 0 ||
        listed.has(pool)
      ) {
        throw new HeapCorruptionError(
          (layout.usedWord + c) << 2,
          `usedpools[${c}] holds ${pool}, not a pool (or twice)`,
        );
      }
      listed.add(pool);
      const pw = pool >> 2;
      if (u32[pw + P_PREV] !== prevPool)
        throw new HeapCorruptionError(pool, "the pool's prevpool link is wrong");
      if (u32[pw + P_SZIDX] !== c)
        throw new HeapCorruptionError(pool, `pool of class ${u32[pw + P_SZIDX]} is in usedpools[${c}]`);
      if (u32[pw + P_COUNT] === 0 || u32[pw + P_FREEBLOCK] === 0) {
        throw new HeapCorruptionError(
          pool,
          `a ${u32[pw + P_COUNT] === 0 ? "empty" : "full"} pool is in usedpools[${c}]`,
        );
      }
      prevPool = pool;
      pool = u32[pw + P_NEXT];
    }
  }
  for (const [a, address] of allocatedArenas(parts)) {
    for (let pool = address; pool < u32[a + A_POOL_ADDRESS]; pool += layout.poolSize) {
      const pw = pool >> 2;
      const partly = u32[pw + P_COUNT] !== 0 && u32[pw + P_FREEBLOCK] !== 0;
      if (partly !== listed.has(pool)) {
        throw new HeapCorruptionError(
          pool,
          partly ? "a partly used pool is missing from usedpools" : "pool listed in usedpools wrongly",
        );
      }
    }
  }
}
