/**
 * The shared heap when things go wrong or change under it: growth raced from several workers,
 * workers attaching and detaching while others run, a worker that dies holding the lock, memory
 * that is not a heap (or a heap of another layout), and double frees or bad pointers from another
 * worker than the one that allocated. Every worker runs under a deadline: a hang fails the test.
 */
import { DetachedMemoryError, DoubleFreeError, HeapFormatError, LockTimeoutError } from "@heapkit/contract";
import { bestFit } from "@heapkit/strategy-best-fit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attachHeap, createHeap, createSharedHeap } from "../../src/index.js";
import { C_LAYOUT_VERSION, C_MAGIC, HEAP_MAGIC, LAYOUT_VERSION } from "../../src/layout.js";
import { bundleWorker, RpcWorker, runWorkers, type WorkerBundle } from "./harness.js";
import { Barrier, fillPattern, findPatternMismatch, Gate, HandoffRing, seededRandom } from "./protocol.js";
import { strategyByName, strategyNames, tlsf } from "./registry.js";
import type { GrowData, HeldReport, RpcData, StressData } from "./worker.js";

type SharedHeap = ReturnType<typeof createSharedHeap>;

const WAIT_MS = 30_000;
const seed = Number(process.env.HEAPKIT_SEED) || (Math.random() * 2 ** 31) >>> 0;

let bundle: WorkerBundle;
const started: RpcWorker[] = [];
beforeAll(async () => {
  bundle = await bundleWorker();
}, 60_000);
afterAll(async () => {
  await Promise.all(started.map((worker) => worker.terminate()));
  bundle?.dispose();
});

function rpcWorker(
  memory: SharedArrayBuffer | WebAssembly.Memory,
  options: Partial<RpcData> = {},
): RpcWorker {
  const worker = new RpcWorker(bundle, {
    memory,
    strategy: "tlsf",
    lockTimeout: 5_000,
    byDescriptor: false,
    holdLock: null,
    ...options,
  });
  started.push(worker);
  return worker;
}

async function attached(
  memory: SharedArrayBuffer | WebAssembly.Memory,
  options: Partial<RpcData> = {},
): Promise<RpcWorker> {
  const worker = rpcWorker(memory, options);
  const result = await worker.send({ op: "attach" });
  if (!result.ok) throw new Error(`attach in worker: ${result.error.message}`);
  return worker;
}

/** What a rejected call must leave exactly as it was. */
function heapState(heap: SharedHeap): unknown {
  const blocks = [...heap.blocks()];
  const { liveBlocks, liveBytes, freeBlocks, freeBytes, cachedBlocks, cachedBytes, heapSize } = heap.stats();
  return { blocks, liveBlocks, liveBytes, freeBlocks, freeBytes, cachedBlocks, cachedBytes, heapSize };
}

function bytesOf(heap: SharedHeap): Uint8Array {
  return new Uint8Array(heap.memory.buffer);
}

