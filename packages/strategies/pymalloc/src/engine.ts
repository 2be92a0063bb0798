/**
 * The hot engine: malloc and free of small blocks in a few words of the pool header, everything
 * else handed to the layers (pools, arenas, inspection, report, check) or to the fallback.
 *
 * Usable bytes on the way: a small block's are its class's size, which malloc knows from the
 * request and free and realloc read from the pool header they touch anyway (szidx); a block of the
 * fallback's is what the fallback says (its `lastUsableSize`, its `free`'s result), forwarded.
 *
 * @module
 */
import type {
  Alignment,
  AllocatorEngine,
  BlockInfo,
  EngineStats,
  FreeSpace,
  Memory,
  Ptr,
  Region,
  Strategy,
} from "@heapkit/contract";
import { HeapCorruptionError, OutOfMemoryError } from "@heapkit/contract";
import * as arenaMap from "./arena-map.js";
import { checkPymalloc } from "./check.js";
import { blocks, freeSpace, hasSmallRoom, stats } from "./inspection.js";
import * as words from "./layout.js";
import { type LayoutOptions, PymallocLayout } from "./layout.js";
import type { PymallocParts } from "./parts.js";
import * as pools from "./pools.js";
import { debugMallocStats } from "./report.js";

// Module-private copies of the layout's words and the pool functions: V8 reads an imported binding
// through its module cell at every use, and these are read in every malloc and free.
const { allocateFromNewPool, frontlinkPool, insertToFreepool, poolExtend } = pools;
const { addressInRange } = arenaMap;
const {
  A_POOL_ADDRESS,
  indexToSize,
  ALIGNMENT,
  ALIGNMENT_SHIFT,
  ARENA_WORDS,
  MAGIC,
  NB_SMALL_SIZE_CLASSES,
  P_ARENA,
  P_COUNT,
  P_FREEBLOCK,
  P_NEXTOFFSET,
  P_SZIDX,
  POOL_OVERHEAD,
  SMALL_REQUEST_THRESHOLD,
  W_CAPACITY,
  W_CHUNKS,
  W_MAGIC,
  W_MAXARENAS,
  W_SHAPE,
  W_SUB_BASE,
} = words;

/** The fallback's view of the region: it starts after pymalloc's metadata and grows with it. */
class FallbackRegion implements Region {
  readonly memory: Memory;
  readonly base: number;
  readonly limit: number;
  readonly align: Alignment;
  private readonly parent: Region;

  constructor(parent: Region, base: number) {
    this.parent = parent;
    this.memory = parent.memory;
    this.base = base;
    this.limit = parent.limit;
    this.align = parent.align;
  }

  get brk(): number {
    return this.parent.brk;
  }

  sbrk(increment: number): number {
    return this.parent.sbrk(increment);
  }
}

/** Formats `region` for pymalloc (its header, then the fallback's heap after it) and returns the engine. */
export function createPymalloc(
  region: Region,
  options: LayoutOptions,
  fallback: Strategy<unknown>,
): PymallocEngine {
  const layout = new PymallocLayout(region, options);
  if (region.brk !== region.base || region.sbrk(layout.subBase - region.base) < 0) {
    throw new OutOfMemoryError(layout.subBase - region.base, 0, 0, region.limit - region.base);
  }
  const memory = region.memory;
  memory.u8.fill(0, region.base, layout.subBase);
  const u32 = memory.u32;
  u32[layout.hw + W_MAGIC] = MAGIC;
  u32[layout.hw + W_SHAPE] = layout.shapeWord();
  u32[layout.hw + W_SUB_BASE] = layout.subBase;
  u32[layout.hw + W_CAPACITY] = layout.capacity;
  u32[layout.hw + W_CHUNKS] = layout.chunks;
  return new PymallocEngine(region, layout, fallback.create(new FallbackRegion(region, layout.subBase)));
}

/** Opens a region pymalloc formatted with these options, and the fallback's heap in it. */
export function attachPymalloc(
  region: Region,
  options: LayoutOptions,
  fallback: Strategy<unknown>,
): PymallocEngine {
  const layout = new PymallocLayout(region, options);
  const u32 = region.memory.u32;
  if (
    u32[layout.hw + W_MAGIC] !== MAGIC ||
    u32[layout.hw + W_SHAPE] !== layout.shapeWord() ||
    u32[layout.hw + W_SUB_BASE] !== layout.subBase
  ) {
    throw new HeapCorruptionError(region.base, "not a region formatted by pymalloc with these options");
  }
  return new PymallocEngine(region, layout, fallback.attach(new FallbackRegion(region, layout.subBase)));
}

/** CPython's obmalloc over a fallback engine; every field is fixed at construction. */
export class PymallocEngine implements AllocatorEngine, PymallocParts {
  readonly strategy = "pymalloc";
  readonly memory: Memory;
  readonly region: Region;
  readonly layout: PymallocLayout;
  readonly fallback: AllocatorEngine;
  /** Word index of the header. */
  private readonly hw: number;
  /** Word index of usedpools[0]. */
  private readonly usedWord: number;
  /** `poolSize − 1`. */
  private readonly poolMask: number;
  /** Usable bytes of the block the last successful malloc, realloc or memalign returned. */
  lastUsableSize: number;

  constructor(region: Region, layout: PymallocLayout, fallback: AllocatorEngine) {
    this.region = region;
    this.memory = region.memory;
    this.layout = layout;
    this.fallback = fallback;
    this.hw = layout.hw;
    this.usedWord = layout.usedWord;
    this.poolMask = layout.poolMask;
    this.lastUsableSize = 0;
  }

