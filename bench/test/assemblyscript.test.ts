import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { buildAssemblyScriptPeer, instantiateAssemblyScriptHeap } from "../src/assemblyscript.js";

const dir = mkdtempSync(join(tmpdir(), "bench-asc-"));
const source = fileURLToPath(new URL("../wasm/assemblyscript-heap.ts", import.meta.url));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the assemblyscript peer", () => {
  it("is built from its source with asc, once, then found in the cache", () => {
    const first = buildAssemblyScriptPeer(source, dir);
    expect(first.message).toMatch(/^built with asc 0\.28\./);
    expect(first.wasm).not.toBeNull();
    expect(buildAssemblyScriptPeer(source, dir)).toEqual({ wasm: first.wasm, message: "cached" });
  }, 120_000);

  it("hands out aligned blocks that never overlap, over any sequence of alloc, free and realloc", () => {
    const built = buildAssemblyScriptPeer(source, dir);
    const module = new WebAssembly.Module(readFileSync(built.wasm as string));
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.constantFrom("alloc", "free", "realloc"), fc.integer({ min: 1, max: 5000 }), fc.nat()),
          {
            maxLength: 200,
          },
        ),
        (steps) => {
          const heap = instantiateAssemblyScriptHeap(
            module,
            new WebAssembly.Memory({ initial: 1, maximum: 256 }),
          );
          const live = new Map<number, number>();
          for (const [op, size, pick] of steps) {
            const ptrs = [...live.keys()];
            if (op === "alloc" || ptrs.length === 0) live.set(heap.alloc(size), size);
            else if (op === "free") {
              heap.free(ptrs[pick % ptrs.length]);
              live.delete(ptrs[pick % ptrs.length]);
            } else {
              const old = ptrs[pick % ptrs.length];
              live.delete(old);
              live.set(heap.realloc(old, size), size);
            }
            const blocks = [...live].sort((a, b) => a[0] - b[0]);
            for (let i = 0; i < blocks.length; i++) {
              expect(blocks[i][0] % 16).toBe(0);
              if (i > 0) expect(blocks[i - 1][0] + blocks[i - 1][1]).toBeLessThanOrEqual(blocks[i][0]);
            }
          }
        },
      ),
      { numRuns: 30 },
    );
  }, 120_000);

  it("formats a new heap when a fresh instance opens the same memory", () => {
    const built = buildAssemblyScriptPeer(source, dir);
    const module = new WebAssembly.Module(readFileSync(built.wasm as string));
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 256 });
    const first = instantiateAssemblyScriptHeap(module, memory).alloc(100);
    const again = instantiateAssemblyScriptHeap(module, memory).alloc(100);
    expect(again).toBe(first);
  }, 120_000);
});
