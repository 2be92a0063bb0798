/**
 * `@heapkit/strategies` — every heapkit strategy, and a registry of them by name, for the CLI,
 * the benchmarks, the docs playground and the conformance suite. A new strategy joins everything
 * by one line in {@link strategies}.
 *
 * @packageDocumentation
 */
import type { Strategy } from "@heapkit/contract";
import { bestFit } from "@heapkit/strategy-best-fit";
import { buddy } from "@heapkit/strategy-buddy";
import { firstFit } from "@heapkit/strategy-first-fit";
import { nextFit } from "@heapkit/strategy-next-fit";
import { pymalloc } from "@heapkit/strategy-pymalloc";
import { segregated } from "@heapkit/strategy-segregated";
import { tlsf } from "@heapkit/strategy-tlsf";

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
export const strategyNames: readonly string[] = Object.keys(strategies);

/** The strategy called `name`; throws a `RangeError` listing the names there are. */
export function strategyByName(name: string): Strategy<unknown> {
  const make = Object.hasOwn(strategies, name) ? strategies[name] : undefined;
  if (make === undefined) {
    throw new RangeError(`unknown strategy "${name}": choose one of ${strategyNames.join(", ")}`);
  }
  return make();
}
