import { describe, expect, it } from "vitest";
import {
  alignUp,
  DoubleFreeError,
  HeapCorruptionError,
  HeapError,
  InvalidPointerError,
  InvalidSizeError,
  isPowerOfTwo,
  OutOfMemoryError,
  TraceFormatError,
  UseAfterFreeError,
} from "../src/index.js";

describe("helpers", () => {
  it("aligns up to powers of two", () => {
    expect([0, 1, 8, 9, 15, 16].map((n) => alignUp(n, 8))).toEqual([0, 8, 8, 16, 16, 16]);
  });
  it("tells powers of two", () => {
    expect([1, 2, 8, 4096].every(isPowerOfTwo)).toBe(true);
    expect([0, 3, 12, -8, 0.5].some(isPowerOfTwo)).toBe(false);
  });
});

describe("errors", () => {
  it("carry stable codes and say what went wrong", () => {
    const errors: [HeapError, string, RegExp][] = [
      [new OutOfMemoryError(1024, 768, 260, 1056), "HEAP_OUT_OF_MEMORY", /1024 bytes.*768 bytes free.*260/],
      [new InvalidPointerError("free", 44, "not the start of a block"), "HEAP_INVALID_POINTER", /free\(44\)/],
      [new DoubleFreeError("free", 40), "HEAP_DOUBLE_FREE", /40/],
      [new InvalidSizeError("malloc", "size", -1, 4080), "HEAP_INVALID_SIZE", /malloc.*-1.*4080/],
      [new HeapCorruptionError(128, "footer differs from header"), "HEAP_CORRUPTION", /128.*footer/],
      [new UseAfterFreeError(64, "getRef"), "HEAP_USE_AFTER_FREE", /64/],
      [new TraceFormatError("t.rep", 7, "an op a, r or f"), "TRACE_FORMAT", /t\.rep:7.*an op a, r or f/],
    ];
    for (const [error, code, message] of errors) {
      expect(error).toBeInstanceOf(HeapError);
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
    }
  });
});
