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
  DetachedMemoryError,
  DoubleFreeError,
  HeapCorruptionError,
  HeapFormatError,
  type HeapStats,
  InvalidPointerError,
  InvalidSizeError,
  OutOfMemoryError,
  type Strategy,
} from "@heapkit/contract";
import { type EngineStep, fixedRegion, replayReportingUsable } from "@heapkit/contract/testing";
import {
  attachHeap,
  createHeap,
  createSharedHeap,
  FAILED_COUNT_OFFSET,
  type Heap,
  type HeapSnapshot,
} from "@heapkit/heap";
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
        const before = this.before();
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
        const before = this.before();
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
        const before = this.before();
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

  private before(): { snapshot: HeapSnapshot; stats: HeapStats } {
    return { snapshot: this.heap.snapshot(), stats: this.heap.stats() };
  }

  /**
   * A rejected call changed nothing. Out of memory is counted (`failedAllocations`), and before
   * failing the heap gives its front-cache blocks back to the strategy, as glibc consolidates its
   * fast bins: where anything was cached, the program's blocks and figures are compared instead of
   * the bytes.
   */
  private expectRejected(
    error: unknown,
    type: new (...args: never[]) => Error,
    before: { snapshot: HeapSnapshot; stats: HeapStats },
  ): void {
    if (!(error instanceof type)) throw error;
    if (!(error instanceof OutOfMemoryError) || before.stats.cachedBlocks === 0) {
      expectSameHeap(this.heap, before.snapshot);
    } else {
      const stats = this.heap.stats();
      for (const field of [
        "liveBlocks",
        "liveBytes",
        "mallocs",
        "frees",
        "reallocs",
        "peakLiveBytes",
      ] as const) {
        expect(stats[field]).toBe(before.stats[field]);
      }
    }
    if (error instanceof OutOfMemoryError) {
      expect(this.heap.stats().failedAllocations).toBe(before.stats.failedAllocations + 1);
    }
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
    if (stats.freeBytes + stats.liveBytes + stats.cachedBytes + stats.overheadBytes !== stats.heapSize) {
      throw new Error("free + live + cached + overhead bytes do not add up to the heap size");
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

/**
 * Asserts that the heap's whole state — control block, worker slots, pointer map, region — equals a
 * snapshot's, but for its count of failed allocations (which an out-of-memory error raises by one).
 */
export function expectSameHeap(heap: Heap, before: HeapSnapshot): void {
  const after = heap.snapshot();
  expect(after.brk).toBe(before.brk);
  const failed = heap.base + FAILED_COUNT_OFFSET;
  const head = Buffer.from(after.head);
  head.set(before.head.subarray(failed, failed + 4), failed);
  expect(head.equals(Buffer.from(before.head))).toBe(true);
  expect(Buffer.from(after.region).equals(Buffer.from(before.region))).toBe(true);
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
  const heapOf = (align: Alignment = 8, maxSize = 1 << 20, size = 4096, cache?: boolean): Heap =>
    createHeap({ strategy: make(), size, maxSize, align, cache });

  describe(`strategy ${name}`, () => {
    for (const [align, cache] of [
      [8, true],
      [8, false],
      [16, true],
    ] as const) {
      it(`keeps payloads intact, aligned and disjoint over random operations (align ${align}, front cache ${cache ? "on" : "off"})`, () => {
        fc.assert(
          fc.property(fc.array(operationArbitrary, { maxLength: 120 }), (steps) => {
            const model = new HeapModel(heapOf(align, 1 << 20, 4096, cache));
            for (const step of steps) {
              model.apply(step);
              model.verify();
            }
          }),
          { numRuns: runs },
        );
      });
    }

    it("reports each block's usable bytes on the way: lastUsableSize after an allocation, free's result", () => {
      // the heap counts live bytes by these instead of asking usableSize again: a wrong one would skew
      // every figure, so each is compared with usableSize itself (the engine alone, no heap around it)
      fc.assert(
        fc.property(
          fc.array(operationArbitrary, { maxLength: 150 }),
          fc.constantFrom<Alignment>(8, 16),
          (operations, align) => {
            const steps = operations.map((o): EngineStep => {
              if (o.op === "free") return { kind: "free", index: o.pick };
              if (o.op === "realloc") return { kind: "realloc", index: o.pick, size: o.size };
              if (o.op === "memalign" && o.alignment > align)
                return { kind: "memalign", alignment: o.alignment, size: o.size };
              return { kind: "malloc", size: o.op === "calloc" ? o.count * o.size : o.size };
            });
            replayReportingUsable(make().create(fixedRegion(new ArrayBuffer(1 << 20), align)), align, steps);
          },
        ),
        { numRuns: runs },
      );
    });

    it("keeps payloads intact over random operations on a shared heap (the thread-safe paths, one thread)", () => {
      fc.assert(
        fc.property(fc.array(operationArbitrary, { maxLength: 120 }), (steps) => {
          const model = new HeapModel(createSharedHeap({ strategy: make(), size: 4096, maxSize: 1 << 20 }));
          for (const step of steps) {
            model.apply(step);
            model.verify();
          }
        }),
        { numRuns: Math.ceil(runs / 2) },
      );
    });

    it("keeps its whole state in its memory: a second heap object attached to it is the same heap", () => {
      // every step goes through one of two heap objects over one buffer, picked at random: any state
      // kept outside the buffer (in an engine's JS fields, say) makes the two disagree
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.boolean(), operationArbitrary), { maxLength: 120 }), (steps) => {
          const first = heapOf(8, 1 << 20, 4096, true);
          const second = attachHeap(first.memory.buffer as ArrayBuffer, { strategy: make() });
          const models = [new HeapModel(first), new HeapModel(second)];
          const live = models[0].live;
          (models[1] as { live: unknown[] }).live = live; // one set of live blocks, seen through either object
          for (const [useSecond, step] of steps) {
            const model = models[useSecond ? 1 : 0];
            model.apply(step);
            model.verify();
          }
        }),
        { numRuns: Math.ceil(runs / 2) },
      );
    });

    it("attaches to a copy of its memory in a new buffer: the same heap, the same answers", async () => {
      const heap = heapOf();
      const ptrs = [100, 2000, 30, 400, 77, 5000, 16].map((size) => heap.malloc(size));
      heap.free(ptrs[1]);
      heap.free(ptrs[4]);
      // a heap over unshared memory writes its figures back at the end of the task: copy after it
      await Promise.resolve();
      const copy = new ArrayBuffer(heap.memory.byteLength, { maxByteLength: heap.memory.maxByteLength });
      new Uint8Array(copy).set(heap.memory.u8);
      const twin = attachHeap(copy, { strategy: make() });
      expect(twin.stats()).toEqual(heap.stats());
      twin.check();
      const here = [heap.malloc(300), heap.malloc(1500), heap.malloc(20)];
      const there = [twin.malloc(300), twin.malloc(1500), twin.malloc(20)];
      expect(there).toEqual(here);
      expect(twin.stats().liveBytes).toBe(heap.stats().liveBytes);
    });

    it("follows its memory when someone else grows it: its owner, or another heap on the same buffer", () => {
      const buffer = new ArrayBuffer(1 << 16, { maxByteLength: 1 << 24 });
      const low = createHeap({ strategy: make(), memory: buffer, maxSize: 1 << 23 });
      const high = createHeap({ strategy: make(), memory: buffer, base: 1 << 23 });
      const model = new HeapModel(low);
      const other = new HeapModel(high);
      for (let i = 0; i < 60; i++) {
        other.apply({ op: "malloc", size: 3000 + i * 500 }); // grows the buffer under `low`
        model.apply({ op: "malloc", size: 100 + i * 40 });
        if (i % 3 === 0) model.apply({ op: "free", pick: i });
        if (i % 7 === 0) buffer.resize(Math.min(buffer.maxByteLength, buffer.byteLength + 65536)); // its owner
        model.verify();
      }
      other.verify();
      for (const block of model.live) expect(Number.isInteger(low.usableSize(block.ptr))).toBe(true);
    });

    it("throws DetachedMemoryError from every call once its buffer is transferred away", () => {
      const buffer = new ArrayBuffer(1 << 16, { maxByteLength: 1 << 22 });
      const heap = createHeap({ strategy: make(), memory: buffer });
      const ptr = heap.malloc(100);
      const other = heap.malloc(200);
      heap.free(other);
      structuredClone(buffer, { transfer: [buffer] });
      const calls: [string, () => unknown][] = [
        ["malloc", () => heap.malloc(10)],
        ["tryMalloc", () => heap.tryMalloc(10)],
        ["calloc", () => heap.calloc(2, 10)],
        ["memalign", () => heap.memalign(64, 10)],
        ["realloc", () => heap.realloc(ptr, 400)],
        ["free", () => heap.free(ptr)],
        ["usableSize", () => heap.usableSize(ptr)],
        ["isLive", () => heap.isLive(ptr)],
        ["u8", () => heap.u8(ptr, 10)],
        ["stats", () => heap.stats()],
        ["usage", () => heap.usage()],
        ["check", () => heap.check()],
        ["blocks", () => [...heap.blocks()]],
        ["snapshot", () => heap.snapshot()],
      ];
      for (const [name, call] of calls) {
        expect(call, name).toThrow(DetachedMemoryError);
      }
    });

    it("refuses to format memory that holds a live heap, and to attach to memory that holds none", () => {
      const memory = new ArrayBuffer(1 << 16);
      const heap = createHeap({ strategy: make(), memory });
      heap.malloc(100);
      const before = new Uint8Array(memory).slice();
      expect(() => createHeap({ strategy: make(), memory })).toThrow(HeapFormatError);
      expect(Buffer.from(new Uint8Array(memory)).equals(Buffer.from(before))).toBe(true);
      const blank = new ArrayBuffer(1 << 16);
      expect(() => attachHeap(blank, { strategy: make() })).toThrow(HeapFormatError);
      expect(new Uint8Array(blank).every((byte) => byte === 0)).toBe(true);
      createHeap({ strategy: make(), memory, format: true }).check();
    });

    it("survives random operations on a small heap that runs out of memory", () => {
      fc.assert(
        fc.property(fc.array(operationArbitrary, { maxLength: 150 }), (steps) => {
          const model = new HeapModel(heapOf(8, 48 * 1024, 1024));
          for (const step of steps) {
            model.apply(step);
            model.verify();
          }
        }),
        { numRuns: runs },
      );
    });

    it("survives random operations on a small heap with a front cache, which gives its blocks back before failing", () => {
      fc.assert(
        fc.property(fc.array(operationArbitrary, { maxLength: 150 }), (steps) => {
          const model = new HeapModel(heapOf(8, 48 * 1024, 1024, true));
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
            const model = new HeapModel(createHeap({ strategy: make(), memory, format: true }));
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
