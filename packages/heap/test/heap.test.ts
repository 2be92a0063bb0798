import {
  DoubleFreeError,
  type HeapEventKind,
  InvalidPointerError,
  InvalidSizeError,
  OutOfMemoryError,
  UnsupportedPlatformError,
} from "@heapkit/contract";
import { bestFit } from "@heapkit/strategy-best-fit";
import { firstFit } from "@heapkit/strategy-first-fit";
import { describe, expect, it } from "vitest";
import { createHeap, RESERVE_MIN_BYTES } from "../src/index.js";

describe("createHeap", () => {
  it("runs the README example", () => {
    const heap = createHeap({ strategy: bestFit(), size: 64 * 1024, maxSize: 16 << 20 });
    const ptr = heap.malloc(3 * 8);
    heap.f64(ptr, 3).set([1.5, 2.5, 3.5]);
    expect(Array.from(new Float64Array(heap.memory.buffer, ptr, 3))).toEqual([1.5, 2.5, 3.5]);
    heap.free(ptr);
    expect(() => heap.free(ptr)).toThrow(DoubleFreeError);
  });

  it("rejects bad options with InvalidSizeError naming the option", () => {
    expect(() => createHeap({ strategy: firstFit(), align: 4 as 8 })).toThrow(/align/);
    expect(() => createHeap({ strategy: firstFit(), base: 24 })).toThrow(InvalidSizeError);
    expect(() => createHeap({ strategy: firstFit(), maxSize: 32 })).toThrow(/maxSize/);
  });

  it.each([
    ["array-buffer", () => new ArrayBuffer(8192)],
    ["resizable-array-buffer", () => new ArrayBuffer(8192, { maxByteLength: 1 << 20 })],
    ["shared-array-buffer", () => new SharedArrayBuffer(8192, { maxByteLength: 1 << 20 })],
    ["wasm-memory", () => new WebAssembly.Memory({ initial: 1, maximum: 16 })],
  ] as const)("manages a given %s", (kind, makeMemory) => {
    const memory = makeMemory();
    const heap = createHeap({ strategy: firstFit(), memory });
    expect(heap.memory.kind).toBe(kind);
    const ptr = heap.malloc(100);
    heap.u8(ptr, 100).fill(7);
    const buffer = memory instanceof WebAssembly.Memory ? memory.buffer : memory;
    expect(new Uint8Array(buffer, ptr, 100).every((byte) => byte === 7)).toBe(true);
  });

  it("reserves one plain ArrayBuffer of maxSize by default from 32 MiB up, and grows the heap inside it", () => {
    expect(createHeap({ strategy: firstFit() }).memory.kind).toBe("array-buffer"); // 256 MiB
    expect(createHeap({ strategy: firstFit(), maxSize: RESERVE_MIN_BYTES - 4096 }).memory.kind).toBe(
      "resizable-array-buffer",
    );
    const heap = createHeap({ strategy: firstFit(), size: 4096, maxSize: 8 << 20, growth: "reserve" });
    expect(heap.memory.kind).toBe("array-buffer");
    const buffer = heap.memory.buffer;
    expect(buffer.byteLength).toBe(8 << 20);
    const small = heap.stats().heapSize;
    expect(small).toBeLessThan(64 * 1024);
    const view = new Uint8Array(buffer);
    const ptr = heap.malloc(3 << 20);
    expect(heap.stats().heapSize).toBeGreaterThan(3 << 20);
    expect(heap.stats().capacity).toBe(8 << 20);
    // the buffer never changes, so a view made before the heap grew sees its new blocks
    expect(heap.memory.buffer).toBe(buffer);
    heap.u8(ptr, 16).fill(9);
    expect(view[ptr + 15]).toBe(9);
    expect(heap.tryMalloc(heap.maxRequest)).toBe(0); // 3 MiB are taken: the rest cannot hold the largest request
  });

  it('makes a resizable ArrayBuffer with growth: "resize", and a plain one when size is maxSize', () => {
    const growable = createHeap({ strategy: firstFit(), size: 4096, maxSize: 1 << 20, growth: "resize" });
    expect(growable.memory.kind).toBe("resizable-array-buffer");
    expect(growable.memory.byteLength).toBeLessThan(100_000); // the heap's own parts only
    growable.malloc(100_000);
    expect(growable.memory.byteLength).toBeGreaterThan(100_000);
    const fixed = createHeap({ strategy: firstFit(), size: 1 << 16, maxSize: 1 << 16, growth: "resize" });
    expect(fixed.memory.kind).toBe("array-buffer");
    expect(fixed.memory.byteLength).toBe(1 << 16);
    expect(fixed.tryMalloc(fixed.maxRequest)).toBe(0); // the largest request it accepts, and it cannot grow to fit it
    expect(fixed.malloc(1000)).toBeGreaterThan(0);
  });

  it("gives a reserved memory pages only as the heap touches them", () => {
    const before = process.memoryUsage().rss;
    const heaps = [0, 1, 2, 3].map(() => createHeap({ strategy: firstFit(), maxSize: 1 << 30 }));
    for (const heap of heaps) heap.malloc(1000);
    // four GiB reserved; what the process holds grows by the pages the heaps wrote
    expect(process.memoryUsage().rss - before).toBeLessThan(64 << 20);
    expect(heaps.every((heap) => heap.memory.byteLength === 1 << 30)).toBe(true);
  });

  it("falls back to a resizable buffer where the platform will not reserve maxSize at once", () => {
    const RealArrayBuffer = ArrayBuffer;
    globalThis.ArrayBuffer = new Proxy(RealArrayBuffer, {
      construct(target, args: [number, { maxByteLength: number }?]) {
        if (args[1] === undefined && args[0] > 1 << 20)
          throw new RangeError("Array buffer allocation failed");
        return Reflect.construct(target, args);
      },
    });
    try {
      const heap = createHeap({ strategy: firstFit(), maxSize: 64 << 20 });
      expect(heap.memory.kind).toBe("resizable-array-buffer");
      expect(heap.malloc(2 << 20)).toBeGreaterThan(0);
      expect(heap.memory.byteLength).toBeLessThan(64 << 20);
    } finally {
      globalThis.ArrayBuffer = RealArrayBuffer;
    }
  });

  it('makes a SharedArrayBuffer when asked, for workers: reserved, or growable with growth: "resize"', () => {
    const reserved = createHeap({ strategy: firstFit(), maxSize: 1 << 20, shared: true, growth: "reserve" });
    expect(reserved.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(reserved.memory.byteLength).toBe(1 << 20);
    expect(reserved.malloc(100_000)).toBeGreaterThan(0);
    const options = {
      strategy: firstFit(),
      size: 4096,
      maxSize: 1 << 20,
      shared: true,
      growth: "resize",
    } as const;
    const growable = createHeap(options);
    expect(growable.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(growable.memory.byteLength).toBeLessThan(1 << 20);
    growable.malloc(300_000);
    expect(growable.memory.byteLength).toBeGreaterThan(300_000);
  });
});

describe("the pointer map over used memory", () => {
  it.each([
    ["an ArrayBuffer", () => new ArrayBuffer(1 << 20)],
    ["a SharedArrayBuffer", () => new SharedArrayBuffer(1 << 20)],
  ] as const)(
    "formatting %s full of old bytes, the map's bits come clear as the region grows over them",
    (_, make) => {
      const buffer = make();
      new Uint8Array(buffer).fill(0xff); // every map bit set, as stale as a map can be
      const heap = createHeap({ strategy: firstFit(), memory: buffer, format: true });
      const blocks = [heap.malloc(100), heap.malloc(64 * 1024), heap.malloc(300_000), heap.malloc(24)];
      for (const ptr of blocks) {
        expect(heap.isLive(ptr)).toBe(true);
        // an address inside a block is no payload: a stale bit would make it one
        expect(heap.isLive(ptr + 16)).toBe(false);
        expect(() => heap.free(ptr + 16)).toThrow(InvalidPointerError);
      }
      heap.check(); // counts the map's bits below the break against the live blocks
      for (const ptr of blocks) heap.free(ptr);
      expect(heap.stats().liveBlocks).toBe(0);
      heap.check();
      // a fresh heap over stale bits, its break at every offset within a map word, on a word's
      // boundary among them: the bits at and past the break are never counted
      const again = make();
      new Uint8Array(again).fill(0xff);
      const growing = createHeap({ strategy: firstFit(), memory: again, format: true });
      for (let i = 1; i < 300; i++) {
        growing.malloc(8 * (i % 37) + 8);
        growing.check();
      }
    },
  );
});

describe("C semantics", () => {
  const heap = () => createHeap({ strategy: firstFit(), size: 64 * 1024 });

  it("calloc zeroes memory that held other bytes", () => {
    const h = heap();
    const dirty = h.malloc(256);
    h.u8(dirty, 256).fill(0xff);
    h.free(dirty);
    const clean = h.calloc(32, 8);
    expect(clean).toBe(dirty);
    expect(h.u8(clean, 256).every((byte) => byte === 0)).toBe(true);
  });

  it("realloc(0, n) allocates and realloc(p, 0) frees and returns 0", () => {
    const h = heap();
    const ptr = h.realloc(0, 40);
    expect(h.isLive(ptr)).toBe(true);
    expect(h.realloc(ptr, 0)).toBe(0);
    expect(h.isLive(ptr)).toBe(false);
    expect(h.stats().liveBlocks).toBe(0);
  });

  it("realloc keeps the payload when it moves", () => {
    const h = heap();
    const first = h.malloc(16);
    h.u8(first, 16).set(Array.from({ length: 16 }, (_, i) => i));
    h.malloc(16); // a neighbour, so growing in place is impossible
    const moved = h.realloc(first, 4000);
    expect(moved).not.toBe(first);
    expect(Array.from(h.u8(moved, 16))).toEqual(Array.from({ length: 16 }, (_, i) => i));
  });

  it("free(0) is a no-op", () => {
    const h = heap();
    const before = h.snapshot();
    h.free(0);
    expect(h.snapshot()).toEqual(before);
  });

  it("calloc checks count × size against the limit", () => {
    const h = createHeap({ strategy: firstFit(), size: 4096, maxSize: 1 << 20 });
    expect(() => h.calloc(1 << 20, 1 << 10)).toThrow(InvalidSizeError);
  });
});

describe("views", () => {
  it("refuse to reach past the block's usable size", () => {
    const h = createHeap({ strategy: firstFit() });
    const ptr = h.malloc(16);
    const usable = h.usableSize(ptr);
    expect(h.u8(ptr, usable)).toHaveLength(usable);
    expect(() => h.u8(ptr, usable + 1)).toThrow(InvalidSizeError);
    expect(() => h.f64(ptr + 8, 1)).toThrow(InvalidPointerError);
  });

  it("cover every element type", () => {
    const h = createHeap({ strategy: firstFit() });
    const ptr = h.malloc(64);
    expect(h.i8(ptr, 4)).toBeInstanceOf(Int8Array);
    expect(h.u16(ptr, 4)).toBeInstanceOf(Uint16Array);
    expect(h.i16(ptr, 4)).toBeInstanceOf(Int16Array);
    expect(h.u32(ptr, 4)).toBeInstanceOf(Uint32Array);
    expect(h.i32(ptr, 4)).toBeInstanceOf(Int32Array);
    expect(h.f32(ptr, 4)).toBeInstanceOf(Float32Array);
    expect(h.i64(ptr, 4)).toBeInstanceOf(BigInt64Array);
    expect(h.u64(ptr, 4)).toBeInstanceOf(BigUint64Array);
  });
});

describe("stats and events", () => {
  it("counts mallocs, frees, reallocs, failures and peaks", () => {
    const h = createHeap({ strategy: firstFit(), size: 4096, maxSize: 4096 });
    const a = h.malloc(100);
    const b = h.malloc(200);
    h.realloc(a, 300);
    h.free(b);
    expect(h.tryMalloc(h.maxRequest)).toBe(0);
    const stats = h.stats();
    expect(stats.mallocs).toBe(2);
    expect(stats.frees).toBe(1);
    expect(stats.reallocs).toBe(1);
    expect(stats.failedAllocations).toBe(1);
    expect(stats.liveBlocks).toBe(1);
    expect(stats.peakLiveBlocks).toBe(2);
    expect(stats.peakLiveBytes).toBeGreaterThanOrEqual(300 + 200);
    expect(stats.heapSize).toBe(stats.liveBytes + stats.freeBytes + stats.overheadBytes);
  });

  it("reports every operation to the listener", () => {
    const h = createHeap({ strategy: firstFit(), size: 4096, maxSize: 1 << 20 });
    const seen: [HeapEventKind, number][] = [];
    h.onEvent((kind, _ptr, size) => seen.push([kind, size]));
    const ptr = h.malloc(10);
    const moved = h.realloc(ptr, 20_000);
    h.free(moved);
    const kinds = seen.map(([kind]) => kind);
    expect(kinds.filter((kind) => kind !== "grow")).toEqual(["malloc", "realloc", "free"]);
    expect(kinds).toContain("grow");
    expect(seen.find(([kind]) => kind === "malloc")).toEqual(["malloc", 10]);
  });

  it("names the figures in OutOfMemoryError, and a size past the limit is an InvalidSizeError", () => {
    // (the heap's own control block, worker slot and pointer map take about 700 of the 2048 bytes)
    const h = createHeap({ strategy: firstFit(), size: 2048, maxSize: 2048 });
    h.malloc(500);
    expect(() => h.malloc(4000)).toThrow(InvalidSizeError);
    try {
      h.malloc(1000);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(OutOfMemoryError);
      const oom = error as OutOfMemoryError;
      expect(oom.code).toBe("HEAP_OUT_OF_MEMORY");
      expect(oom.requested).toBe(1000);
      expect(oom.largestFreeBlock).toBeLessThan(1000);
      expect(oom.heapLimit).toBeLessThanOrEqual(2048);
    }
  });
});

describe("input a JavaScript program may pass by mistake", () => {
  it("answers a bigint with the typed error, not a raw TypeError", () => {
    const h = createHeap({ strategy: firstFit() });
    const ptr = h.malloc(24);
    expect(() => h.malloc(16n as unknown as number)).toThrow(InvalidSizeError);
    expect(() => h.malloc(16n as unknown as number)).toThrow(/bigint/);
    expect(() => h.free(24n as unknown as number)).toThrow(InvalidPointerError);
    expect(() => h.realloc(ptr, 8n as unknown as number)).toThrow(InvalidSizeError);
    expect(() => h.u8(ptr, 4n as unknown as number)).toThrow(InvalidSizeError);
    expect(h.isLive(BigInt(ptr) as unknown as number)).toBe(false);
  });

  it("calls a freed block freed: a double free for free and realloc, an invalid pointer for the rest", () => {
    const h = createHeap({ strategy: firstFit(), cache: false });
    const ptr = h.malloc(24);
    h.malloc(24);
    h.free(ptr);
    expect(() => h.free(ptr)).toThrow(DoubleFreeError);
    expect(() => h.realloc(ptr, 10)).toThrow(DoubleFreeError);
    for (const call of [() => h.usableSize(ptr), () => h.u8(ptr, 4)]) {
      expect(call).toThrow(InvalidPointerError);
      expect(call).toThrow(/was freed/);
    }
  });

  it("says the same of a block waiting in the front cache", () => {
    const h = createHeap({ strategy: firstFit(), cache: true });
    const ptr = h.malloc(24);
    h.free(ptr);
    expect(h.stats().cachedBlocks).toBe(1);
    expect(() => h.free(ptr)).toThrow(DoubleFreeError);
    expect(() => h.usableSize(ptr)).toThrow(/was freed/);
    expect([...h.blocks()].filter((block) => block.state === "cached").map((block) => block.ptr)).toEqual([
      ptr,
    ]);
  });

  it("tells true figures when out of memory: what is free, and what the heap may still grow by", () => {
    const h = createHeap({ strategy: bestFit(), size: 4096, maxSize: 1 << 20 });
    h.malloc(700_000);
    let oom: OutOfMemoryError | undefined;
    try {
      h.malloc(500_000);
    } catch (error) {
      oom = error as OutOfMemoryError;
    }
    expect(oom).toBeInstanceOf(OutOfMemoryError);
    expect(oom?.growableBytes).toBeGreaterThan(0);
    expect(oom?.message).toMatch(/more the heap may grow by/);
    // the largest request that still succeeds fits in what the error said was there
    let low = 0;
    let high = 500_000;
    while (low < high) {
      const mid = (low + high + 1) >>> 1;
      const ptr = h.tryMalloc(mid);
      if (ptr === 0) high = mid - 1;
      else {
        h.free(ptr);
        low = mid;
      }
    }
    expect(low).toBeGreaterThan(0);
    expect(low).toBeLessThanOrEqual((oom?.largestFreeBlock ?? 0) + (oom?.growableBytes ?? 0));
  });
});

describe("a platform without what a heap needs", () => {
  it("gets UnsupportedPlatformError when a resizable heap is made, not a reserved one", () => {
    const prototype = ArrayBuffer.prototype as { resize?: unknown };
    const resize = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "resize");
    delete prototype.resize;
    try {
      const resizable = { strategy: firstFit(), size: 4096, maxSize: 1 << 20, growth: "resize" } as const;
      expect(() => createHeap(resizable)).toThrow(UnsupportedPlatformError);
      expect(() => createHeap(resizable)).toThrow(/resizable ArrayBuffer/);
      // the default reserves a plain buffer, which every platform has
      expect(createHeap({ strategy: firstFit() }).malloc(100)).toBeGreaterThan(0);
    } finally {
      if (resize) Object.defineProperty(ArrayBuffer.prototype, "resize", resize);
    }
  });

  it("gets UnsupportedPlatformError naming the isolation headers where SharedArrayBuffer is missing", () => {
    const saved = globalThis.SharedArrayBuffer;
    // biome-ignore lint/suspicious/noExplicitAny: removing a global to stand for a page without isolation
    delete (globalThis as any).SharedArrayBuffer;
    try {
      expect(() => createHeap({ strategy: firstFit(), shared: true })).toThrow(/Cross-Origin-Opener-Policy/);
      // an unshared heap needs no SharedArrayBuffer (most pages are not cross-origin isolated)
      const heap = createHeap({ strategy: firstFit(), size: 4096, maxSize: 1 << 20 });
      heap.free(heap.malloc(100));
      heap.check();
    } finally {
      globalThis.SharedArrayBuffer = saved;
    }
  });
});