describe(`growth raced from four workers (seed ${seed})`, () => {
  const cases: [
    string,
    string,
    () => { heap: SharedHeap; memory: SharedArrayBuffer | WebAssembly.Memory },
  ][] = [
    ...strategyNames.map((name): [string, string, () => { heap: SharedHeap; memory: SharedArrayBuffer }] => [
      name,
      "a growable SharedArrayBuffer",
      () => {
        const options = { size: 64 << 10, maxSize: 128 << 20, growth: "resize" } as const;
        const heap = createSharedHeap({ strategy: strategyByName(name), ...options });
        return { heap, memory: heap.memory.buffer as SharedArrayBuffer };
      },
    ]),
    [
      "tlsf",
      "a reserved SharedArrayBuffer (the default)",
      () => {
        const heap = createSharedHeap({ strategy: tlsf(), maxSize: 128 << 20 });
        return { heap, memory: heap.memory.buffer as SharedArrayBuffer };
      },
    ],
    [
      "tlsf",
      "a shared WebAssembly.Memory",
      () => {
        const memory = new WebAssembly.Memory({ initial: 1, maximum: 2048, shared: true });
        // JavaScript cannot read a wasm memory's maximum: maxSize says it
        return { heap: createSharedHeap({ strategy: tlsf(), memory, maxSize: 2048 * 65536 }), memory };
      },
    ],
  ];

  it.each(cases)(
    "%s over %s: every worker's blocks intact, none overlapping, every view sees the grown memory",
    async (name, _kind, make) => {
      const { heap, memory } = make();
      const initialBytes = heap.stats().heapSize;
      const workers = 4;
      const barrier = new SharedArrayBuffer(Barrier.bytes);
      const gateBuffer = new SharedArrayBuffer(Gate.bytes);
      const gate = new Gate(gateBuffer);
      const count = 300;
      const table = new SharedArrayBuffer(workers * count * 3 * 4);
      const datas: GrowData[] = Array.from({ length: workers }, (_, index) => ({
        scenario: "grow",
        memory,
        strategy: name,
        lockTimeout: 10_000,
        index,
        workers,
        seed,
        count,
        table,
        barrier,
        gate: gateBuffer,
        waitMs: WAIT_MS,
      }));
      const reports: HeldReport[] = [];
      await runWorkers(bundle, datas, {
        timeoutMs: WAIT_MS,
        onMessage: (message) => {
          const report = message as HeldReport;
          if (report.type !== "held") return;
          reports.push(report);
          if (reports.length < workers) return;
          const blocks = reports
            .flatMap((r) => Array.from(r.ptrs, (ptr, i) => ({ ptr, end: ptr + r.sizes[i] })))
            .sort((a, b) => a.ptr - b.ptr);
          for (let i = 1; i < blocks.length; i++) {
            if (blocks[i].ptr < blocks[i - 1].end) {
              throw new Error(`seed ${seed}: block ${blocks[i].ptr} overlaps ${blocks[i - 1].ptr}`);
            }
          }
          const highest = blocks[blocks.length - 1].end;
          for (const r of reports) {
            expect(r.viewBytes, `worker ${r.index}'s view of the memory`).toBeGreaterThanOrEqual(highest);
          }
          heap.check();
          const stats = heap.stats();
          expect(stats.liveBlocks).toBe(blocks.length);
          expect(stats.heapSize).toBeGreaterThan(initialBytes);
          expect(bytesOf(heap).length).toBeGreaterThanOrEqual(highest);
          gate.open(1);
        },
      });
      heap.check();
      expect(heap.stats().liveBlocks).toBe(0);
    },
    WAIT_MS + 10_000,
  );
});

