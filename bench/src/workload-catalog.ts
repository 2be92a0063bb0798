/**
 * The catalog of the bench's workloads — the W and S families, pairs and the real traces — prepared
 * once into bench/.cache (binary files both the JS cells and the C replay read), and described for the
 * table and the results page.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { PreparedWorkload } from "./prepared-workload.js";
import { generateRandom } from "./random-workload.js";
import { traceWorkloads } from "./traces.js";
import { HAND_OFF_EVERY, splitWorkload, writeSplitWorkload } from "./worker-split.js";
import { readWorkload, validateWorkload, writeWorkload } from "./workload-format.js";

/** Where {@link prepareWorkloads} works. */
export interface PrepareOptions {
  /** Directory for generated files. */
  cacheDir: string;
  /** The folder of the real traces (`*.rep.gz`). */
  tracesDir: string;
  /** The --quick selection. */
  quick: boolean;
  /** Worker counts of the multi-worker family (Wx1, Wx2, …). */
  workers: readonly number[];
  /** Progress to stderr. */
  log(msg: string): void;
}

/** Workload W's operation count, and its seed (fixed: every run and machine sees the same W). */
export const W_OPS = 1_000_000;
/** Seed of workload W and its variants. */
export const W_SEED = 20260601;
/** The live-set caps of W and its variants. */
export const W_CAPS: readonly (readonly [string, number])[] = [
  ["W-100", 100],
  ["W-1k", 1000],
  ["W", 10_000],
  ["W-100k", 100_000],
];

/**
 * The small-object family S: W's recipe with sizes log-uniform in 8..512, the requests pymalloc
 * serves itself. At 100 k live blocks S holds about 12 MB instead of W's 65 MB, so its scaling is
 * less a measure of the caches than W's.
 */
export const S_CAPS: readonly (readonly [string, number])[] = [
  ["S-100", 100],
  ["S-1k", 1000],
  ["S", 10_000],
  ["S-100k", 100_000],
];
const S_MAX_SIZE = 512;

/** The name of W split over `workers` workers: `Wx2`. */
export const multiWorkerName = (workers: number): string => `Wx${workers}`;

/** Generates (or finds in the cache) every workload. */
export async function prepareWorkloads(o: PrepareOptions): Promise<PreparedWorkload[]> {
  const out: PreparedWorkload[] = [];
  const family = (caps: typeof W_CAPS, maxSize: number, tag: string): void => {
    for (const [name, cap] of caps) {
      const file = join(o.cacheDir, `${name}-${tag}v1-${W_OPS}-${W_SEED}.bin`);
      if (!existsSync(file)) {
        o.log(`generating ${name} (${W_OPS} ops, ≤ ${cap} live) into ${file}`);
        writeWorkload(
          file,
          validateWorkload(generateRandom({ name, ops: W_OPS, maxLive: cap, seed: W_SEED, maxSize })),
        );
      }
      out.push({
        kind: "replay",
        name,
        file,
        description: `${W_OPS.toLocaleString("en-US")} ops, ≤ ${cap.toLocaleString("en-US")} live blocks, sizes log-uniform 8..${maxSize}, random frees, seed ${W_SEED}`,
      });
    }
  };
  family(W_CAPS, 4096, "");
  const w = out.find((p) => p.name === "W");
  for (const workers of o.workers) {
    if (w?.kind !== "replay") break;
    const name = multiWorkerName(workers);
    const file = join(o.cacheDir, `${name}-split-v1-${W_OPS}-${W_SEED}.bin`);
    if (!existsSync(file)) {
      o.log(`splitting W over ${workers} worker${workers === 1 ? "" : "s"} into ${file}`);
      writeSplitWorkload(file, splitWorkload(readWorkload(w.file, "W"), workers));
    }
    out.push({
      kind: "multi-worker",
      name,
      workers,
      file,
      description:
        `W split over ${workers} worker thread${workers === 1 ? "" : "s"} sharing one heap (worker k replays the slots ≡ k mod ${workers}), ` +
        `one free in ${HAND_OFF_EVERY} handed to the next worker to free${workers === 1 ? " (to itself, through the same queue)" : ""}; ops/s is the total of all workers`,
    });
  }
  family(S_CAPS, S_MAX_SIZE, `max${S_MAX_SIZE}-`);
  const pairs = o.quick ? 200_000 : 10_000_000;
  out.push({
    kind: "pairs",
    name: "pairs",
    pairs,
    description: `malloc(64) then free, ${pairs.toLocaleString("en-US")} times (each call counts as one op)`,
  });
  out.push(...(await traceWorkloads(o.tracesDir, o.cacheDir, o.log)));
  return out;
}
