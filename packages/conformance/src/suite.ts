/**
 * The conformance suite: what every strategy must do, written once. A strategy joins by one call,
 * `describeStrategy(name, make)` — the suite's own test file calls it for every entry of the
 * `@heapkit/strategies` registry, so a new strategy joins by its line there.
 *
 * - properties (fast-check): random malloc/calloc/realloc/memalign/free sequences; after every step
 *   every live payload still holds the bytes written into it, no two payloads overlap, every payload
 *   is aligned, `check()` passes, `stats()` agrees with a model and `usage()` with `stats()`;
 * - bad input: each bad call throws its typed error and leaves the heap byte-for-byte as it was;
 * - out of memory, growth, WebAssembly.Memory backing, snapshot/restore, corruption detection, and a
 *   fresh heap over memory an earlier heap left full of stale blocks.
 *
 * @module
 */
import {
  type Alignment,
  DoubleFreeError,
  HeapCorruptionError,
  InvalidPointerError,
  InvalidSizeError,
  OutOfMemoryError,
  type Strategy,
} from "@heapkit/contract";
import { createHeap, type Heap, type HeapSnapshot } from "@heapkit/heap";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

/** One step of a random operation sequence. */
export type Operation =
  | { readonly op: "malloc"; readonly size: number }
  | { readonly op: "calloc"; readonly count: number; readonly size: number }
  | { readonly op: "memalign"; readonly alignment: number; readonly size: number }
  | { readonly op: "realloc"; readonly pick: number; readonly size: number }
  | { readonly op: "free"; readonly pick: number };

/** Sizes skewed to small, as real programs ask, with some large ones. */
const sizeArbitrary = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 64 }) },
  { weight: 3, arbitrary: fc.integer({ min: 65, max: 600 }) },
  { weight: 1, arbitrary: fc.integer({ min: 601, max: 20_000 }) },
);

/** Arbitrary operations. */
export const operationArbitrary: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant("malloc" as const), size: sizeArbitrary }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("calloc" as const),
      count: fc.integer({ min: 0, max: 16 }),
      size: fc.integer({ min: 0, max: 64 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("memalign" as const),
      alignment: fc.constantFrom(8, 16, 32, 64, 256, 4096),
      size: fc.integer({ min: 0, max: 2000 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant("realloc" as const), pick: fc.nat(), size: sizeArbitrary }),
  },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("free" as const), pick: fc.nat() }) },
);

interface LiveBlock {
  ptr: number;
  size: number;
  tag: number;
}

/** The byte a block tagged `tag` holds at index `i` of its payload. */
function patternByte(tag: number, i: number): number {
  return (tag * 31 + i * 7 + 1) & 255;
}

function fill(heap: Heap, block: LiveBlock): void {
  const u8 = heap.memory.u8;
  for (let i = 0; i < block.size; i++) u8[block.ptr + i] = patternByte(block.tag, i);
}

/** A model of the heap: the live blocks, what they hold, and what stats() must say. */
export class HeapModel {
  readonly live: LiveBlock[] = [];
  private nextTag = 1;

  constructor(readonly heap: Heap) {}

  /** Applies one operation to the heap and the model. */
  apply(step: Operation): void {
    const heap = this.heap;
    switch (step.op) {
      case "malloc":
        this.add(heap.tryMalloc(step.size), step.size);
        break;
      case "calloc": {
        const before = heap.snapshot();
        try {
          const ptr = heap.calloc(step.count, step.size);
          const zeroes = heap.memory.u8.subarray(ptr, ptr + step.count * step.size);
          expect(zeroes.every((byte) => byte === 0)).toBe(true);
          this.add(ptr, step.count * step.size);
        } catch (error) {
          this.expectRejected(error, OutOfMemoryError, before);
        }
        break;
      }
      case "memalign": {
        const before = heap.snapshot();
        try {
          const ptr = heap.memalign(step.alignment, step.size);
          expect(ptr % step.alignment).toBe(0);
          this.add(ptr, step.size);
        } catch (error) {
          this.expectRejected(error, OutOfMemoryError, before);
        }
        break;
      }
      case "realloc": {
        if (this.live.length === 0) return;
        const index = step.pick % this.live.length;
        const block = this.live[index];
        const before = heap.snapshot();
        try {
          const moved = heap.realloc(block.ptr, step.size);
          if (step.size === 0) {
            expect(moved).toBe(0);
            this.live.splice(index, 1);
            return;
          }
          const kept = Math.min(block.size, step.size);
          const u8 = heap.memory.u8;
          for (let i = 0; i < kept; i++) {
            if (u8[moved + i] !== patternByte(block.tag, i)) {
              throw new Error(
                `realloc(${block.ptr}, ${step.size}) -> ${moved} lost byte ${i} of the payload`,
              );
            }
          }
          block.ptr = moved;
          block.size = step.size;
          block.tag = this.nextTag++;
          fill(heap, block);
        } catch (error) {
          this.expectRejected(error, OutOfMemoryError, before);
        }
        break;
      }
      case "free": {
        if (this.live.length === 0) return;
        const index = step.pick % this.live.length;
        heap.free(this.live[index].ptr);
        this.live.splice(index, 1);
        break;
      }
    }
  }

