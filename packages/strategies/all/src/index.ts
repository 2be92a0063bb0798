/**
 * `@heapkit/strategies` — every heapkit strategy, and a registry of them by name, for the CLI,
 * the benchmarks, the docs playground and the conformance suite. A new strategy joins everything
 * by one line in {@link strategies} and one in the table of strategies rebuilt from their options.
 *
 * Nothing here runs at module load (the tables are object literals of functions, the name list is
 * marked pure), so a bundler that imports `tlsf` from this package keeps tlsf alone.
 *
 * @packageDocumentation
 */
import { describeStrategy, type Strategy, type StrategyDescriptor } from "@heapkit/contract";
import { bestFit } from "@heapkit/strategy-best-fit";
import { buddy } from "@heapkit/strategy-buddy";
import { type FirstFitOptions, firstFit } from "@heapkit/strategy-first-fit";
import { nextFit } from "@heapkit/strategy-next-fit";
import { type PymallocOptions, pymalloc } from "@heapkit/strategy-pymalloc";
import { type SegregatedOptions, segregated } from "@heapkit/strategy-segregated";
import { type TlsfOptions, tlsf } from "@heapkit/strategy-tlsf";

export { bestFit, buddy, firstFit, nextFit, pymalloc, segregated, tlsf };

/** Makes a strategy with its default options. */
export type StrategyMaker = () => Strategy<unknown>;

/** Every strategy by name, with its default options. */
export const strategies: Readonly<Record<string, StrategyMaker>> = {
  "first-fit": () => firstFit(),
  "first-fit-lifo": () => firstFit({ order: "lifo" }),
  "next-fit": () => nextFit(),
  "best-fit": () => bestFit(),
  segregated: () => segregated(),
  tlsf: () => tlsf(),
  buddy: () => buddy(),
  pymalloc: () => pymalloc({ fallback: tlsf() }),
};

/** The names of every strategy, in the registry's order. */
export const strategyNames: readonly string[] = /* @__PURE__ */ Object.keys(strategies);

/** The strategy called `name`; throws a `RangeError` listing the names there are. */
export function strategyByName(name: string): Strategy<unknown> {
  const make = Object.hasOwn(strategies, name) ? strategies[name] : undefined;
  if (make === undefined) throw unknownStrategy(name);
  return make();
}

/** Options as a descriptor holds them, typed as the strategy's own: its factory checks every value. */
type Described<Options> = Partial<Options> & Record<string, unknown>;

/** Every strategy by name, rebuilt from the options of its descriptor. */
const rebuilders: Readonly<Record<string, (options: Record<string, unknown>) => Strategy<unknown>>> = {
  "first-fit": (options) => firstFit(options as Described<FirstFitOptions>),
  "first-fit-lifo": (options) => firstFit(options as Described<FirstFitOptions>),
  "next-fit": () => nextFit(),
  "best-fit": () => bestFit(),
  segregated: (options) => segregated(options as Described<SegregatedOptions>),
  tlsf: (options) => tlsf(options as Described<TlsfOptions>),
  buddy: () => buddy(),
  pymalloc: (options) => {
    const { fallback, ...rest } = options as Described<Omit<PymallocOptions, "fallback">>;
    if (!isDescriptor(fallback)) {
      throw new RangeError(
        `pymalloc: options.fallback must be a strategy descriptor {name, options}, got ${JSON.stringify(fallback)}`,
      );
    }
    return pymalloc({ ...rest, fallback: strategyFromDescriptor(fallback) });
  },
};

/** The descriptor of `strategy`: what a shared heap stores so another worker can rebuild it. */
export const strategyDescriptor: (strategy: Strategy<unknown>) => StrategyDescriptor = describeStrategy;

/**
 * Rebuilds the strategy a descriptor names, from its options as `JSON.parse(JSON.stringify(strategy.options))`
 * gives them; a strategy among the options (pymalloc's `fallback`) is itself a descriptor.
 * Throws a `RangeError` for an unknown name, an option the strategy does not have, or a value its
 * factory refuses.
 */
export function strategyFromDescriptor(descriptor: StrategyDescriptor): Strategy<unknown> {
  const { name, options } = descriptor;
  const rebuild = Object.hasOwn(rebuilders, name) ? rebuilders[name] : undefined;
  if (rebuild === undefined) throw unknownStrategy(name);
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new RangeError(`${name}: a descriptor's options must be an object, got ${JSON.stringify(options)}`);
  }
  const strategy = rebuild(options);
  if (strategy.name !== name) {
    throw new RangeError(`${name}: the descriptor's options make ${strategy.name} instead`);
  }
  const known = Object.keys(strategy.options as object);
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new RangeError(
        `${name}: unknown option "${key}" in a descriptor: ${name} takes ${known.length === 0 ? "no options" : known.join(", ")}`,
      );
    }
  }
  return strategy;
}

function isDescriptor(value: unknown): value is StrategyDescriptor {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as StrategyDescriptor).name === "string" &&
    typeof (value as StrategyDescriptor).options === "object"
  );
}

function unknownStrategy(name: string): RangeError {
  return new RangeError(`unknown strategy "${name}": choose one of ${strategyNames.join(", ")}`);
}
