import { readFileSync } from "node:fs";
import { HeapCorruptionError } from "@heapkit/contract";
import { createHeap, type Heap } from "@heapkit/heap";
import { tlsf } from "@heapkit/strategy-tlsf";
import { describe, expect, it } from "vitest";
import { indexToSize, POOL_OVERHEAD, pymalloc, sizeToIndex } from "../src/index.js";

const bigHeap = (): Heap =>
  createHeap({ cache: false, strategy: pymalloc({ fallback: tlsf() }), size: 1 << 20, maxSize: 64 << 20 });
/** Arenas of 64 KiB = 16 pools of 4 KiB: small enough to watch arena ordering. */
const smallArenas = (): Heap =>
  createHeap({
    cache: false,
    strategy: pymalloc({ fallback: tlsf(), arenaSize: 64 * 1024, poolSize: 4096 }),
    size: 1 << 20,
    maxSize: 64 << 20,
  });
const detail = (heap: Heap, key: string) => heap.stats().details[key];

describe("pymalloc size classes", () => {
  it("has 32 classes 16 bytes apart up to 512", () => {
    expect(sizeToIndex(1)).toBe(0);
    expect(sizeToIndex(16)).toBe(0);
    expect(sizeToIndex(17)).toBe(1);
    expect(sizeToIndex(512)).toBe(31);
    expect(indexToSize(31)).toBe(512);
  });

  it("serves 1..512 bytes from pools and everything else from the fallback", () => {
    const heap = bigHeap();
    expect(heap.usableSize(heap.malloc(1))).toBe(16);
    expect(heap.usableSize(heap.malloc(100))).toBe(112);
    expect(heap.usableSize(heap.malloc(512))).toBe(512);
    expect(detail(heap, "rawBlocks")).toBe(0);
    heap.malloc(513);
    heap.malloc(0); // CPython sends 0 bytes to the raw allocator too
    expect(detail(heap, "rawBlocks")).toBe(2);
    expect(detail(heap, "arenasCurrent")).toBe(1);
    heap.check();
  });

  it("fits (16384 − 48) / size blocks in a pool, as NUMBLOCKS does", () => {
    const heap = bigHeap();
    const ptrs = Array.from({ length: 1021 }, () => heap.malloc(16));
    const pool = ptrs[0] - POOL_OVERHEAD;
    expect(pool % 16384).toBe(0);
    expect(ptrs.every((p) => p >= pool && p < pool + 16384)).toBe(true);
    expect(detail(heap, "usedPools")).toBe(1);
    const next = heap.malloc(16); // the pool is full: a second pool
    expect(next - POOL_OVERHEAD).not.toBe(pool);
    expect(detail(heap, "usedPools")).toBe(2);
    expect(heap.report()).toMatch(/^ {4}0 {5}16 {11}2 {12}1022 {10}1020$/m);
    heap.check();
  });
});