  private add(ptr: number, size: number): void {
    if (ptr === 0) return;
    const block = { ptr, size, tag: this.nextTag++ };
    this.live.push(block);
    fill(this.heap, block);
  }

  private expectRejected(error: unknown, type: new (...args: never[]) => Error, before: HeapSnapshot): void {
    if (!(error instanceof type)) throw error;
    expectSameHeap(this.heap, before);
  }

  /** Every invariant, after every step. */
  verify(): void {
    const heap = this.heap;
    const u8 = heap.memory.u8;
    const sorted = [...this.live].sort((a, b) => a.ptr - b.ptr);
    let liveBytes = 0;
    let end = 0;
    for (const block of sorted) {
      if (block.ptr % heap.align !== 0)
        throw new Error(`payload ${block.ptr} is not aligned to ${heap.align}`);
      const usable = heap.usableSize(block.ptr);
      if (usable < block.size) throw new Error(`usableSize(${block.ptr}) = ${usable} < ${block.size} asked`);
      if (block.ptr < end)
        throw new Error(`payload ${block.ptr} overlaps the previous block, which ends at ${end}`);
      end = block.ptr + usable;
      liveBytes += usable;
      for (let i = 0; i < block.size; i++) {
        if (u8[block.ptr + i] !== patternByte(block.tag, i)) {
          throw new Error(`payload of block ${block.ptr} (${block.size} bytes) changed at byte ${i}`);
        }
      }
    }
    heap.check();
    const stats = heap.stats();
    if (stats.liveBlocks !== this.live.length)
      throw new Error(`stats say ${stats.liveBlocks} live blocks, model ${this.live.length}`);
    if (stats.liveBytes !== liveBytes)
      throw new Error(`stats say ${stats.liveBytes} live bytes, model ${liveBytes}`);
    if (stats.heapSize > stats.heapLimit) throw new Error("heap grew past its limit");
    if (stats.freeBytes + stats.liveBytes + stats.overheadBytes !== stats.heapSize) {
      throw new Error("free + live + overhead bytes do not add up to the heap size");
    }
    const usage = heap.usage();
    for (const field of [
      "heapSize",
      "liveBlocks",
      "liveBytes",
      "freeBytes",
      "largestFreeBlock",
      "overheadBytes",
      "externalFragmentation",
    ] as const) {
      if (usage[field] !== stats[field])
        throw new Error(`usage().${field} is ${usage[field]}, stats().${field} ${stats[field]}`);
    }
  }
}

/** Asserts that the heap's bytes, pointer map and counters equal a snapshot's. */
export function expectSameHeap(heap: Heap, before: HeapSnapshot): void {
  const after = heap.snapshot();
  expect(after.brk).toBe(before.brk);
  expect(Buffer.from(after.bytes).equals(Buffer.from(before.bytes))).toBe(true);
  expect(after.pointerMap).toEqual(before.pointerMap);
}

/** Options that shape the suite for a strategy. */
export interface SuiteOptions {
  /** fast-check runs per property (default 100, or the HEAPKIT_PROPERTY_RUNS environment variable). */
  runs?: number;
}