  // ------------------------------------------------------------------ the hot path

  /** address_in_range, as a method: a call through a field's object measured slower on workload W. */
  private inArena(p: number): boolean {
    return addressInRange(this.memory.i32, this.layout, p);
  }

  malloc(size: number): Ptr {
    if (size - 1 < SMALL_REQUEST_THRESHOLD && size > 0) {
      const u32 = this.memory.u32;
      const index = (size - 1) >> ALIGNMENT_SHIFT;
      const pool = u32[this.usedWord + index];
      if (pool !== 0) {
        const pw = pool >> 2;
        u32[pw + P_COUNT]++;
        const bp = u32[pw + P_FREEBLOCK];
        const next = u32[bp >> 2];
        u32[pw + P_FREEBLOCK] = next;
        if (next === 0) poolExtend(u32, this.layout, pool, index);
        this.lastUsableSize = (index + 1) << ALIGNMENT_SHIFT;
        return bp;
      }
      const bp = allocateFromNewPool(this, index);
      if (bp !== 0) {
        this.lastUsableSize = (index + 1) << ALIGNMENT_SHIFT;
        return bp;
      }
    }
    const fallback = this.fallback;
    const ptr = fallback.malloc(size);
    if (ptr !== 0) this.lastUsableSize = fallback.lastUsableSize;
    return ptr;
  }

  free(ptr: Ptr): number {
    if (!this.inArena(ptr)) return this.fallback.free(ptr);
    const u32 = this.memory.u32;
    const pool = ptr & ~this.poolMask;
    const pw = pool >> 2;
    const lastfree = u32[pw + P_FREEBLOCK];
    u32[ptr >> 2] = lastfree;
    u32[pw + P_FREEBLOCK] = ptr;
    const count = u32[pw + P_COUNT] - 1;
    u32[pw + P_COUNT] = count;
    const index = u32[pw + P_SZIDX];
    if (lastfree === 0) {
      // the pool was full: front of usedpools
      frontlinkPool(u32, this.layout, pool, index);
    } else if (count === 0) {
      insertToFreepool(this, u32, pool);
    }
    return (index + 1) << ALIGNMENT_SHIFT;
  }

  realloc(ptr: Ptr, size: number): Ptr {
    if (!this.inArena(ptr)) {
      const fallback = this.fallback;
      const moved = fallback.realloc(ptr, size);
      if (moved !== 0) this.lastUsableSize = fallback.lastUsableSize;
      return moved;
    }
    const pool = ptr & ~this.poolMask;
    const usable = indexToSize(this.memory.u32[(pool >> 2) + P_SZIDX]);
    let kept = usable;
    if (size <= kept) {
      // stays in place unless shrinking saves at least 25 %
      if (4 * size > 3 * kept) {
        this.lastUsableSize = usable;
        return ptr;
      }
      kept = size;
    }
    // malloc sets lastUsableSize; free leaves it
    const moved = this.malloc(size);
    if (moved === 0) return 0;
    this.memory.u8.copyWithin(moved, ptr, ptr + kept);
    this.free(ptr);
    return moved;
  }

  memalign(alignment: number, size: number): Ptr {
    const fallback = this.fallback;
    const ptr = fallback.memalign(alignment, size);
    if (ptr !== 0) this.lastUsableSize = fallback.lastUsableSize;
    return ptr;
  }

  usableSize(ptr: Ptr): number {
    if (!this.inArena(ptr)) return this.fallback.usableSize(ptr);
    return indexToSize(this.memory.u32[((ptr & ~this.poolMask) >> 2) + P_SZIDX]);
  }

  isFreeBlock(ptr: Ptr): boolean {
    if (!this.inArena(ptr)) return this.fallback.isFreeBlock(ptr);
    const u32 = this.memory.u32;
    const pool = ptr & ~this.poolMask;
    const pw = pool >> 2;
    const arena = u32[pw + P_ARENA];
    if (arena >= u32[this.hw + W_MAXARENAS]) return false;
    const a = this.layout.arenaWord + arena * ARENA_WORDS;
    if (pool >= u32[a + A_POOL_ADDRESS] || u32[pw + P_SZIDX] >= NB_SMALL_SIZE_CLASSES) return false;
    const size = indexToSize(u32[pw + P_SZIDX]);
    const offset = ptr - pool - POOL_OVERHEAD;
    if (offset < 0 || offset % size !== 0 || ptr >= pool + u32[pw + P_NEXTOFFSET]) return false;
    if (u32[pw + P_COUNT] === 0) return true;
    let block = u32[pw + P_FREEBLOCK];
    for (let steps = 0; block !== 0 && steps < this.layout.poolSize / ALIGNMENT; steps++) {
      if (block === ptr) return true;
      block = u32[block >> 2];
    }
    return false;
  }

  largestFreePayload(): number {
    const fallback = this.fallback.largestFreePayload();
    return Math.max(fallback, hasSmallRoom(this) ? SMALL_REQUEST_THRESHOLD : 0);
  }

  // ------------------------------------------------------------------ the other layers

  blocks(): IterableIterator<BlockInfo> {
    return blocks(this);
  }

  stats(): EngineStats {
    return stats(this);
  }

  freeSpace(): FreeSpace {
    return freeSpace(this);
  }

  report(): string {
    return debugMallocStats(this);
  }

  check(): void {
    checkPymalloc(this);
  }
}
