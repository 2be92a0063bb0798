// The block layout's arithmetic claims and the one table of policy ids: each test fails if one
// constant changes without the others.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BIN_COUNT,
  BITMAP_WORDS,
  binFloor,
  binOf,
  blockSizeAt,
  ENGINE_HEADER_BYTES,
  EXACT_LIMIT,
  FLAG_MASK,
  HEADER_BYTES,
  isPrevUsedHeader,
  isUsedHeader,
  LEFT,
  MIN_BLOCK,
  NEXT,
  POLICY_NUMBERS,
  POLICY_OPTION_BITS,
  PREV,
  PREV_USED,
  policyId,
  RIGHT,
  SIZE_MASK,
  sizeOfHeader,
  USED,
} from "../src/index.js";

const LARGEST_BLOCK = 2 ** 31 - 8;

describe("the header word", () => {
  it("splits into flag bits and size bits that never overlap and cover the word", () => {
    expect(FLAG_MASK & SIZE_MASK).toBe(0);
    expect((FLAG_MASK | SIZE_MASK) >>> 0).toBe(0xffff_ffff);
    expect((USED | PREV_USED) & ~FLAG_MASK).toBe(0);
    expect(USED & PREV_USED).toBe(0);
    // sizes are multiples of the smallest alignment (8): their low bits are free for the flags
    expect(FLAG_MASK + 1).toBeLessThanOrEqual(8);
  });

  it("gives back the size and flags it was made of", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: LARGEST_BLOCK >>> 3 }),
        fc.boolean(),
        fc.boolean(),
        (g, used, prev) => {
          const size = g << 3;
          const header = size | (used ? USED : 0) | (prev ? PREV_USED : 0);
          expect(sizeOfHeader(header)).toBe(size);
          expect(isUsedHeader(header)).toBe(used);
          expect(isPrevUsedHeader(header)).toBe(prev);
          const u32 = new Uint32Array(4);
          u32[2] = header;
          expect(blockSizeAt(u32, 8)).toBe(size);
        },
      ),
    );
  });
});

describe("the smallest block", () => {
  it("holds a header, both links of a free list or tree node, and a footer", () => {
    expect(NEXT).toBe(HEADER_BYTES);
    expect(LEFT).toBe(NEXT);
    expect(RIGHT).toBe(PREV);
    expect(Math.max(NEXT, PREV) + 4 + HEADER_BYTES).toBeLessThanOrEqual(MIN_BLOCK);
  });

  it("is a multiple of both alignments", () => {
    expect(MIN_BLOCK % 8).toBe(0);
    expect(MIN_BLOCK % 16).toBe(0);
  });

  it("leaves room in the engine header for the four words format writes", () => {
    expect(ENGINE_HEADER_BYTES).toBe(4 * 4); // magic, align, first block, policy id
  });
});

describe("the size bins", () => {
  it("have a bin for every block size, and a bitmap of whole words", () => {
    expect(binOf(LARGEST_BLOCK)).toBeLessThan(BIN_COUNT);
    expect(BIN_COUNT % 32).toBe(0);
    expect(BITMAP_WORDS * 32).toBe(BIN_COUNT);
    expect(binOf(EXACT_LIMIT - 8)).toBe((EXACT_LIMIT >>> 3) - 1);
  });

  it("put every size in the bin whose floor is at most the size, the next bin's floor above it", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: LARGEST_BLOCK >>> 3 }), (g) => {
        const size = g << 3;
        const bin = binOf(size);
        expect(binFloor(bin)).toBeLessThanOrEqual(size);
        if (bin + 1 < BIN_COUNT && binFloor(bin + 1) > 0) expect(binFloor(bin + 1)).toBeGreaterThan(size);
      }),
    );
  });
});

describe("the policy ids", () => {
  it("give each policy its own number, and each of its options its own id", () => {
    const numbers = Object.values(POLICY_NUMBERS);
    expect(new Set(numbers).size).toBe(numbers.length);
    const names = Object.keys(POLICY_NUMBERS) as (keyof typeof POLICY_NUMBERS)[];
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.constantFrom(...names),
        fc.integer({ min: 0, max: (1 << POLICY_OPTION_BITS) - 1 }),
        fc.integer({ min: 0, max: (1 << POLICY_OPTION_BITS) - 1 }),
        (a, b, x, y) => {
          expect(policyId(a, x) === policyId(b, y)).toBe(a === b && x === y);
          expect(policyId(a, x)).toBeGreaterThan(0);
        },
      ),
    );
  });

  it("refuse options that do not fit their bits", () => {
    expect(() => policyId("tlsf", 1 << POLICY_OPTION_BITS)).toThrow(RangeError);
    expect(() => policyId("tlsf", -1)).toThrow(RangeError);
    expect(() => policyId("tlsf", 1.5)).toThrow(RangeError);
  });
});
