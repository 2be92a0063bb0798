// The playground's model over the real packages, without a browser: the same code the page runs.
import { strategyNames } from "@heapkit/strategies";
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
        const failed = session.stats().failedAllocations;
        if (failed === 0) expect(session.stats().liveBlocks).toBe(0);
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

  it("draws guide pictures step by step", () => {
    const frames = runScript("first-fit", 512, [
      ["two", "m64 m64"],
      ["free", "f1"],
    ]);
    expect(frames.map((f) => f.stats.liveBlocks)).toEqual([2, 1]);
    expect(frames[1].picture.blocks.some((b) => b.state === "free")).toBe(true);
  });
});
