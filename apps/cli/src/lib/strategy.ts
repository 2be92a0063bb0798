/**
 * The CLI's one reading of strategy names: every `--strategy` and `--strategies` option goes through
 * {@link strategyNamed}, so an unknown name is a usage error (exit 2) listing the names, everywhere.
 *
 * @module
 */
import type { Strategy } from "@heapkit/contract";
import { strategyByName, strategyNames } from "@heapkit/strategies";
import { UsageError } from "../io.js";

/** The registered strategy called `name`, or a {@link UsageError} listing the names. */
export function strategyNamed(name: string): Strategy<unknown> {
  try {
    return strategyByName(name);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** `name` if a strategy is registered under it, else a {@link UsageError} listing the names. */
export function parseStrategyName(name: string): string {
  strategyNamed(name);
  return name;
}

/** Parses `--strategies a,b|all`: the names in the order given, each once. */
export function parseStrategyList(value: string | undefined): string[] {
  if (value === undefined || value === "all") return [...strategyNames];
  const names = value
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  if (names.length === 0) throw new UsageError(`--strategies expects names separated by commas, or "all"`);
  return [...new Set(names.map(parseStrategyName))];
}
