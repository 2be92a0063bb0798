/**
 * Inspection: the walk of every block (arenas opened into their pools and blocks), and the census
 * of pools and blocks per class that `stats()` and the `_debugmallocstats` report read.
 *
 * @module
 */
import type { BlockInfo, EngineStats, FreeSpace } from "@heapkit/contract";
import {
  A_ADDRESS,
  A_FREEPOOLS,
  A_NFREEPOOLS,
  A_POOL_ADDRESS,
  ALIGNMENT,
  ARENA_WORDS,
  indexToSize,
  NB_SMALL_SIZE_CLASSES,
  P_COUNT,
  P_FREEBLOCK,
  P_NEXT,
  P_NEXTOFFSET,
  P_SZIDX,
  POOL_OVERHEAD,
  SMALL_REQUEST_THRESHOLD,
  W_HIGHWATER,
  W_MAXARENAS,
  W_NARENAS,
  W_NTIMES,
  W_USABLE,
} from "./layout.js";
import type { PymallocParts } from "./parts.js";

/** What the statistics report counts. */
export interface Census {
  /** Used pools per class. */
  numpools: number[];
  /** Blocks in use per class. */
  numblocks: number[];
  /** Blocks available in the used pools per class. */
  numfree: number[];
  /** Free pools of every arena, cached and never carved. */
  freePools: number;
  narenas: number;
  ntimes: number;
  highwater: number;
  /** Blocks in use from the fallback for callers. */
  rawBlocks: number;
}

/** Every allocated arena: [arena object word, address]. */
export function* allocatedArenas(parts: PymallocParts): Generator<[number, number]> {
  const u32 = parts.memory.u32;
  const { layout } = parts;
  const maxarenas = u32[layout.hw + W_MAXARENAS];
  for (let i = 0; i < maxarenas; i++) {
    const a = layout.arenaWord + i * ARENA_WORDS;
    if (u32[a + A_ADDRESS] !== 0) yield [a, u32[a + A_ADDRESS]];
  }
}

/** True if some class could be served without a new arena. */
export function hasSmallRoom(parts: PymallocParts): boolean {
  const u32 = parts.memory.u32;
  const { layout } = parts;
  if (u32[layout.hw + W_USABLE] !== 0) return true;
  for (let c = 0; c < NB_SMALL_SIZE_CLASSES; c++) if (u32[layout.usedWord + c] !== 0) return true;
  return false;
}

/** The free blocks of a carved, non-empty pool, bounded so that a cycle cannot hang. */
function freeBlocksOf(parts: PymallocParts, u32: Uint32Array, pool: number): Set<number> {
  const set = new Set<number>();
  let block = u32[(pool >> 2) + P_FREEBLOCK];
  const limit = parts.layout.poolSize / ALIGNMENT;
  while (block !== 0 && set.size <= limit && !set.has(block)) {
    set.add(block);
    block = u32[block >> 2];
  }
  return set;
}

/** Every block by address: the fallback's, with each arena opened into its pools and blocks. */
export function* blocks(parts: PymallocParts): Generator<BlockInfo> {
  const { layout } = parts;
  yield { offset: layout.base, size: layout.subBase - layout.base, state: "meta", ptr: 0, payload: 0 };
  const arenas = new Map<number, number>();
  for (const [a, address] of allocatedArenas(parts)) arenas.set(address, a);
  for (const block of parts.fallback.blocks()) {
    const a = block.state === "used" ? arenas.get(block.ptr) : undefined;
    if (a === undefined) {
      yield block;
      continue;
    }
    const address = block.ptr;
    if (address > block.offset) {
      yield { offset: block.offset, size: address - block.offset, state: "meta", ptr: 0, payload: 0 };
    }
    yield* arenaBlocks(parts, a, address);
    const end = address + layout.arenaSize;
    if (block.offset + block.size > end) {
      yield { offset: end, size: block.offset + block.size - end, state: "meta", ptr: 0, payload: 0 };
    }
  }
}

