import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Allocator, HeapStats, TraceEvent } from "@heapkit/contract";
import { readTrace, type TraceSource } from "../src/node.js";

/** The events of the fixtures tiny.rep, tiny.mtrace and tiny.jsonl: peak live 150 bytes after op 2. */
export const TINY_EVENTS: TraceEvent[] = [
  { op: "alloc", id: 0, size: 100 },
  { op: "alloc", id: 1, size: 50 },
  { op: "free", id: 0 },
  { op: "alloc", id: 2, size: 30 },
  { op: "realloc", id: 1, size: 70 },
  { op: "free", id: 1 },
  { op: "free", id: 2 },
];

/** A fixture's path. */
export const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** A fresh temporary directory and a function that removes it. */
export function tempDir(): { dir: string; file: (name: string) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "heapkit-trace-"));
  return {
    dir,
    file: (name) => join(dir, name),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Every event of a trace, as objects. */
export async function events(source: TraceSource, lenient = false): Promise<TraceEvent[]> {
  const all: TraceEvent[] = [];
  for await (const event of readTrace(source, { lenient })) all.push(event);
  return all;
}

/** Reads and returns what the reader threw. */
export async function readError(source: TraceSource): Promise<Error> {
  try {
    await events(source);
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the read to fail");
}

/**
 * A bump allocator: every block goes at the break (8-byte aligned), nothing is reused. Its figures are
 * easy to compute by hand. `overlap` makes it hand out the same address every time (a broken allocator).
 */
export function bumpAllocator(options: { overlap?: boolean } = {}): Allocator {
  const u8 = new Uint8Array(1 << 16);
  const base = 16;
  let brk = base;
  let peak = base;
  let live = 0;
  const sizes = new Map<number, number>();
  const align = (n: number) => (n + 7) & ~7;
  const tryMalloc = (size: number) => {
    const ptr = options.overlap ? base : brk;
    if (!options.overlap || brk === base) brk += align(Math.max(size, 1));
    peak = Math.max(peak, brk);
    sizes.set(ptr, size);
    live += size;
    return ptr;
  };
  const allocator = {
    strategy: options.overlap ? "broken" : "bump",
    align: 8,
    memory: { u8 },
    tryMalloc,
    malloc: tryMalloc,
    free(ptr: number) {
      live -= sizes.get(ptr) ?? 0;
      sizes.delete(ptr);
    },
    realloc(ptr: number, size: number) {
      const old = sizes.get(ptr) ?? 0;
      const moved = tryMalloc(size);
      u8.copyWithin(moved, ptr, ptr + Math.min(old, size));
      allocator.free(ptr);
      return moved;
    },
    stats(): HeapStats {
      return {
        strategy: "bump",
        align: 8,
        liveBlocks: sizes.size,
        liveBytes: live,
        peakLiveBlocks: 0,
        peakLiveBytes: 0,
        heapSize: brk - base,
        peakHeapSize: peak - base,
        capacity: u8.length,
        heapLimit: u8.length - base,
        overheadBytes: 0,
        pointerMapBytes: 0,
        externalFragmentation: 0,
        mallocs: 0,
        frees: 0,
        reallocs: 0,
        failedAllocations: 0,
        freeBlocks: 0,
        freeBytes: brk - base - live,
        largestFreeBlock: 0,
        cachedBlocks: 0,
        cachedBytes: 0,
        attachedWorkers: 0,
        details: {},
      };
    },
    usage() {
      return allocator.stats();
    },
  };
  return allocator as unknown as Allocator;
}
