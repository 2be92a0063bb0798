/**
 * W's generator: random workloads with a capped live set, sizes log-uniform, random frees.
 *
 * @module
 */
import { Rng } from "./rng.js";
import { OP_ALLOC, OP_FREE, type Workload } from "./workload-format.js";

/** Options of {@link generateRandom}. */
export interface RandomWorkloadOptions {
  /** Its name. */
  name: string;
  /** Operations in all (even; allocations and frees each count one). */
  ops: number;
  /** The most blocks live at once. */
  maxLive: number;
  /** Seed of the generator. */
  seed: number;
  /** Smallest request (default 8). */
  minSize?: number;
  /** Largest request (default 4096). */
  maxSize?: number;
  /** Chance of an allocation while below the cap (default 0.75: the live set fills at +0.5 per op). */
  allocChance?: number;
}

/**
 * Workload W and its variants: sizes log-uniform in [minSize, maxSize], allocations with chance
 * `allocChance` while fewer than `maxLive` blocks are live, otherwise a free of a uniformly random
 * live block. Once the live set reaches the cap it stays there (a free, then a new block), so most
 * of the run measures the cost at `maxLive` live blocks. It ends by freeing every block still live, in
 * random order, so the total is exactly `ops` and the heap ends empty.
 */
export function generateRandom(options: RandomWorkloadOptions): Workload {
  const total = options.ops - (options.ops & 1);
  const cap = options.maxLive;
  const minSize = options.minSize ?? 8;
  const maxSize = options.maxSize ?? 4096;
  const chance = options.allocChance ?? 0.75;
  const logRange = Math.log(maxSize / minSize);
  const rng = new Rng(options.seed);
  const ops = new Int32Array(total);
  const sizes = new Int32Array(total);
  const liveSlots = new Int32Array(cap);
  const liveSize = new Int32Array(cap);
  const freeSlots = new Int32Array(cap);
  for (let i = 0; i < cap; i++) freeSlots[i] = cap - 1 - i;
  let freeTop = cap;
  let live = 0;
  let allocs = 0;
  let liveBytes = 0;
  let peakLiveBytes = 0;
  let fillEnd = 0;
  let n = 0;
  const free = (): void => {
    const k = rng.below(live);
    const slot = liveSlots[k];
    liveBytes -= liveSize[k];
    live--;
    liveSlots[k] = liveSlots[live];
    liveSize[k] = liveSize[live];
    freeSlots[freeTop++] = slot;
    ops[n] = (slot << 2) | OP_FREE;
    sizes[n] = 0;
    n++;
  };
  // n + live = 2 × allocations, so stopping at total / 2 allocations leaves exactly enough room for the final frees
  while (allocs * 2 < total) {
    if (live === 0 || (live < cap && rng.next() < chance)) {
      const size = Math.min(
        maxSize,
        Math.max(minSize, Math.round(minSize * Math.exp(rng.next() * logRange))),
      );
      const slot = freeSlots[--freeTop];
      liveSlots[live] = slot;
      liveSize[live] = size;
      live++;
      allocs++;
      liveBytes += size;
      if (liveBytes > peakLiveBytes) peakLiveBytes = liveBytes;
      if (live === cap && fillEnd === 0) fillEnd = n;
      ops[n] = (slot << 2) | OP_ALLOC;
      sizes[n] = size;
      n++;
    } else {
      free();
    }
  }
  while (live > 0) free();
  return { name: options.name, ops, sizes, slots: cap, peakLiveBytes, fillEnd };
}
