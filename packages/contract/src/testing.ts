/**
 * `@heapkit/contract/testing` — for a strategy's own tests: a region over a plain `ArrayBuffer` that
 * never grows, so an engine can run without `@heapkit/heap` (which tests itself with strategies, so
 * a strategy package cannot depend on it).
 *
 * @packageDocumentation
 */
import type { Alignment, Memory, Region } from "./allocator.js";

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
