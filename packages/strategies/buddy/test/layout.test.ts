// The arithmetic claims of the header word, asserted as tlsf_static_assert does: each test fails if
// one constant changes without the others.
import { NEXT, PREV } from "@heapkit/boundary-tags";
import { describe, expect, it } from "vitest";
import {
  ALIGN_FIELD,
  ALIGN_SHIFT,
  ASKED,
  alignmentOf,
  BUDDY_ALIGNED,
  BUDDY_INNER,
  BUDDY_TAG,
  BUDDY_USED,
  H_HEADS,
  HEADER_WORDS,
  MAX_ORDER,
  MIN_ORDER,
  ORDER_MASK,
  RESERVED_BITS,
  TAG_MASK,
} from "../src/layout.js";

describe("the buddy header word", () => {
  const fields = { TAG_MASK, ALIGN_FIELD, BUDDY_ALIGNED, BUDDY_INNER, BUDDY_USED, RESERVED_BITS, ORDER_MASK };

  it("has fields that never overlap and together cover all 32 bits", () => {
    const entries = Object.entries(fields);
    for (const [i, [a, maskA]] of entries.entries()) {
      for (const [b, maskB] of entries.slice(i + 1)) expect(maskA & maskB, `${a} & ${b}`).toBe(0);
    }
    expect(entries.reduce((all, [, mask]) => (all | mask) >>> 0, 0)).toBe(0xffff_ffff);
  });

  it("keeps the tag inside the tag bits, and every order up to MAX_ORDER inside the order bits", () => {
    expect((BUDDY_TAG & ~TAG_MASK) >>> 0).toBe(0);
    expect(BUDDY_TAG).not.toBe(0);
    expect(MAX_ORDER & ~ORDER_MASK).toBe(0);
    expect(MAX_ORDER).toBeLessThan(31); // 1 << order stays a positive 32-bit integer
  });

  it("holds the log2 of every alignment a memalign block of at most MAX_ORDER can have", () => {
    expect((MAX_ORDER << ALIGN_SHIFT) & ~ALIGN_FIELD).toBe(0);
    for (let log = MIN_ORDER; log <= MAX_ORDER; log++) {
      expect(alignmentOf(BUDDY_TAG | BUDDY_USED | BUDDY_ALIGNED | (log << ALIGN_SHIFT) | ORDER_MASK)).toBe(
        1 << log,
      );
    }
  });
});

describe("the buddy block", () => {
  it("aliases the asked-bytes word of a used block with the next link of a free one", () => {
    expect(ASKED).toBe(NEXT);
  });

  it("fits a free block's header and both links in the smallest block", () => {
    expect(PREV + 4).toBeLessThanOrEqual(1 << MIN_ORDER);
    expect(1 << MIN_ORDER).toBeGreaterThanOrEqual(8 + 8); // an 8-byte header and a payload of at least 8
  });

  it("has a region header with one list head per order", () => {
    expect(HEADER_WORDS - H_HEADS).toBe(MAX_ORDER + 1);
  });
});