describe("pymalloc pools and arenas, in obmalloc's order", () => {
  it("hands out blocks from the head pool's free list, last freed first", () => {
    const heap = bigHeap();
    const [a, b, c] = [heap.malloc(40), heap.malloc(40), heap.malloc(40)];
    expect(b - a).toBe(48);
    heap.free(a);
    heap.free(c);
    expect(heap.malloc(40)).toBe(c);
    expect(heap.malloc(40)).toBe(a);
  });

  it("puts a full pool that gets a block back at the front of usedpools", () => {
    const heap = bigHeap();
    const first = Array.from({ length: 1021 }, () => heap.malloc(16)); // pool A, now full
    const second = heap.malloc(16); // pool B heads usedpools[0]
    heap.free(first[500]); // A was full: it goes in front of B
    expect(heap.malloc(16)).toBe(first[500]);
    expect(heap.malloc(16)).toBe(second + 16); // A is full again: B is the head again
    heap.check();
  });

  it("takes new pools from the usable arena with the fewest free pools", () => {
    const heap = smallArenas();
    // class 31 (512 B): 7 blocks per 4 KiB pool; 16 pools per arena
    const perPool = Math.floor((4096 - POOL_OVERHEAD) / 512);
    const pools: number[][] = [];
    for (let i = 0; i < 32; i++) pools.push(Array.from({ length: perPool }, () => heap.malloc(512)));
    expect(detail(heap, "arenasCurrent")).toBe(2);
    const arenaOf = (p: number) => Math.floor((p - POOL_OVERHEAD) / 65536);
    const [arena1, arena2] = [arenaOf(pools[0][0]), arenaOf(pools[16][0])];
    expect(arena1).not.toBe(arena2);
    // arena 1 gets 3 free pools, arena 2 one: usable_arenas = [arena 2 (1), arena 1 (3)]
    for (const i of [0, 1, 2, 16]) for (const p of pools[i]) heap.free(p);
    heap.check();
    expect(arenaOf(heap.malloc(512))).toBe(arena2); // the most used arena first
    expect(arenaOf(heap.malloc(16))).toBe(arena1); // arena 2 is now full
    heap.check();
  });

  it("gives an arena back when all its pools are free, unless it is the last usable arena", () => {
    const heap = smallArenas();
    const perPool = Math.floor((4096 - POOL_OVERHEAD) / 512);
    const blocks = Array.from({ length: 17 * perPool }, () => heap.malloc(512)); // arena 1 full, arena 2: 1 pool
    expect(detail(heap, "arenasCurrent")).toBe(2);
    // arena 1's pools free up: it enters usable_arenas at the head (case 2) and stays before
    // arena 2, which has 15 free pools; when its last pool frees, an arena follows it: case 1
    for (const p of blocks.slice(0, 16 * perPool)) heap.free(p);
    heap.check();
    expect(detail(heap, "arenasCurrent")).toBe(1);
    expect(detail(heap, "arenasReclaimed")).toBe(1);
    for (const p of blocks.slice(16 * perPool)) heap.free(p); // arena 2 is the last: kept (bpo-37257)
    expect(detail(heap, "arenasCurrent")).toBe(1);
    expect(detail(heap, "arenasHighwater")).toBe(2);
    heap.check();
  });

  it("reuses an empty pool's free list when the pool returns to the same class", () => {
    const heap = smallArenas();
    const a = heap.malloc(100);
    const b = heap.malloc(100);
    heap.free(a);
    heap.free(b); // the pool is empty: onto its arena's freepools, free list b -> a
    expect(heap.malloc(100)).toBe(b);
    heap.check();
  });

  it("keeps a shrinking realloc in place unless it saves at least 25%", () => {
    const heap = bigHeap();
    const p = heap.malloc(100); // class of 112
    expect(heap.realloc(p, 90)).toBe(p); // 4·90 > 3·112
    const moved = heap.realloc(p, 80); // 4·80 ≤ 3·112: copied to the 80-byte class
    expect(moved).not.toBe(p);
    expect(heap.usableSize(moved)).toBe(80);
    heap.check();
  });
});

describe("pymalloc report and check", () => {
  it("reads like sys._debugmallocstats()", () => {
    const heap = bigHeap();
    for (let i = 0; i < 1500; i++) heap.malloc(1 + ((i * 37) % 512));
    const report = heap.report() ?? "";
    const oracle = readFileSync(new URL("./fixtures/debugmallocstats.txt", import.meta.url), "utf8")
      .split("\n")
      .slice(0, 4);
    expect(report.split("\n").slice(0, 4)).toEqual(oracle);
    expect(report).toMatch(/^# arenas allocated total {11}= {20}1$/m);
    expect(report).toMatch(/^1 arenas \* 1048576 bytes\/arena {5}= {12}1,048,576$/m);
    // the byte breakdown adds up to the arenas, as CPython's does
    const total = /^Total {30}= +([\d,]+)$/m.exec(report)?.[1];
    expect(total).toBe("1,048,576");
  });

  it("reports a pool whose ref.count disagrees with its free list, naming the pool", () => {
    const heap = bigHeap();
    const p = heap.malloc(64);
    heap.malloc(64);
    heap.check();
    const pool = p - POOL_OVERHEAD;
    heap.memory.u32[pool >> 2] += 1; // ref.count
    let error: unknown;
    try {
      heap.check();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(HeapCorruptionError);
    expect((error as HeapCorruptionError).offset).toBe(pool);
    expect((error as HeapCorruptionError).invariant).toMatch(/ref\.count/);
  });

  it("reports an arena count that disagrees with the arena table", () => {
    const heap = bigHeap();
    heap.malloc(10);
    heap.memory.u32[(heap.regionBase >> 2) + 6] += 1; // narenas_currently_allocated
    expect(() => heap.check()).toThrow(/narenas_currently_allocated/);
  });

  it("requires a fallback and sane sizes", () => {
    expect(() => pymalloc({} as never)).toThrow(RangeError);
    expect(() => pymalloc({ fallback: tlsf(), poolSize: 1000 })).toThrow(RangeError);
    expect(() => pymalloc({ fallback: tlsf(), arenaSize: 4096, poolSize: 16384 })).toThrow(RangeError);
    // one pool per arena would be full and all-free at once: obmalloc's free path needs two
    expect(() => pymalloc({ fallback: tlsf(), arenaSize: 4096, poolSize: 4096 })).toThrow(/2 to 4096 pools/);
  });
});