describe("attach and detach while other workers run", () => {
  it("slots are given back and reused, detached caches are flushed, blocks outlive the worker that made them", async () => {
    const heap = createSharedHeap({
      strategy: tlsf(),
      size: 1 << 20,
      maxSize: 64 << 20,
      workers: 4,
      cache: true,
    });
    const memory = heap.memory.buffer as SharedArrayBuffer;
    const steady = 2;
    const rings = Array.from({ length: steady }, () => new SharedArrayBuffer(HandoffRing.bytesFor(1024)));
    const barrier = new SharedArrayBuffer(Barrier.bytes);
    const gateBuffer = new SharedArrayBuffer(Gate.bytes);
    const gate = new Gate(gateBuffer);
    const progress = new Int32Array(new SharedArrayBuffer(steady * 8));
    // enough that the steady workers are still allocating when the first cycles run, however fast
    // the heap gets (at 40 k they once finished before the first cycle did)
    const ops = 200_000;
    let reported = 0;
    let churnDone = false;
    // the steady workers stay attached (waiting at the gate once done) until the churn is over
    const openWhenBothDone = (): void => {
      if (reported === steady && churnDone) gate.open(1);
    };
    const running = runWorkers(
      bundle,
      Array.from(
        { length: steady },
        (_, index): StressData => ({
          scenario: "stress",
          memory,
          strategy: "tlsf",
          lockTimeout: 10_000,
          index,
          workers: steady,
          seed,
          ops,
          phases: 1,
          maxHeld: 500,
          rings,
          barrier,
          gate: gateBuffer,
          progress: progress.buffer as SharedArrayBuffer,
          waitMs: WAIT_MS,
        }),
      ),
      {
        timeoutMs: WAIT_MS,
        onMessage: (message) => {
          if ((message as HeldReport).type !== "held") return;
          reported++;
          openWhenBothDone();
        },
      },
    );
    const deadline = Date.now() + WAIT_MS;
    while (Atomics.load(progress, 0) === 0 || Atomics.load(progress, 2) === 0) {
      if (Date.now() > deadline) throw new Error("the steady workers never started");
      await new Promise((resume) => setTimeout(resume, 5));
    }

    // 12 attach/detach cycles through a heap with 4 slots: this thread, 2 steady workers, and 1
    // more that the churning worker must get back each time
    const kept: { ptr: number; size: number; seq: number }[] = [];
    const churn = rpcWorker(memory, { byDescriptor: true });
    const extra = rpcWorker(memory);
    const random = seededRandom(seed);
    let overlapped = 0;
    for (let cycle = 0; cycle < 12; cycle++) {
      const attach = await churn.send({ op: "attach" });
      expect(attach.ok, `cycle ${cycle}: attach ${attach.ok ? "" : attach.error.message}`).toBe(true);
      if (cycle === 0) {
        const refused = await extra.send({ op: "attach" });
        expect(refused.ok, "a fifth worker finds every slot taken").toBe(false);
        expect(refused.ok ? "" : refused.error.name).toBe("DetachedMemoryError");
        expect(refused.ok ? "" : refused.error.message).toMatch(/slot/);
      }
      const ptrs: { ptr: number; size: number; seq: number }[] = [];
      for (let i = 0; i < 16; i++) {
        const size = 1 + Math.floor(random() * 200);
        const ptr = (await churn.call("malloc", size)) as number;
        const seq = 1_000_000 + cycle * 100 + i;
        await churn.send({ op: "fill", ptr, size, seq });
        ptrs.push({ ptr, size, seq });
      }
      for (const block of ptrs.slice(8)) await churn.call("free", block.ptr);
      kept.push(...ptrs.slice(0, 8));
      if (Atomics.load(progress, 0) < ops || Atomics.load(progress, 2) < ops) overlapped++;
      await churn.call("detach");
      const after = await churn.send({ op: "call", method: "malloc", args: [8] });
      expect(after.ok, "a heap object after detach is unusable").toBe(false);
    }
    churnDone = true;
    openWhenBothDone();
    await running;
    expect(
      overlapped,
      "attach/detach cycles that ran while the steady workers were allocating",
    ).toBeGreaterThan(0);

    const bytes = bytesOf(heap);
    for (const block of kept) expect(findPatternMismatch(bytes, block.ptr, block.size, block.seq)).toBe(-1);
    expect(heap.stats().attachedWorkers).toBe(1);
    expect(heap.stats().liveBlocks).toBe(kept.length);
    for (const block of kept) heap.free(block.ptr);
    heap.flushCache();
    heap.check();
    const stats = heap.stats();
    expect(stats.liveBlocks).toBe(0);
    expect(stats.cachedBlocks).toBe(0);
  }, 60_000);

  it("a worker's cached blocks count in stats() while it is attached and go back to the strategy when it detaches", async () => {
    const heap = createSharedHeap({ strategy: tlsf(), size: 1 << 20, cache: true });
    const worker = await attached(heap.memory.buffer as SharedArrayBuffer);
    expect(heap.stats().attachedWorkers).toBe(2);
    const ptrs: number[] = [];
    for (let i = 0; i < 6; i++) ptrs.push((await worker.call("malloc", 48)) as number);
    for (const ptr of ptrs) await worker.call("free", ptr);
    const cached = heap.stats();
    expect(cached.liveBlocks).toBe(0);
    expect(cached.cachedBlocks).toBeGreaterThan(0);
    expect(cached.cachedBytes).toBeGreaterThanOrEqual(cached.cachedBlocks * 48);
    expect(cached.overheadBytes).toBe(
      cached.heapSize - cached.liveBytes - cached.freeBytes - cached.cachedBytes,
    );
    await worker.call("detach");
    const flushed = heap.stats();
    expect(flushed.cachedBlocks).toBe(0);
    expect(flushed.cachedBytes).toBe(0);
    expect(flushed.attachedWorkers).toBe(1);
    heap.check();
  }, 30_000);
});

