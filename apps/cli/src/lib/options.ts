/**
 * Parsers of option values. Each names its option, the range it accepts and the value exactly as the
 * user typed it, and throws a {@link UsageError} (exit 2).
 *
 * @module
 */
import type { Command } from "commander";
import { UsageError } from "../io.js";
import { formatBytes } from "./format.js";

/** Parses a whole non-negative integer option, or throws a {@link UsageError} naming the option. */
export function parseCount(option: string, value: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new UsageError(`${option} expects a whole number from ${min} to ${max}, got "${value}"`);
  }
  return parsed;
}

/** The default limit of a replay heap: 1 GiB. */
export const DEFAULT_MAX_HEAP = 1 << 30;
/** The smallest `--max-heap`: one page. */
export const MIN_MAX_HEAP = 4096;
/** The largest `--max-heap`: just under 2 GiB, so that every pointer fits the replay's Int32Array of pointers. */
export const MAX_MAX_HEAP = 0x7fff_0000;

const BYTE_SCALES = { "": 1, k: 1024, m: 1 << 20, g: 1 << 30 } as const;

/** Parses `--max-heap BYTES` (suffixes k, m, g, optionally followed by `i`, `b` or `ib`). */
export function parseMaxHeap(value: string | undefined): number {
  if (value === undefined) return DEFAULT_MAX_HEAP;
  const match = /^(\d+)([kmg]?)i?b?$/i.exec(value.trim());
  const bytes =
    match === null
      ? Number.NaN
      : Number(match[1]) * BYTE_SCALES[match[2].toLowerCase() as keyof typeof BYTE_SCALES];
  if (!(bytes >= MIN_MAX_HEAP && bytes <= MAX_MAX_HEAP)) {
    throw new UsageError(
      `--max-heap expects bytes from ${MIN_MAX_HEAP} (4k) to ${MAX_MAX_HEAP} (about ${formatBytes(MAX_MAX_HEAP)}), ` +
        `like 268435456, 256m or 1g, got "${value}"`,
    );
  }
  return bytes;
}

/** Where `--at` stops a replay: after a number of ops, at the peak of live bytes, or at the end. */
export type StopPoint = number | "peak" | "end";

/** Parses `--at OP|peak|end`. */
export function parseAt(value: string): StopPoint {
  if (value === "peak" || value === "end") return value;
  const ops = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(ops)) {
    throw new UsageError(
      `--at expects a whole number of ops, "peak" (the most live bytes) or "end", got "${value}"`,
    );
  }
  return ops;
}

/** What `--cache` / `--no-cache` asked of the heap's front cache, as JSON output records it. */
export type CacheChoice = "on" | "off" | "default";

/**
 * Adds `--cache` and `--no-cache` to a command that makes heaps: they set `createHeap`'s `cache` option
 * (true, false); with neither, the heap's own default holds (off for a heap of one thread). Commander
 * leaves the value undefined when neither is given, since both are declared.
 */
export function addCacheOptions(command: Command): Command {
  return command
    .option("--cache", "keep small freed blocks in the heap's front cache (default: the heap's own choice)")
    .option("--no-cache", "no front cache: every call goes to the strategy");
}

/** The JSON name of a `--cache` / `--no-cache` value. */
export function cacheChoice(cache: boolean | undefined): CacheChoice {
  return cache === undefined ? "default" : cache ? "on" : "off";
}
