// The free-list and bitmap code every list policy shares, against plain models, over random
// sequences of operations.
import { HeapCorruptionError } from "@heapkit/contract";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BIN_COUNT,
  isBinMarked,
  listBlocks,
  markBin,
  NEXT,
  nextMarkedBin,
  PREV,
  pushFront,
  unlink,
  unmarkBin,
} from "../src/index.js";

const HEAD = 0; // byte offset of the list's head word
const blockAt = (slot: number) => 16 + slot * 16; // 16-byte blocks after the head

describe("free lists", () => {
  it("behave as a LIFO list of distinct blocks, saying when they become empty or stop being so", () => {
    const op = fc.record({ slot: fc.integer({ min: 0, max: 31 }), push: fc.boolean() });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const u32 = new Uint32Array((blockAt(32) + 16) >> 2);
        const model: number[] = [];
        for (const { slot, push } of ops) {
          const block = blockAt(slot);
          const listed = model.includes(block);
          if (push && !listed) {
            expect(pushFront(u32, HEAD, block)).toBe(model.length === 0);
            model.unshift(block);
          } else if (!push && listed) {
            model.splice(model.indexOf(block), 1);
            expect(unlink(u32, HEAD, block)).toBe(model.length === 0);
          }
          expect([...listBlocks(u32, HEAD, 64)]).toEqual(model);
        }
      }),
    );
  });

  it("report a broken prev link as corruption, naming the block", () => {
    const u32 = new Uint32Array(32);
    pushFront(u32, HEAD, 16);
    pushFront(u32, HEAD, 32);
    u32[(16 + PREV) >> 2] = 48;
    expect(() => [...listBlocks(u32, HEAD, 8)]).toThrow(HeapCorruptionError);
  });

  it("stop walking a cyclic list after the limit", () => {
    const u32 = new Uint32Array(32);
    pushFront(u32, HEAD, 16);
    u32[(16 + NEXT) >> 2] = 16; // a cycle whose prev link of 16 reads 0 on the first step only
    u32[(16 + PREV) >> 2] = 0;
    expect(() => [...listBlocks(u32, HEAD, 8)]).toThrow(HeapCorruptionError);
  });
});

describe("the bitmap of non-empty bins", () => {
  it("finds the first marked bin at or after any bin, as a set would", () => {
    const op = fc.record({ bin: fc.integer({ min: 0, max: BIN_COUNT - 1 }), mark: fc.boolean() });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 100 }), fc.integer({ min: 0, max: BIN_COUNT }), (ops, from) => {
        const bitmap = 8; // byte offset, after two other words
        const u32 = new Uint32Array(2 + BIN_COUNT / 32);
        const model = new Set<number>();
        for (const { bin, mark } of ops) {
          if (mark) {
            markBin(u32, bitmap, bin);
            model.add(bin);
          } else {
            unmarkBin(u32, bitmap, bin);
            model.delete(bin);
          }
        }
        for (const bin of [...model].slice(0, 5)) expect(isBinMarked(u32, bitmap, bin)).toBe(true);
        const expected = [...model].filter((b) => b >= from).sort((a, b) => a - b)[0] ?? -1;
        expect(nextMarkedBin(u32, bitmap, from)).toBe(expected);
        expect(u32[0] | u32[1]).toBe(0); // the words before the bitmap are untouched
      }),
    );
  });
});