/** The pools of one arena, each opened into its blocks, then the part never carved. */
function* arenaBlocks(parts: PymallocParts, a: number, address: number): Generator<BlockInfo> {
  const u32 = parts.memory.u32;
  const { layout } = parts;
  const carvedEnd = u32[a + A_POOL_ADDRESS];
  const empty = new Set<number>();
  for (let pool = u32[a + A_FREEPOOLS], n = 0; pool !== 0 && n < layout.maxPools; n++) {
    empty.add(pool);
    pool = u32[(pool >> 2) + P_NEXT];
  }
  for (let pool = address; pool < carvedEnd; pool += layout.poolSize) {
    if (empty.has(pool) || u32[(pool >> 2) + P_SZIDX] >= NB_SMALL_SIZE_CLASSES) {
      yield { offset: pool, size: layout.poolSize, state: "free", ptr: 0, payload: 0 };
    } else {
      yield* poolBlocks(parts, u32, pool);
    }
  }
  const end = address + layout.arenaSize;
  if (carvedEnd < end) yield { offset: carvedEnd, size: end - carvedEnd, state: "free", ptr: 0, payload: 0 };
}

/** One used pool: its header, its carved blocks, the virgin rest, the quantization tail. */
function* poolBlocks(parts: PymallocParts, u32: Uint32Array, pool: number): Generator<BlockInfo> {
  const { poolSize } = parts.layout;
  const pw = pool >> 2;
  yield { offset: pool, size: POOL_OVERHEAD, state: "meta", ptr: 0, payload: 0 };
  const size = indexToSize(u32[pw + P_SZIDX]);
  const free = freeBlocksOf(parts, u32, pool);
  const carved = pool + Math.min(u32[pw + P_NEXTOFFSET], poolSize);
  let block = pool + POOL_OVERHEAD;
  for (; block + size <= carved; block += size) {
    if (free.has(block)) yield { offset: block, size, state: "free", ptr: 0, payload: 0 };
    else yield { offset: block, size, state: "used", ptr: block, payload: size };
  }
  const usableEnd = pool + POOL_OVERHEAD + Math.floor((poolSize - POOL_OVERHEAD) / size) * size;
  if (usableEnd > block) yield { offset: block, size: usableEnd - block, state: "free", ptr: 0, payload: 0 };
  if (pool + poolSize > usableEnd) {
    yield { offset: usableEnd, size: pool + poolSize - usableEnd, state: "meta", ptr: 0, payload: 0 };
  }
}

/** Per-class figures and arena counters, as `_PyObject_DebugMallocStats` gathers them. */
export function census(parts: PymallocParts): Census {
  return { ...poolCensus(parts), rawBlocks: rawBlocks(parts) };
}

/** The census but for the fallback's blocks for callers, which take a walk of every fallback block. */
function poolCensus(parts: PymallocParts): Omit<Census, "rawBlocks"> {
  const u32 = parts.memory.u32;
  const { layout } = parts;
  const numpools = new Array<number>(NB_SMALL_SIZE_CLASSES).fill(0);
  const numblocks = new Array<number>(NB_SMALL_SIZE_CLASSES).fill(0);
  const numfree = new Array<number>(NB_SMALL_SIZE_CLASSES).fill(0);
  let freePools = 0;
  for (const [a, address] of allocatedArenas(parts)) {
    freePools += u32[a + A_NFREEPOOLS];
    const carvedEnd = u32[a + A_POOL_ADDRESS];
    for (let pool = address; pool < carvedEnd; pool += layout.poolSize) {
      const pw = pool >> 2;
      const count = u32[pw + P_COUNT];
      if (count === 0) continue;
      const index = u32[pw + P_SZIDX];
      numpools[index]++;
      numblocks[index] += count;
      numfree[index] += layout.blocksPerPool(index) - count;
    }
  }
  return {
    numpools,
    numblocks,
    numfree,
    freePools,
    narenas: u32[layout.hw + W_NARENAS],
    ntimes: u32[layout.hw + W_NTIMES],
    highwater: u32[layout.hw + W_HIGHWATER],
  };
}

