import { fixedRegion } from "@heapkit/contract/testing";
import { describe, expect, it } from "vitest";
import { firstFit } from "../src/index.js";

const regionOver = (bytes: number) => fixedRegion(new ArrayBuffer(bytes));

describe("first-fit, address-ordered", () => {
  it("takes the lowest-addressed hole that fits, whatever order the holes were freed in", () => {
    const engine = firstFit().create(regionOver(1 << 16));
    const blocks = Array.from({ length: 8 }, (_, i) => engine.malloc(i % 2 === 0 ? 200 : 8));
    for (const i of [6, 2, 4, 0]) engine.free(blocks[i]);
    expect(engine.malloc(150)).toBe(blocks[0]);
    expect(engine.malloc(150)).toBe(blocks[2]);
    engine.check();
  });

  it("skips holes too small, at lower addresses, for the first one that fits", () => {
    const engine = firstFit().create(regionOver(1 << 16));
    const small = engine.malloc(24);
    engine.malloc(8);
    const large = engine.malloc(500);
    engine.malloc(8);
    engine.free(large);
    engine.free(small);
    expect(engine.malloc(100)).toBe(large);
    expect(engine.stats().details.index).toBe("address tree");
  });
});

describe("first-fit, LIFO", () => {
  it("takes the hole freed last among those that fit", () => {
    const engine = firstFit({ order: "lifo" }).create(regionOver(1 << 16));
    const blocks = Array.from({ length: 8 }, () => engine.malloc(64));
    const freed = blocks.filter((_, i) => i % 2 === 0);
    for (const ptr of freed) engine.free(ptr);
    expect(engine.malloc(64)).toBe(freed[freed.length - 1]);
    expect(engine.malloc(64)).toBe(freed[freed.length - 2]);
    engine.check();
  });

  it("is its own strategy name, distinct from the address-ordered one", () => {
    expect(firstFit({ order: "lifo" }).name).toBe("first-fit-lifo");
    expect(firstFit().name).toBe("first-fit");
    expect(firstFit().options).toEqual({ order: "address" });
  });
});

describe("first-fit options", () => {
  it("refuses an order that is neither address nor lifo", () => {
    expect(() => firstFit({ order: "fifo" as "lifo" })).toThrow(RangeError);
    expect(() => firstFit({ order: "fifo" as "lifo" })).toThrow(/"address" or "lifo"/);
  });

  it("refuses to attach to a region formatted by the other order", () => {
    const region = regionOver(1 << 16);
    firstFit({ order: "lifo" }).create(region).malloc(100);
    expect(() => firstFit().attach(region)).toThrow(/not a region formatted by first-fit/);
    expect(() => firstFit({ order: "lifo" }).attach(region)).not.toThrow();
  });
});
