import type { Strategy } from "@heapkit/contract";
import { fixedRegion } from "@heapkit/contract/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  firstFit,
  pymalloc,
  segregated,
  strategies,
  strategyByName,
  strategyDescriptor,
  strategyFromDescriptor,
  strategyNames,
  tlsf,
} from "../src/index.js";

const regionOver = fixedRegion;

/** What JSON keeps of a strategy's options: the form a descriptor holds. */
const asJson = (strategy: Strategy<unknown>) => JSON.parse(JSON.stringify(strategy.options));

describe("the registry", () => {
  it("lists every strategy once, in the order of its table, each made under its own name", () => {
    expect(strategyNames).toEqual(Object.keys(strategies));
    expect(new Set(strategyNames).size).toBe(strategyNames.length);
    for (const name of strategyNames) expect(strategyByName(name).name).toBe(name);
  });

  it("refuses an unknown name, listing the names there are", () => {
    expect(() => strategyByName("worst-fit")).toThrow(RangeError);
    expect(() => strategyByName("worst-fit")).toThrow(strategyNames.join(", "));
    expect(() => strategyByName("toString")).toThrow(RangeError);
  });
});

describe("strategyFromDescriptor", () => {
  it("rebuilds every registered strategy from its options as JSON gives them", () => {
    for (const name of strategyNames) {
      const original = strategyByName(name);
      const descriptor = JSON.parse(JSON.stringify({ name: original.name, options: original.options }));
      const rebuilt = strategyFromDescriptor(descriptor);
      expect(rebuilt.name).toBe(original.name);
      expect(asJson(rebuilt)).toEqual(asJson(original));
    }
  });

  it("rebuilds a strategy that attaches to a region its original formatted", () => {
    for (const name of strategyNames) {
      const original = strategyByName(name);
      const region = regionOver(new ArrayBuffer(4 << 20));
      const engine = original.create(region);
      const ptr = engine.malloc(100);
      const rebuilt = strategyFromDescriptor(strategyDescriptor(original));
      const attached = rebuilt.attach(region);
      expect(attached.usableSize(ptr)).toBe(engine.usableSize(ptr));
      attached.free(ptr);
      attached.check();
    }
  });

  it("makes engines that keep their state in the region only: two over one region take turns", () => {
    // a shared heap attaches one engine per worker to the same region; an engine that kept state in
    // a JS field would give the other engine a stale view
    const turns = fc.array(
      fc.record({ engine: fc.boolean(), size: fc.integer({ min: 0, max: 3000 }), free: fc.boolean() }),
      {
        maxLength: 80,
      },
    );
    for (const name of strategyNames) {
      fc.assert(
        fc.property(turns, (steps) => {
          const region = regionOver(new ArrayBuffer(4 << 20));
          const engines = [strategyByName(name).create(region)];
          engines.push(strategyFromDescriptor(strategyDescriptor(strategyByName(name))).attach(region));
          const live: number[] = [];
          for (const step of steps) {
            const engine = engines[step.engine ? 1 : 0];
            if (step.free && live.length > 0) engine.free(live.splice(step.size % live.length, 1)[0]);
            else if (step.size > 0) live.push(engine.malloc(step.size));
          }
          engines[0].check();
          engines[1].check();
          expect(new Set(live).size).toBe(live.length);
        }),
        { numRuns: 20 },
      );
    }
  }, 60_000);

  it("keeps non-default options, pymalloc's fallback included", () => {
    const fallbackNames = strategyNames.filter((name) => name !== "pymalloc");
    const anyStrategy = fc.oneof(
      fc.record({ secondLevel: fc.constantFrom(2, 4, 8, 16, 32), probe: fc.boolean() }).map((o) => tlsf(o)),
      fc.integer({ min: 1, max: 255 }).map((scan) => segregated({ scan })),
      fc.constantFrom("address", "lifo").map((order) => firstFit({ order: order as "address" | "lifo" })),
      fc.constantFrom(...fallbackNames).map(strategyByName),
    );
    const withPymalloc = fc.oneof(
      anyStrategy,
      fc
        .record({
          fallback: anyStrategy,
          poolBits: fc.integer({ min: 12, max: 15 }),
          pools: fc.integer({ min: 1, max: 6 }),
        })
        .map(({ fallback, poolBits, pools }) =>
          pymalloc({ fallback, poolSize: 1 << poolBits, arenaSize: 1 << (poolBits + pools) }),
        ),
    );
    fc.assert(
      fc.property(withPymalloc, (original) => {
        const descriptor = JSON.parse(JSON.stringify(strategyDescriptor(original)));
        const rebuilt = strategyFromDescriptor(descriptor);
        expect(rebuilt.name).toBe(original.name);
        expect(asJson(rebuilt)).toEqual(asJson(original));
        expect(rebuilt.description).toBe(original.description);
      }),
    );
  });

  it("describes pymalloc's fallback as a descriptor of its own", () => {
    const descriptor = strategyDescriptor(pymalloc({ fallback: tlsf({ secondLevel: 8 }) }));
    expect(descriptor.options.fallback).toEqual({ name: "tlsf", options: { secondLevel: 8, probe: true } });
  });

  it("refuses unknown names and options, and options the name cannot have", () => {
    expect(() => strategyFromDescriptor({ name: "worst-fit", options: {} })).toThrow(/unknown strategy/);
    expect(() => strategyFromDescriptor({ name: "tlsf", options: { secondLevel: 32, colour: 1 } })).toThrow(
      /unknown option "colour"/,
    );
    expect(() => strategyFromDescriptor({ name: "buddy", options: { order: 3 } })).toThrow(/no options/);
    expect(() => strategyFromDescriptor({ name: "tlsf", options: { secondLevel: 3 } })).toThrow(RangeError);
    expect(() => strategyFromDescriptor({ name: "first-fit", options: { order: "lifo" } })).toThrow(
      /make first-fit-lifo instead/,
    );
    expect(() => strategyFromDescriptor({ name: "pymalloc", options: { fallback: "tlsf" } })).toThrow(
      /descriptor/,
    );
    expect(() =>
      strategyFromDescriptor({ name: "tlsf", options: null as unknown as Record<string, unknown> }),
    ).toThrow(/must be an object/);
  });
});
