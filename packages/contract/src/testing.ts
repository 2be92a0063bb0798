/**
 * `@heapkit/contract/testing` — for a strategy's own tests: a region over a plain `ArrayBuffer` that
 * never grows, so an engine can run without `@heapkit/heap` (which tests itself with strategies, so
 * a strategy package cannot depend on it), and a replay that checks the usable bytes an engine
 * reports on the way.
 *
 * @packageDocumentation
 */
import type { Alignment, AllocatorEngine, Memory, Region } from "./allocator.js";

/** A region `[16, brk)` of `buffer`, whose `sbrk` moves the break up to the buffer's end and no further. */
export function fixedRegion(buffer: ArrayBuffer, align: Alignment = 8): Region {
  const memory: Memory = {
    kind: "array-buffer",
    buffer,
    byteLength: buffer.byteLength,
    maxByteLength: buffer.byteLength,
    u8: new Uint8Array(buffer),
    i32: new Int32Array(buffer),
    u32: new Uint32Array(buffer),
    f64: new Float64Array(buffer),
    view: new DataView(buffer),
    grow: () => false,
  };
  let brk = 16;
  return {
    memory,
    base: 16,
    get brk() {
      return brk;
    },
    limit: buffer.byteLength,
    align,
    sbrk(increment: number): number {
      if (brk + increment > buffer.byteLength) return -1;
      brk += increment;
      return brk - increment;
    },
  };
}

/** One step of the sequences {@link replayReportingUsable} replays; `index` picks a live block (modulo their number). */
export type EngineStep =
  | { readonly kind: "malloc"; readonly size: number }
  | { readonly kind: "free"; readonly index: number }
  | { readonly kind: "realloc"; readonly index: number; readonly size: number }
  | { readonly kind: "memalign"; readonly alignment: number; readonly size: number };

/**
 * Replays `steps` on an engine alone, as the heap calls one (realloc never to 0 bytes: the heap frees
 * instead; memalign only past the heap's alignment, which malloc gives), and checks the usable bytes
 * it reports on the way: after every successful malloc, realloc and memalign `lastUsableSize` is what
 * `usableSize` says of the block returned, and every free returns what `usableSize` said before it and
 * leaves `lastUsableSize` as it was. Throws an Error naming the first step that disagrees; ends with
 * the engine's `check()`.
 */
export function replayReportingUsable(
  engine: AllocatorEngine,
  align: Alignment,
  steps: readonly EngineStep[],
): void {
  const live: number[] = [];
  steps.forEach((step, at) => {
    const where = `step ${at} (${step.kind})`;
    if (step.kind === "free") {
      if (live.length === 0) return;
      const [ptr] = live.splice(step.index % live.length, 1);
      const usable = engine.usableSize(ptr);
      const last = engine.lastUsableSize;
      const freed = engine.free(ptr);
      if (freed !== usable)
        throw new Error(`${where}: free(${ptr}) returned ${freed}, usableSize said ${usable}`);
      if (engine.lastUsableSize !== last) throw new Error(`${where}: free(${ptr}) changed lastUsableSize`);
      return;
    }
    let ptr: number;
    if (step.kind === "malloc") ptr = engine.malloc(step.size);
    else if (step.kind === "memalign") ptr = engine.memalign(Math.max(step.alignment, 2 * align), step.size);
    else if (live.length === 0 || step.size === 0) return;
    else {
      const index = step.index % live.length;
      ptr = engine.realloc(live[index], step.size);
      if (ptr !== 0) live.splice(index, 1);
    }
    if (ptr === 0) return;
    const usable = engine.usableSize(ptr);
    if (engine.lastUsableSize !== usable) {
      throw new Error(`${where} → ${ptr}: lastUsableSize ${engine.lastUsableSize}, usableSize ${usable}`);
    }
    live.push(ptr);
  });
  engine.check();
}
