/**
 * Three handles on one shared heap in one thread — the creator and two attachments, each with its
 * own worker slot and front cache — driven by fast-check through arbitrary interleavings of
 * malloc, free, realloc, flushCache, detach-and-attach-again and frees of pointers that are not
 * live. Run in one thread the interleavings are exact and shrink to a minimal failing sequence;
 * the worker tests cover true parallelism. A model holds the live blocks and their patterns.
 */
import { DoubleFreeError, InvalidPointerError } from "@heapkit/contract";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { attachHeap, createSharedHeap } from "../../src/index.js";
import { fillPattern, findPatternMismatch } from "./protocol.js";
import { strategyByName, strategyNames } from "./registry.js";

type SharedHeap = ReturnType<typeof createSharedHeap>;

type Command =
  | { kind: "malloc"; by: number; size: number }
  | { kind: "free"; by: number; pick: number }
  | { kind: "realloc"; by: number; pick: number; size: number }
  | { kind: "flush"; by: number }
  | { kind: "reattach"; by: number }
  | { kind: "freeDead"; by: number; pick: number };

const HANDLES = 3;
const by = fc.integer({ min: 0, max: HANDLES - 1 });
// mostly sizes the front cache takes (payloads under 512 bytes), some beyond it
const size = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 500 }) },
  { weight: 1, arbitrary: fc.integer({ min: 501, max: 5000 }) },
);
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("malloc" as const), by, size }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("free" as const), by, pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("realloc" as const), by, pick: fc.nat(), size }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("flush" as const), by }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("reattach" as const),
      by: fc.integer({ min: 1, max: HANDLES - 1 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("freeDead" as const), by, pick: fc.nat() }) },
);

interface LiveBlock {
  size: number;
  seq: number;
}

function run(name: string, commands: Command[]): void {
  const creator = createSharedHeap({
    strategy: strategyByName(name),
    size: 256 << 10,
    maxSize: 64 << 20,
    cache: true,
  });
  const buffer = creator.memory.buffer as SharedArrayBuffer;
  const attach = (): SharedHeap => attachHeap(buffer, { strategy: strategyByName(name) });
  const handles: SharedHeap[] = [creator, attach(), attach()];
  const live = new Map<number, LiveBlock>();
  const dead: number[] = [];
  let nextSeq = 1;
  const bytes = (): Uint8Array => new Uint8Array(buffer, 0, buffer.byteLength);
  const pick = (n: number): number => [...live.keys()][n % live.size];
  const verify = (ptr: number, length: number, seq: number, when: string): void => {
    const at = findPatternMismatch(bytes(), ptr, length, seq);
    if (at >= 0) throw new Error(`${when}: block ${ptr} overwritten at byte ${at}`);
  };

  commands.forEach((c, step) => {
    const heap = handles[c.by];
    const when = `step ${step} (${JSON.stringify(c)})`;
    switch (c.kind) {
      case "malloc": {
        const ptr = heap.malloc(c.size);
        if (live.has(ptr)) throw new Error(`${when}: ${ptr} is live already`);
        const seq = nextSeq++;
        fillPattern(bytes(), ptr, c.size, seq);
        live.set(ptr, { size: c.size, seq });
        break;
      }
      case "free": {
        if (live.size === 0) return;
        const ptr = pick(c.pick);
        const block = live.get(ptr) as LiveBlock;
        verify(ptr, block.size, block.seq, when);
        heap.free(ptr);
        live.delete(ptr);
        dead.push(ptr);
        break;
      }
      case "realloc": {
        if (live.size === 0) return;
        const old = pick(c.pick);
        const block = live.get(old) as LiveBlock;
        verify(old, block.size, block.seq, when);
        const ptr = heap.realloc(old, c.size);
        live.delete(old);
        if (c.size === 0) {
          // realloc to 0 frees, as glibc's does
          expect(ptr, `${when}: realloc to 0`).toBe(0);
          dead.push(old);
          break;
        }
        verify(ptr, Math.min(block.size, c.size), block.seq, when);
        if (ptr !== old) dead.push(old);
        const seq = nextSeq++;
        fillPattern(bytes(), ptr, c.size, seq);
        live.set(ptr, { size: c.size, seq });
        break;
      }
      case "flush":
        heap.flushCache();
        break;
      case "reattach":
        heap.detach();
        expect(() => heap.malloc(8), `${when}: a detached handle`).toThrow();
        handles[c.by] = attach();
        break;
      case "freeDead": {
        const candidates = dead.filter((ptr) => !live.has(ptr));
        if (candidates.length === 0) return;
        const ptr = candidates[c.pick % candidates.length];
        const before = creator.stats();
        let thrown: unknown;
        try {
          heap.free(ptr);
        } catch (error) {
          thrown = error;
        }
        if (!(thrown instanceof DoubleFreeError || thrown instanceof InvalidPointerError)) {
          throw new Error(`${when}: free of ${ptr}, not live, gave ${String(thrown)}`);
        }
        const after = creator.stats();
        expect([after.liveBlocks, after.liveBytes, after.cachedBlocks, after.freeBytes]).toEqual([
          before.liveBlocks,
          before.liveBytes,
          before.cachedBlocks,
          before.freeBytes,
        ]);
        break;
      }
    }
    expect(creator.stats().liveBlocks, `${when}: live blocks`).toBe(live.size);
  });

  creator.check();
  const used = new Set<number>();
  for (const block of creator.blocks()) if (block.state === "used") used.add(block.ptr);
  expect([...used].sort((a, b) => a - b)).toEqual([...live.keys()].sort((a, b) => a - b));
  for (const [ptr, block] of live) {
    verify(ptr, block.size, block.seq, "at the end");
    handles[ptr % HANDLES].free(ptr);
  }
  handles[1].detach();
  handles[2].detach();
  creator.flushCache();
  creator.check();
  const stats = creator.stats();
  expect([stats.liveBlocks, stats.cachedBlocks, stats.attachedWorkers]).toEqual([0, 0, 1]);
}

describe("interleavings of three handles on one shared heap (fast-check)", () => {
  it.each(strategyNames)(
    "%s: the model's blocks and the heap's agree after every step",
    (name) => {
      fc.assert(
        fc.property(fc.array(command, { maxLength: 150 }), (commands) => run(name, commands)),
        { numRuns: 60 },
      );
    },
    30_000,
  );
});
