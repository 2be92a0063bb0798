/**
 * What one random load costs on this machine, by how much memory the loads are spread over: the
 * yardstick for the scaling rows. An allocator's words per call stay the same from 100 to 100 k
 * live blocks (the words-per-call figures); what grows is the distance between those words, and
 * this is the price of that distance.
 *
 * A pointer chase: one load per 64-byte line, in one random cycle through all the lines, each load's
 * address read by the one before (so no two overlap, as an allocator's header → next header → list
 * neighbour chain does not).
 *
 * @module
 */
import { Rng } from "./rng.js";

/** The spans the bench measures: within L2, about workload W's (6.5 MB), about W-100k's (65 MB). */
export const LATENCY_SPANS = [512 << 10, 8 << 20, 64 << 20];

/** Nanoseconds per dependent random load over `bytes` of memory (the best of three passes). */
export function loadLatencyNs(bytes: number, loads = 2_000_000): number {
  return pointerChase(bytes)(loads);
}

/**
 * A pointer chase over `bytes`, built once (its pages touched outside any timing): the function times
 * `loads` dependent loads, the best of three passes, in nanoseconds per load.
 */
export function pointerChase(bytes: number): (loads: number) => number {
  const lines = bytes >>> 6;
  const wordsPerLine = 16;
  // Sattolo's shuffle: a random permutation that is one single cycle through every line
  const cycle = new Int32Array(lines);
  for (let i = 0; i < lines; i++) cycle[i] = i;
  const rng = new Rng(1);
  for (let i = lines - 1; i > 0; i--) {
    const j = rng.below(i);
    const t = cycle[i];
    cycle[i] = cycle[j];
    cycle[j] = t;
  }
  const next = new Int32Array(lines * wordsPerLine);
  for (let i = 0; i < lines; i++) next[i * wordsPerLine] = cycle[i] * wordsPerLine;
  let at = 0;
  for (let i = 0; i < lines; i++) at = next[at]; // touch every page once, outside the timing
  return (loads) => {
    let best = Number.POSITIVE_INFINITY;
    for (let pass = 0; pass < 3; pass++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < loads; i++) at = next[at];
      best = Math.min(best, Number(process.hrtime.bigint() - t0) / loads);
    }
    if (at < 0) throw new Error("unreachable: keeps the chase from being optimized away");
    return best;
  };
}