/**
 * Blocks in use from the fallback for callers (requests of 0 or more than 512 bytes, memalign): its
 * used blocks less the arenas. Walked, not counted: a counter cost every such malloc and free a
 * read-modify-write of the buffer.
 */
function rawBlocks(parts: PymallocParts): number {
  let used = 0;
  for (const block of parts.fallback.blocks()) if (block.state === "used") used++;
  return used - parts.memory.u32[parts.layout.hw + W_NARENAS];
}

/**
 * Free space as `usage()` samples it: what `stats()` counts (the fallback's free blocks, the free
 * blocks of the used pools, the free pools), without the walk of every fallback block that `stats()`
 * takes for its details. 200 calls over a heap of 113 K live small blocks (56 MB) took 302 ms through
 * `stats()` and 58 ms so (2026-12-05): a replay's samples had cost more than its replay loop.
 */
export function freeSpace(parts: PymallocParts): FreeSpace {
  const { freeBytes, largestFreeBlock } = freeFigures(parts, parts.fallback.stats(), poolCensus(parts));
  return { freeBytes, largestFreeBlock };
}

/** The free figures of the whole engine from the fallback's statistics and the census of pools. */
function freeFigures(
  parts: PymallocParts,
  fallback: EngineStats,
  c: Omit<Census, "rawBlocks">,
): Omit<EngineStats, "details"> & { freeSmallBlocks: number } {
  const { poolSize } = parts.layout;
  let freeSmallBlocks = 0;
  let freeSmallBytes = 0;
  for (let i = 0; i < NB_SMALL_SIZE_CLASSES; i++) {
    freeSmallBlocks += c.numfree[i];
    freeSmallBytes += c.numfree[i] * indexToSize(i);
  }
  return {
    freeBlocks: fallback.freeBlocks + freeSmallBlocks + c.freePools,
    freeBytes: fallback.freeBytes + freeSmallBytes + c.freePools * poolSize,
    largestFreeBlock: Math.max(fallback.largestFreeBlock, c.freePools > 0 ? poolSize : 0),
    freeSmallBlocks,
  };
}

/** The engine's statistics: the fallback's, with the small blocks and free pools added. */
export function stats(parts: PymallocParts): EngineStats {
  const { layout } = parts;
  const fb = parts.fallback.stats();
  const c = census(parts);
  let usedPools = 0;
  let blocksInUse = 0;
  for (let i = 0; i < NB_SMALL_SIZE_CLASSES; i++) {
    usedPools += c.numpools[i];
    blocksInUse += c.numblocks[i];
  }
  const free = freeFigures(parts, fb, c);
  const details: Record<string, number | string> = {
    smallRequestThreshold: SMALL_REQUEST_THRESHOLD,
    sizeClasses: NB_SMALL_SIZE_CLASSES,
    arenaSize: layout.arenaSize,
    poolSize: layout.poolSize,
    arenasAllocatedTotal: c.ntimes,
    arenasReclaimed: c.ntimes - c.narenas,
    arenasHighwater: c.highwater,
    arenasCurrent: c.narenas,
    usedPools,
    unusedPools: c.freePools,
    smallBlocksInUse: blocksInUse,
    smallBlocksAvailable: free.freeSmallBlocks,
    rawBlocks: c.rawBlocks,
    fallback: parts.fallback.strategy,
  };
  for (const [key, value] of Object.entries(fb.details)) details[`fallback.${key}`] = value;
  return {
    freeBlocks: free.freeBlocks,
    freeBytes: free.freeBytes,
    largestFreeBlock: free.largestFreeBlock,
    details,
  };
}