describe("a worker that dies holding the lock", () => {
  it("the others get LockTimeoutError naming its slot and thread after the bounded wait, not a hang", async () => {
    const lockTimeout = 400;
    const heap = createSharedHeap({ strategy: tlsf(), size: 1 << 20, maxSize: 16 << 20, lockTimeout });
    const memory = heap.memory.buffer as SharedArrayBuffer;
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const holder = await attached(memory, {
      holdLock: { flag: flag.buffer as SharedArrayBuffer, fromSize: 100_000 },
    });
    const others = [await attached(memory, { lockTimeout }), await attached(memory, { lockTimeout })];
    const holderThread = holder.threadId;
    holder.post({ op: "holdLock", size: 150_000 });
    const held = await Atomics.waitAsync(flag, 0, 0, 10_000).value;
    expect(held === "ok" || Atomics.load(flag, 0) === 1, "the holder reached the engine with the lock").toBe(
      true,
    );
    await holder.terminate();

    const startedAt = performance.now();
    const errors = await Promise.all(others.map((worker) => worker.callFailing("malloc", 200_000)));
    const waited = performance.now() - startedAt;
    for (const error of errors) {
      expect(error.name).toBe("LockTimeoutError");
      expect(error.code).toBe("HEAP_LOCK_TIMEOUT");
      expect(error.holderThread).toBe(holderThread);
      expect(error.holderSlot).toBeGreaterThanOrEqual(0);
      expect(error.message).toContain(`thread ${holderThread}`);
      expect(error.waitedMs).toBeGreaterThanOrEqual(lockTimeout);
    }
    expect(waited, "both waits were bounded (they run at the same time)").toBeLessThan(lockTimeout + 5_000);
    let thrown: unknown;
    try {
      heap.malloc(200_000);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(LockTimeoutError);
    expect((thrown as LockTimeoutError).holderThread).toBe(holderThread);
  }, 30_000);
});

describe("a worker terminated in the middle of cache hits", () => {
  it("leaves the heap usable or makes the others fail with LockTimeoutError naming it, never hang", async () => {
    const lockTimeout = 300;
    let poisoned = 0;
    for (let round = 0; round < 4; round++) {
      const heap = createSharedHeap({ strategy: tlsf(), size: 1 << 20, lockTimeout, cache: true });
      const worker = await attached(heap.memory.buffer as SharedArrayBuffer, { lockTimeout });
      const flag = new Int32Array(new SharedArrayBuffer(4));
      worker.post({ op: "spin", size: 32, flag: flag.buffer as SharedArrayBuffer });
      await Atomics.waitAsync(flag, 0, 0, 10_000).value;
      await new Promise((resume) => setTimeout(resume, 20 + round * 15));
      const deadThread = worker.threadId;
      await worker.terminate();
      const startedAt = performance.now();
      try {
        heap.stats();
        heap.check();
      } catch (error) {
        expect(error).toBeInstanceOf(LockTimeoutError);
        expect((error as LockTimeoutError).holderThread).toBe(deadThread);
        poisoned++;
      }
      expect(performance.now() - startedAt).toBeLessThan(lockTimeout * 2 + 2_000);
    }
    console.log(`terminated mid-call: ${poisoned} of 4 heaps left with a lock held by the dead worker`);
  }, 30_000);
});

describe("memory that is not a heap of this layout", () => {
  function expectFormatErrorWritingNothing(
    memory: SharedArrayBuffer,
    attach: () => unknown,
  ): HeapFormatError {
    const before = new Uint8Array(memory).slice();
    let thrown: unknown;
    try {
      attach();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HeapFormatError);
    expect((thrown as HeapFormatError).code).toBe("HEAP_FORMAT");
    expect(Buffer.compare(new Uint8Array(memory), before), "the memory is byte for byte as it was").toBe(0);
    return thrown as HeapFormatError;
  }

  it("attaching to zeroed memory or to random bytes throws HeapFormatError and writes nothing", () => {
    const zeroed = new SharedArrayBuffer(256 << 10);
    expectFormatErrorWritingNothing(zeroed, () => attachHeap(zeroed, { strategy: tlsf() }));
    const noise = new SharedArrayBuffer(256 << 10);
    const random = seededRandom(seed);
    const bytes = new Uint8Array(noise);
    for (let i = 0; i < bytes.length; i++) bytes[i] = random() * 256;
    expectFormatErrorWritingNothing(noise, () => attachHeap(noise, { strategy: tlsf() }));
  }, 15_000);

  function copyOf(heap: SharedHeap): SharedArrayBuffer {
    const source = heap.memory.buffer as SharedArrayBuffer;
    const copy = new SharedArrayBuffer(source.byteLength, { maxByteLength: source.maxByteLength });
    new Uint8Array(copy).set(new Uint8Array(source));
    return copy;
  }

  it("attaching to a heap of another layout version, or with another strategy, throws HeapFormatError and writes nothing", () => {
    const heap = createSharedHeap({ strategy: tlsf(), size: 256 << 10 });
    heap.malloc(100);
    const control = heap.base >> 2;
    expect(new Int32Array(heap.memory.buffer)[control + C_MAGIC], "the control block starts at base").toBe(
      HEAP_MAGIC,
    );
    const copy = copyOf(heap);
    new Int32Array(copy)[control + C_LAYOUT_VERSION] = LAYOUT_VERSION + 1;
    const error = expectFormatErrorWritingNothing(copy, () => attachHeap(copy, { strategy: tlsf() }));
    expect(error.message).toMatch(/version/);
    const sameLayout = copyOf(heap);
    expectFormatErrorWritingNothing(sameLayout, () => attachHeap(sameLayout, { strategy: bestFit() }));
  }, 15_000);

  it("creating a heap over memory that holds a live heap throws HeapFormatError unless format is asked for", () => {
    const heap = createSharedHeap({ strategy: tlsf(), size: 256 << 10 });
    heap.malloc(100);
    const memory = heap.memory.buffer as SharedArrayBuffer;
    expectFormatErrorWritingNothing(memory, () => createSharedHeap({ strategy: tlsf(), memory }));
    const fresh = createSharedHeap({ strategy: tlsf(), memory, format: true });
    expect(fresh.stats().liveBlocks).toBe(0);
    fresh.check();
  }, 15_000);

  it("a copy of the buffer is the same heap: same blocks, same payloads, same figures", () => {
    const heap = createSharedHeap({ strategy: tlsf(), size: 256 << 10 });
    const random = seededRandom(seed);
    const blocks = Array.from({ length: 50 }, (_, seq) => {
      const size = 1 + Math.floor(random() * 300);
      const ptr = heap.malloc(size);
      fillPattern(bytesOf(heap), ptr, size, seq);
      return { ptr, size, seq };
    });
    for (const block of blocks.splice(0, 20)) heap.free(block.ptr);
    const copy = attachHeap(copyOf(heap), { strategy: tlsf() });
    const original = heap.stats();
    const copied = copy.stats();
    expect(copied.liveBlocks).toBe(original.liveBlocks);
    expect(copied.liveBytes).toBe(original.liveBytes);
    expect(copied.heapSize).toBe(original.heapSize);
    const used = (h: SharedHeap) => [...h.blocks()].filter((b) => b.state === "used").map((b) => b.ptr);
    expect(used(copy)).toEqual(used(heap));
    for (const block of blocks) {
      expect(findPatternMismatch(bytesOf(copy), block.ptr, block.size, block.seq)).toBe(-1);
    }
    copy.free(blocks[0].ptr);
    copy.check();
    expect(heap.stats().liveBlocks, "freeing in the copy leaves the original alone").toBe(
      original.liveBlocks,
    );
  }, 15_000);

  it("a heap whose ArrayBuffer was transferred away throws DetachedMemoryError", () => {
    const buffer = new ArrayBuffer(64 << 10);
    const heap = createHeap({ strategy: tlsf(), memory: buffer });
    const ptr = heap.malloc(32);
    structuredClone(buffer, { transfer: [buffer] });
    expect(() => heap.malloc(32)).toThrow(DetachedMemoryError);
    expect(() => heap.free(ptr)).toThrow(DetachedMemoryError);
  }, 15_000);
});

describe("double frees and bad pointers from another worker than the allocating one", () => {
  it("are rejected with the error that says so, and leave the heap exactly as it was", async () => {
    const heap = createSharedHeap({ strategy: tlsf(), size: 1 << 20, cache: true });
    const memory = heap.memory.buffer as SharedArrayBuffer;
    const [a, b] = [await attached(memory), await attached(memory)];
    const p = heap.malloc(48);
    const q = heap.malloc(100);
    fillPattern(bytesOf(heap), q, 100, 7);
    await a.call("free", p);

    let before = heapState(heap);
    const double = await b.callFailing("free", p);
    expect(double.name).toBe("DoubleFreeError");
    expect(double.code).toBe("HEAP_DOUBLE_FREE");
    expect(heapState(heap)).toEqual(before);
    expect(() => heap.free(p)).toThrow(DoubleFreeError);

    before = heapState(heap);
    const end = heap.stats().heapSize + 64;
    for (const [method, args] of [
      ["free", [q + 8]],
      ["free", [q + 1]],
      ["free", [end]],
      ["realloc", [q + 8, 10]],
      ["usableSize", [q + 16]],
    ] as const) {
      const error = await b.callFailing(method, ...args);
      expect(error.name, `${method}(${args.join(", ")})`).toBe("InvalidPointerError");
      expect(error.code).toBe("HEAP_INVALID_POINTER");
    }
    expect(heapState(heap)).toEqual(before);
    expect(findPatternMismatch(bytesOf(heap), q, 100, 7)).toBe(-1);
    await b.call("free", q);
    heap.check();
    expect(heap.stats().liveBlocks).toBe(0);
  }, 30_000);

  it("two workers racing to free the same blocks: each block is freed exactly once, every other try is rejected", async () => {
    const heap = createSharedHeap({ strategy: tlsf(), size: 1 << 20, cache: true });
    const memory = heap.memory.buffer as SharedArrayBuffer;
    const racers = [await attached(memory), await attached(memory)];
    const random = seededRandom(seed);
    const ptrs = Array.from({ length: 400 }, () => heap.malloc(1 + Math.floor(random() * 600)));
    const gateBuffer = new SharedArrayBuffer(Gate.bytes);
    // both in the same order, so that they reach each block at about the same moment
    const results = racers.map((racer) => racer.send({ op: "freeEach", ptrs, gate: gateBuffer }));
    new Gate(gateBuffer).open(1);
    const [first, second] = await Promise.all(results);
    if (!first.ok || !second.ok) throw new Error("freeEach failed in a worker");
    const firstCodes = first.value as string[];
    const secondCodes = second.value as string[];
    ptrs.forEach((ptr, i) => {
      const codes = [firstCodes[i], secondCodes[i]].sort();
      expect(codes[1], `block ${ptr}: one free succeeds (seed ${seed})`).toBe("freed");
      expect(["HEAP_DOUBLE_FREE", "HEAP_INVALID_POINTER"], `block ${ptr}: the other is rejected`).toContain(
        codes[0],
      );
    });
    heap.check();
    expect(heap.stats().liveBlocks).toBe(0);
  }, 30_000);
});
