/**
 * The CS:APP malloc-lab score over a set of traces.
 *
 * @module
 */
import type { ReplayResult } from "./replay.js";

/** The malloc-lab score and what it is made of. */
export interface MalLabScore {
  /** 100 × (0.6 × mean utilization + 0.4 × min(1, throughput / reference)), from 0 to 100. */
  score: number;
  /** The mean utilization over the traces. */
  meanUtilization: number;
  /** Total ops / total replay seconds over the traces (malloc-lab's average throughput). */
  throughput: number;
  /** The throughput the score compares against, in ops per second. */
  referenceOpsPerSecond: number;
  /** The number of traces. */
  traces: number;
}

/** Weight of utilization in the score (malloc-lab's `UTIL_WEIGHT`). */
export const UTIL_WEIGHT = 0.6;

/**
 * The malloc-lab performance index over one strategy's results on a set of traces:
 * `100 × (0.6 × mean utilization + 0.4 × min(1, throughput / referenceOpsPerSecond))`, where the
 * throughput is all the ops over all the replay seconds. Throws a `RangeError` for no results or a
 * reference that is not a positive number.
 */
export function malLabScore(
  results: readonly Pick<ReplayResult, "ops" | "utilization" | "replaySeconds">[],
  referenceOpsPerSecond: number,
): MalLabScore {
  if (results.length === 0) throw new RangeError("malLabScore needs at least one result");
  if (!(referenceOpsPerSecond > 0) || !Number.isFinite(referenceOpsPerSecond)) {
    throw new RangeError(`the reference throughput must be a positive number, not ${referenceOpsPerSecond}`);
  }
  let utilization = 0;
  let ops = 0;
  let seconds = 0;
  for (const result of results) {
    utilization += result.utilization;
    ops += result.ops;
    seconds += result.replaySeconds;
  }
  const meanUtilization = utilization / results.length;
  const throughput = seconds > 0 ? ops / seconds : Number.POSITIVE_INFINITY;
  const score =
    100 *
    (UTIL_WEIGHT * meanUtilization + (1 - UTIL_WEIGHT) * Math.min(1, throughput / referenceOpsPerSecond));
  return { score, meanUtilization, throughput, referenceOpsPerSecond, traces: results.length };
}
