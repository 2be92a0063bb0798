// TLSF's arithmetic claims, asserted as tlsf_static_assert does in the reference implementation:
// each test fails if one constant changes without the others.
import { ENGINE_HEADER_BYTES, HEADER_BYTES } from "@heapkit/boundary-tags";
import { createHeap } from "@heapkit/heap";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  FL_COUNT,
  flOf,
  GRANULE_LOG,
  mappingInsert,
  mappingSearch,
  metadataBytes,
  packClass,
  SL_BITS,
  SL_COUNT_MAX,
  slOf,
  tlsf,
} from "../src/index.js";

const LARGEST_BLOCK = 2 ** 31 - 8;
const slLogs = [1, 2, 3, 4, 5];

describe("TLSF's constants", () => {
  it("keep the FL bitmap in one word, and an SL bitmap in one word", () => {
    expect(FL_COUNT).toBeLessThanOrEqual(32);
    expect(SL_COUNT_MAX).toBe(1 << SL_BITS);
    expect(SL_COUNT_MAX).toBeLessThanOrEqual(32);
    expect(1 << Math.max(...slLogs)).toBeLessThanOrEqual(SL_COUNT_MAX);
  });

  it("have enough first-level classes for every block size, with every SL count", () => {
    for (const slLog of slLogs) {
      expect(flOf(mappingInsert(LARGEST_BLOCK, slLog))).toBeLessThan(FL_COUNT);
      expect(flOf(mappingInsert(1 << GRANULE_LOG, slLog))).toBe(0);
    }
  });

  it("pack every class into fl and sl fields that do not overlap", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...slLogs),
        fc.integer({ min: 2, max: LARGEST_BLOCK >>> 3 }),
        (slLog, granules) => {
          const mapping = mappingInsert(granules << 3, slLog);
          expect(slOf(mapping)).toBeLessThan(1 << slLog);
          expect(flOf(mapping)).toBeLessThan(FL_COUNT);
          expect(packClass(flOf(mapping), slOf(mapping))).toBe(mapping);
          const search = mappingSearch(granules << 3, slLog);
          if (search >= 0) expect(search).toBeGreaterThanOrEqual(mapping);
        },
      ),
    );
  });

  it("size the metadata as the engine lays it out: the first block follows it", () => {
    for (const secondLevel of [2, 4, 8, 16, 32] as const) {
      const heap = createHeap({ strategy: tlsf({ secondLevel }) });
      const meta = heap.blocks().next().value;
      const before = ENGINE_HEADER_BYTES + metadataBytes(secondLevel);
      // the first block's header is placed so that its payload is aligned: at most align − 4 more
      expect(meta?.size).toBeGreaterThanOrEqual(before);
      expect(meta?.size).toBeLessThan(before + 8 + HEADER_BYTES);
    }
  });
});