/** Registers the whole conformance suite for one strategy. */
export function describeStrategy(
  name: string,
  make: () => Strategy<unknown>,
  options: SuiteOptions = {},
): void {
  const runs = options.runs ?? (Number(process.env.HEAPKIT_PROPERTY_RUNS) || 100);
  const heapOf = (align: Alignment = 8, maxSize = 1 << 20, size = 4096): Heap =>
    createHeap({ strategy: make(), size, maxSize, align });

  describe(`strategy ${name}`, () => {
    for (const align of [8, 16] as const) {
      it(`keeps payloads intact, aligned and disjoint over random operations (align ${align})`, () => {
        fc.assert(
          fc.property(fc.array(operationArbitrary, { maxLength: 120 }), (steps) => {
            const model = new HeapModel(heapOf(align));
            for (const step of steps) {
              model.apply(step);
              model.verify();
            }
          }),
          { numRuns: runs },
        );
      });
    }

    it("survives random operations on a small heap that runs out of memory", () => {
      fc.assert(
        fc.property(fc.array(operationArbitrary, { maxLength: 150 }), (steps) => {
          const model = new HeapModel(heapOf(8, 48 * 1024, 1024));
          for (const step of steps) {
            model.apply(step);
            model.verify();
          }
        }),
        { numRuns: Math.ceil(runs / 2) },
      );
    });

    it("works over memory that an earlier heap left full of its own stale blocks", () => {
      // a fresh heap over reused memory must not take old headers above its break for its own
      fc.assert(
        fc.property(
          fc.array(operationArbitrary, { maxLength: 120 }),
          fc.array(operationArbitrary, { maxLength: 120 }),
          (before, after) => {
            const memory = new ArrayBuffer(4096, { maxByteLength: 1 << 20 });
            const earlier = createHeap({ strategy: make(), memory });
            const first = new HeapModel(earlier);
            for (const step of before) first.apply(step);
            for (const block of first.live) earlier.free(block.ptr); // leaves stale free headers
            const model = new HeapModel(createHeap({ strategy: make(), memory }));
            for (const step of after) {
              model.apply(step);
              model.verify();
            }
          },
        ),
        { numRuns: Math.ceil(runs / 2) },
      );
    });

    it("rejects bad pointers and sizes with typed errors, leaving the heap byte-for-byte unchanged", () => {
      const heap = heapOf();
      const a = heap.malloc(40);
      const b = heap.malloc(100);
      const c = heap.malloc(24);
      heap.free(b);
      const before = heap.snapshot();
      const rejects = (call: () => unknown, type: new (...args: never[]) => Error): void => {
        expect(call).toThrow(type);
        expectSameHeap(heap, before);
      };
      rejects(() => heap.free(a + 8), InvalidPointerError);
      rejects(() => heap.free(a + 1), InvalidPointerError);
      rejects(() => heap.free(heap.brk + 64), InvalidPointerError);
      rejects(() => heap.free(-8), InvalidPointerError);
      rejects(() => heap.free(1.5), InvalidPointerError);
      rejects(() => heap.free(Number.NaN), InvalidPointerError);
      rejects(() => heap.free(b), DoubleFreeError);
      rejects(() => heap.realloc(b, 10), DoubleFreeError);
      rejects(() => heap.realloc(c + 4, 10), InvalidPointerError);
      rejects(() => heap.usableSize(c + 8), InvalidPointerError);
      for (const size of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, heap.maxRequest + 1, 2 ** 40]) {
        rejects(() => heap.malloc(size), InvalidSizeError);
        rejects(() => heap.tryMalloc(size), InvalidSizeError);
        rejects(() => heap.realloc(a, size), InvalidSizeError);
        rejects(() => heap.calloc(size, 1), InvalidSizeError);
      }
      rejects(() => heap.malloc("12" as unknown as number), InvalidSizeError);
      rejects(() => heap.calloc(1 << 16, 1 << 16), InvalidSizeError);
      rejects(() => heap.memalign(24, 10), InvalidSizeError);
      rejects(() => heap.realloc(a, -5), InvalidSizeError);
      heap.free(0);
      expectSameHeap(heap, before);
      heap.check();
    });

    it("throws OutOfMemoryError with the figures, and tryMalloc returns 0, changing nothing", () => {
      const heap = heapOf(8, 64 * 1024, 4096);
      const held = [heap.malloc(1000), heap.malloc(3000), heap.malloc(500)];
      heap.free(held[1]);
      const before = heap.snapshot();
      let error: unknown;
      try {
        heap.malloc(60 * 1024);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(OutOfMemoryError);
      const oom = error as OutOfMemoryError;
      expect(oom.code).toBe("HEAP_OUT_OF_MEMORY");
      expect(oom.requested).toBe(60 * 1024);
      expect(oom.freeBytes).toBeGreaterThan(0);
      expect(oom.largestFreeBlock).toBeGreaterThanOrEqual(0);
      expect(oom.message).toMatch(/Out of memory/);
      expectSameHeap(heap, before);
      expect(heap.tryMalloc(60 * 1024)).toBe(0);
      expectSameHeap(heap, before);
      expect(() => heap.realloc(held[0], 60 * 1024)).toThrow(OutOfMemoryError);
      expectSameHeap(heap, before);
      heap.check();
    });

    it("grows from 4 KiB to tens of MiB, and views made before growth still read the right bytes", () => {
      const heap = createHeap({ strategy: make(), size: 4096, maxSize: 64 * 1024 * 1024 });
      const first = heap.malloc(64);
      const early = heap.f64(first, 8);
      early.set([1, 2, 3, 4, 5, 6, 7, 8]);
      const blocks: number[] = [];
      for (let i = 0; i < 3000; i++) {
        const ptr = heap.malloc(8000 + (i % 7) * 16);
        heap.u32(ptr, 1)[0] = i;
        blocks.push(ptr);
      }
      expect(heap.stats().heapSize).toBeGreaterThan(20 * 1024 * 1024);
      expect(Array.from(early)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(Array.from(heap.f64(first, 8))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      blocks.forEach((ptr, i) => {
        expect(heap.memory.u32[ptr >> 2]).toBe(i);
      });
      heap.check();
    });

    it("works over a WebAssembly.Memory, leaving the bytes below its base alone", () => {
      const wasm = new WebAssembly.Memory({ initial: 1, maximum: 256 });
      new Uint8Array(wasm.buffer).fill(0xab, 0, 1024);
      const heap = createHeap({ strategy: make(), memory: wasm, base: 1024 });
      const blocks: number[] = [];
      for (let i = 0; i < 200; i++) {
        const ptr = heap.malloc(1000);
        heap.u8(ptr, 1000).fill(i & 255);
        blocks.push(ptr);
      }
      expect(wasm.buffer.byteLength).toBeGreaterThan(65536);
      expect(heap.memory.buffer).toBe(wasm.buffer);
      blocks.forEach((ptr, i) => {
        expect(heap.u8(ptr, 1000).every((byte) => byte === (i & 255))).toBe(true);
      });
      expect(new Uint8Array(wasm.buffer, 0, 1024).every((byte) => byte === 0xab)).toBe(true);
      for (const ptr of blocks) expect(ptr).toBeGreaterThan(1024);
      heap.check();
    });

    it("follows a WebAssembly.Memory that wasm code grew behind its back", () => {
      const wasm = new WebAssembly.Memory({ initial: 1, maximum: 64 });
      const heap = createHeap({ strategy: make(), memory: wasm });
      const ptr = heap.malloc(100);
      heap.u8(ptr, 100).fill(7);
      wasm.grow(2);
      const next = heap.malloc(100);
      expect(heap.u8(ptr, 100).every((byte) => byte === 7)).toBe(true);
      heap.free(next);
      heap.check();
    });

    it("restores a snapshot: same bytes, and the same answers afterwards", () => {
      const heap = heapOf();
      const ptrs = [100, 2000, 30, 400, 77].map((size) => heap.malloc(size));
      heap.free(ptrs[1]);
      heap.free(ptrs[3]);
      const snapshot = heap.snapshot();
      const first = [heap.malloc(300), heap.malloc(1500), heap.malloc(20)];
      heap.free(ptrs[0]);
      heap.restore(snapshot);
      expectSameHeap(heap, snapshot);
      heap.check();
      const again = [heap.malloc(300), heap.malloc(1500), heap.malloc(20)];
      expect(again).toEqual(first);
      heap.check();
    });

    it("reports a damaged heap as HeapCorruptionError naming the place", () => {
      const heap = heapOf();
      const ptrs = [heap.malloc(64), heap.malloc(64), heap.malloc(64)];
      heap.free(ptrs[1]);
      heap.check();
      const metadata = heap.blocks().next().value;
      expect(metadata?.state).toBe("meta");
      const u32 = heap.memory.u32;
      const word = (metadata?.offset ?? 0) >> 2;
      const saved = u32[word];
      u32[word] = saved ^ 0x5a5a5a5a;
      expect(() => heap.check()).toThrow(HeapCorruptionError);
      u32[word] = saved;
      heap.check();
    });
  });
}
