// The arithmetic claims of pymalloc's layout, asserted as tlsf_static_assert does: each test fails
// if one constant changes without the others.
import { tlsf } from "@heapkit/strategy-tlsf";
import { describe, expect, it } from "vitest";
import { pymalloc } from "../src/index.js";
import {
  A_PREV,
  ALIGNMENT,
  ALIGNMENT_SHIFT,
  ARENA_WORDS,
  DUMMY_SIZE_IDX,
  indexToSize,
  MAX_POOLS_PER_ARENA,
  MIN_POOL_SIZE,
  NB_SMALL_SIZE_CLASSES,
  POOL_HEADER_WORDS,
  POOL_OVERHEAD,
  PymallocLayout,
  SMALL_REQUEST_THRESHOLD,
  sizeToIndex,
  W_LAST,
  W_NFP2LASTA,
  W_USEDPOOLS,
} from "../src/layout.js";

describe("pymalloc's size classes", () => {
  it("are ALIGNMENT apart and end at the small-request threshold", () => {
    expect(1 << ALIGNMENT_SHIFT).toBe(ALIGNMENT);
    expect(NB_SMALL_SIZE_CLASSES * ALIGNMENT).toBe(SMALL_REQUEST_THRESHOLD);
    expect(indexToSize(NB_SMALL_SIZE_CLASSES - 1)).toBe(SMALL_REQUEST_THRESHOLD);
    expect(sizeToIndex(SMALL_REQUEST_THRESHOLD)).toBe(NB_SMALL_SIZE_CLASSES - 1);
    expect(DUMMY_SIZE_IDX).toBeGreaterThanOrEqual(NB_SMALL_SIZE_CLASSES);
  });
});

describe("the pool header", () => {
  it("fits in POOL_OVERHEAD, which keeps every block ALIGNMENT-aligned", () => {
    expect(POOL_HEADER_WORDS * 4).toBeLessThanOrEqual(POOL_OVERHEAD);
    expect(POOL_OVERHEAD % ALIGNMENT).toBe(0);
    expect(POOL_OVERHEAD - POOL_HEADER_WORDS * 4).toBeLessThan(ALIGNMENT); // no more than the rounding
  });

  it("leaves room for two blocks of the largest class in the smallest pool", () => {
    // allocate_from_new_pool takes one block of a pool that returns to its class and reads the
    // next free block without a NULL check: an empty pool holds at least two carved blocks
    expect(Math.floor((MIN_POOL_SIZE - POOL_OVERHEAD) / SMALL_REQUEST_THRESHOLD)).toBeGreaterThanOrEqual(2);
  });
});

describe("the region header", () => {
  it("has its counters before usedpools, and nfp2lasta right after usedpools", () => {
    expect(W_LAST).toBeLessThan(W_USEDPOOLS);
    expect(W_NFP2LASTA).toBe(W_USEDPOOLS + NB_SMALL_SIZE_CLASSES);
  });

  it("has arena objects that hold every arena word", () => {
    expect(A_PREV).toBeLessThan(ARENA_WORDS);
  });

  it("lays out its tables one after the other, the fallback after the last, for every shape allowed", () => {
    for (const poolBits of [12, 14, 16]) {
      for (const pools of [2, 64, MAX_POOLS_PER_ARENA]) {
        const poolSize = 1 << poolBits;
        const arenaSize = poolSize * pools;
        pymalloc({ fallback: tlsf(), poolSize, arenaSize }); // the options are allowed
        const region = { base: 16, limit: 256 << 20, align: 8 } as const;
        const layout = new PymallocLayout(region as never, { poolSize, arenaSize });
        expect(layout.arenaWord).toBe(layout.lastaWord + pools + 1);
        expect(layout.mapWord).toBe(layout.arenaWord + layout.capacity * ARENA_WORDS);
        expect(layout.subBase).toBeGreaterThanOrEqual((layout.mapWord + layout.chunks * 2) * 4);
        expect(layout.chunks * arenaSize).toBeGreaterThan(region.limit); // the map covers every address
        expect(layout.shapeWord() >>> 16).toBe(poolBits);
      }
    }
  });
});
