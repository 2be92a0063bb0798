import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { createHeap } from "@heapkit/heap";
import { strategyByName, strategyNames } from "@heapkit/strategies";
import { describe, expect, it } from "vitest";
import { malLabScore, ReplayError, type ReplayResult, replay, replayFile } from "../src/node.js";
import { bumpAllocator, events, fixture, TINY_EVENTS } from "./helpers.js";

describe("replay", () => {
  it("measures a tiny trace exactly as computed by hand", async () => {
    // a 0 100 | a 1 50 | f 0 | a 2 30 | r 1 70 | f 1 | f 2 on a bump allocator (8-byte rounding):
    // live 100, 150, 50, 80, 100, 30, 0 → peak 150 after op 2;
    // break: 104, 160, 160, 192, 264 (the realloc moves to the break) → high-water 264
    const result = await replay(fixture("tiny.rep"), bumpAllocator());
    expect(result).toMatchObject({
      strategy: "bump",
      format: "rep",
      ops: 7,
      allocs: 3,
      frees: 3,
      reallocs: 1,
      peakLiveBytes: 150,
      peakLiveOp: 2,
      heapHighWaterBytes: 264,
      failedAllocations: 0,
    });
    expect(result.utilization).toBeCloseTo(150 / 264, 12);
    expect(result.fragmentation).toBeCloseTo(264 / 150 - 1, 12);
    expect(result.series.op[0]).toBe(0);
    expect(result.series.op.at(-1)).toBe(7);
    expect(result.series.liveBytes.at(-1)).toBe(0);
    expect(result.opsPerSecond).toBeGreaterThan(0);
    expect(result.seconds).toBeGreaterThanOrEqual(result.replaySeconds);
  });

  it("replays the same figures from every format and from events in memory", async () => {
    const fromRep = await replay(fixture("tiny.rep"), bumpAllocator());
    const fromJsonl = await replay(fixture("tiny.jsonl"), bumpAllocator());
    const fromEvents = await replay(TINY_EVENTS, bumpAllocator, { name: "in memory" });
    for (const result of [fromJsonl, fromEvents]) {
      expect(result.peakLiveBytes).toBe(fromRep.peakLiveBytes);
      expect(result.heapHighWaterBytes).toBe(fromRep.heapHighWaterBytes);
    }
    expect(fromEvents.trace).toBe("in memory");
  });

  it("catches an allocator that overlaps blocks, naming the op's line", async () => {
    const data = "64\n2\n4\n1\na 0 16\na 1 16\nf 0\nf 1\n";
    const error = await replay({ name: "overlap.rep", data }, bumpAllocator({ overlap: true })).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(ReplayError);
    expect(error.line).toBe(7);
    expect(error.op).toBe("free");
    expect(error.message).toMatch(/^overlap\.rep:7: free of id 0: the payload at 16 was overwritten/);
    expect(error.message).toContain(
      "the broken allocator let another block or its metadata overlap this one",
    );
  });

  // a real heap's memory has a word view: a tag whose end is off a word boundary (a 13-byte block: its
  // last 4 bytes are 9–12) is written and read as bytes, the start (word-aligned) as a word
  it.each([
    [12, "last"],
    [9, "last"],
    [0, "first"],
    [3, "first"],
  ])(
    "catches byte %i of a 13-byte payload overwritten, in its %s bytes, over a heap's memory",
    async (at, where) => {
      const heap = createHeap({ strategy: strategyByName("first-fit"), size: 4096, maxSize: 64 * 1024 });
      let first = 0;
      const clobbering = new Proxy(heap, {
        get(target, key) {
          if (key === "tryMalloc") {
            return (size: number) => {
              const ptr = target.tryMalloc(size);
              if (first === 0) first = ptr;
              else target.memory.u8[first + at] ^= 0x5a;
              return ptr;
            };
          }
          const value = Reflect.get(target, key);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      const data = "64\n2\n4\n1\na 0 13\na 1 16\nf 0\nf 1\n";
      const error = await replay({ name: "clobber.rep", data }, clobbering).catch((e) => e);
      expect(error).toBeInstanceOf(ReplayError);
      expect(error.message).toMatch(
        new RegExp(
          `^clobber\\.rep:7: free of id 0: the payload at ${first} was overwritten \\(its ${where} bytes`,
        ),
      );
      // untouched, the same replay passes
      const clean = createHeap({ strategy: strategyByName("first-fit"), size: 4096, maxSize: 64 * 1024 });
      expect((await replay({ name: "clean.rep", data }, clean)).ops).toBe(4);
    },
  );

  it("catches a lost payload in a realloc and tiny blocks too", async () => {
    const data = "64\n2\n3\n1\na 0 3\na 1 2\nr 0 5\n";
    const error = await replay({ name: "small.rep", data }, bumpAllocator({ overlap: true })).catch((e) => e);
    expect(error).toBeInstanceOf(ReplayError);
    expect(error.line).toBe(7);
    expect(error.op).toBe("realloc");
  });

  it("turns an allocator's unexpected exception into a ReplayError naming the op", async () => {
    const broken = bumpAllocator();
    broken.free = () => {
      throw new Error("boom");
    };
    const error = await replay(fixture("tiny.rep"), broken).catch((e) => e);
    expect(error).toBeInstanceOf(ReplayError);
    expect(error.message).toMatch(/tiny\.rep:7: free of id 0: the allocator threw Error: boom/);
  });

  it("counts failed allocations and goes on", async () => {
    const data = "0\n3\n5\n1\na 0 100\na 1 999999\nr 0 888888\nf 1\nf 0\n";
    const heap = createHeap({ strategy: strategyByName("first-fit"), size: 4096, maxSize: 64 * 1024 });
    const result = await replay({ name: "big.rep", data }, heap);
    expect(result.failedAllocations).toBe(2);
    expect(result.ops).toBe(5);
    expect(heap.stats().liveBlocks).toBe(0);
  });

  it("stops after a given op and hands over the allocator", async () => {
    let seen = -1;
    const result = await replay(fixture("tiny.rep"), bumpAllocator(), {
      stopAfter: 3,
      onStop: (_allocator, ops) => {
        seen = ops;
      },
    });
    expect(result.stoppedAfter).toBe(3);
    expect(result.ops).toBe(3);
    expect(seen).toBe(3);
  });

  const GCC_AS = fixture("real/gcc-as.rep.gz");

  it("stops exactly where asked, and counts alike, whether or not the loop's first short run is over", async () => {
    // the loop's first call replays a few rows only (for V8): the figures and the stop must not see it
    const heap = () => createHeap({ strategy: strategyByName("first-fit"), size: 1 << 20, maxSize: 1 << 30 });
    const whole = await replayFile(GCC_AS, heap, { samples: 16 });
    for (const stopAfter of [1, 63, 64, 65, 200, 16_453]) {
      const result = await replayFile(GCC_AS, heap, { samples: 16, stopAfter });
      expect(result.stoppedAfter).toBe(stopAfter);
      expect(result.ops).toBe(stopAfter);
      expect(result.allocs + result.frees + result.reallocs).toBe(stopAfter);
      expect(result.peakLiveBytes).toBeLessThanOrEqual(whole.peakLiveBytes);
    }
    const small = await replayFile(GCC_AS, heap, { samples: 16, batchSize: 50 });
    expect({ ...small, seconds: 0, replaySeconds: 0, opsPerSecond: 0, endToEndOpsPerSecond: 0 }).toEqual({
      ...whole,
      seconds: 0,
      replaySeconds: 0,
      opsPerSecond: 0,
      endToEndOpsPerSecond: 0,
    });
    expect(whole.peakLiveOp).toBeGreaterThan(64);
  });

  it.each(strategyNames)(
    "replays the first 3000 ops of the real gcc-as trace with %s, payloads intact",
    async (name) => {
      const result = await replayFile(
        GCC_AS,
        () => createHeap({ strategy: strategyByName(name), size: 1 << 20, maxSize: 1 << 30 }),
        { samples: 16, stopAfter: 3000 },
      );
      expect(result.ops).toBe(3000);
      expect(result.failedAllocations).toBe(0);
      expect(result.utilization).toBeGreaterThan(0);
      expect(result.utilization).toBeLessThanOrEqual(1);
    },
  );

  it("replays the whole real gcc-as trace: peak live bytes as its header says", async () => {
    const name = strategyNames.includes("tlsf") ? "tlsf" : "first-fit";
    const result = await replayFile(GCC_AS, () =>
      createHeap({ strategy: strategyByName(name), size: 1 << 20, maxSize: 1 << 30 }),
    );
    expect(result.ops).toBe(16454);
    expect(result.peakLiveBytes).toBe(2222095); // line 1 of the header
    expect(result.summary?.header?.ops).toBe(16454);
    expect(result.failedAllocations).toBe(0);
  });
});

describe("the figures do not depend on how a trace is read", () => {
  const strategies = ["tlsf", "first-fit"].filter((name) => strategyNames.includes(name));
  /** The figures of a result, without its timings, its name and what reading found. */
  const figures = (result: ReplayResult) => ({
    ...result,
    trace: "",
    format: undefined,
    summary: undefined,
    seconds: 0,
    replaySeconds: 0,
    opsPerSecond: 0,
    endToEndOpsPerSecond: 0,
  });
  const heapOf = (name: string) => () =>
    createHeap({ strategy: strategyByName(name), size: 1 << 20, maxSize: 1 << 30 });

  it.each(
    strategies.flatMap((name) => [
      [name, "real/gcc-as.rep.gz"],
      [name, "real/sqlite3.mtrace.gz"],
    ]),
  )(
    "%s on %s: from the file, from odd chunks in small batches, and from events in memory",
    async (name, trace) => {
      const file = fixture(trace);
      const whole = await replay(file, heapOf(name));
      // chunks of 777 bytes cut lines (and the .rep header) anywhere; batches of 1000 events end
      // anywhere in a sample's run; events in memory have no header to size the tables from
      const text = gunzipSync(readFileSync(file));
      const chunks = Array.from({ length: Math.ceil(text.length / 777) }, (_, i) =>
        text.subarray(i * 777, (i + 1) * 777),
      );
      const chunked = await replay({ name: trace.replace(/\.gz$/, ""), data: chunks }, heapOf(name), {
        batchSize: 1000,
      });
      const fromEvents = await replay(await events(file), heapOf(name));
      expect(figures(chunked)).toEqual(figures(whole));
      expect(chunked.summary).toEqual(whole.summary);
      // (without a header to space the samples by, events are sampled at other ops: only the figures
      // that do not come from samples compare)
      const unsampled = (result: ReplayResult) => {
        const { ops, allocs, frees, reallocs, peakLiveBytes, peakLiveOp, heapHighWaterBytes } = result;
        const { utilization, fragmentation, failedAllocations } = result;
        return {
          ops,
          allocs,
          frees,
          reallocs,
          peakLiveBytes,
          peakLiveOp,
          heapHighWaterBytes,
          utilization,
          fragmentation,
          failedAllocations,
        };
      };
      expect(unsampled(fromEvents)).toEqual(unsampled(whole));
      expect(whole.ops).toBeGreaterThan(16_000);
      expect(whole.failedAllocations).toBe(0);
    },
    60_000,
  );
});

describe("malLabScore", () => {
  it("weighs utilization 0.6 and throughput 0.4, capped at the reference", () => {
    const results = [
      { ops: 1000, utilization: 0.9, replaySeconds: 0.001 },
      { ops: 3000, utilization: 0.7, replaySeconds: 0.003 },
    ];
    // mean util 0.8; throughput 4000 / 0.004 = 1e6 ops/s
    expect(malLabScore(results, 2e6).score).toBeCloseTo(100 * (0.6 * 0.8 + 0.4 * 0.5), 10);
    expect(malLabScore(results, 5e5).score).toBeCloseTo(100 * (0.6 * 0.8 + 0.4), 10);
    expect(malLabScore(results, 2e6).throughput).toBeCloseTo(1e6, 6);
    expect(() => malLabScore([], 1)).toThrow(RangeError);
    expect(() => malLabScore(results, 0)).toThrow(RangeError);
  });
});
