// The playground's model over the real packages, without a browser: the same code the page runs.
import { strategyNames } from "@heapkit/strategies";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { makeHeap, runScript, Session } from "../.vitepress/theme/playground-model.js";
import { builtinTraces } from "../.vitepress/theme/traces.gen.js";

describe("playground model", () => {
  it("gives every strategy the same room for blocks, on top of its own metadata", () => {
    for (const name of strategyNames) {
      const heap = makeHeap(name, 4096);
      expect(heap.stats().heapLimit).toBeGreaterThanOrEqual(4096);
    }
  });

  it("replays the seed program to the toy's Out of memory", () => {
    const session = new Session("first-fit", 1024);
    const seed = builtinTraces.find((t) => t.name === "seed");
    expect(seed).toBeDefined();
    if (seed === undefined) return;
    session.load(seed);
    while (session.step()) {}
    const last = session.log[session.log.length - 1];
    expect(last.error).toBe(true);
    expect(last.text).toContain("HEAP_OUT_OF_MEMORY");
    expect(session.stats().liveBlocks).toBe(1);
  });

  it("replays every built-in trace on every strategy, ending with an empty heap when nothing failed", () => {
    for (const trace of builtinTraces) {
      for (const name of strategyNames) {
        const session = new Session(name, trace.heapBytes);
        session.load(trace);
        while (session.step()) {}
        session.heap.check();
        if (session.failedAllocations === 0) expect(session.stats().liveBlocks).toBe(0);
      }
    }
  });

  it("reads typed commands and logs bad ones and refused frees with their codes", () => {
    const session = new Session("best-fit", 4096);
    expect(session.command("malloc 100")).toBe(true);
    const ptr = [...session.live.values()][0].ptr;
    expect(session.command(`free ${ptr}`)).toBe(true);
    expect(session.stats().liveBlocks).toBe(0);
    session.command(`f ${ptr}`);
    expect(session.log[session.log.length - 1].text).toContain("HEAP_DOUBLE_FREE");
    expect(session.command("malloc lots")).toBe(false);
    session.command("m -5");
    expect(session.log[session.log.length - 1].error).toBe(true);
    const p = session.malloc(10);
    expect(session.realloc(p, 500)).toBeGreaterThan(0);
  });

  it("counts every refused malloc as a failed allocation: no room, and beyond the heap's limit", () => {
    const session = new Session("first-fit", 1024);
    expect(session.malloc(1_000_000)).toBe(0); // beyond the limit: InvalidSizeError
    expect(session.log[session.log.length - 1].text).toContain("HEAP_INVALID_SIZE");
    expect(session.malloc(600)).toBeGreaterThan(0);
    expect(session.malloc(600)).toBe(0); // fits the limit, but not beside the first block
    expect(session.log[session.log.length - 1].text).toContain("HEAP_OUT_OF_MEMORY");
    const ptr = [...session.live.values()][0].ptr;
    expect(session.realloc(ptr, 1_000_000)).toBe(0);
    expect(session.failedAllocations).toBe(3);
    session.free(ptr + 8); // a refused free is not an allocation
    expect(session.failedAllocations).toBe(3);
    session.reset();
    expect(session.failedAllocations).toBe(0);
  });

  it("counts as failed exactly the mallocs that returned no block, over any sequence", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...strategyNames),
        fc.array(fc.oneof(fc.integer({ min: 1, max: 3000 }), fc.constant("free" as const)), {
          maxLength: 40,
        }),
        (strategy, calls) => {
          const session = new Session(strategy, 4096);
          let refused = 0;
          for (const call of calls) {
            if (call === "free") {
              const first = session.live.values().next();
              if (!first.done) session.free(first.value.ptr);
            } else if (session.malloc(call) === 0) {
              refused++;
            }
          }
          expect(session.failedAllocations).toBe(refused);
          expect(session.stats().liveBlocks).toBe(session.live.size);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("draws guide pictures step by step", () => {
    const frames = runScript("first-fit", 512, [
      ["two", "m64 m64"],
      ["free", "f1"],
    ]);
    expect(frames.map((f) => f.stats.liveBlocks)).toEqual([2, 1]);
    expect(frames[1].picture.blocks.some((b) => b.state === "free")).toBe(true);
  });
});
