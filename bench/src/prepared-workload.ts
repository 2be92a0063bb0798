/**
 * What a prepared workload is: the one type the catalog, the traces, the gc workloads, the cells and
 * the report share.
 *
 * @module
 */
import type { Row } from "./stats.js";

/** Context a GC workload gets to run its cells. */
export interface GcRunContext {
  /** Timed runs per cell. */
  runs: number;
  /** Whether an implementation was asked for. */
  want(impl: string): boolean;
  /** Progress to stderr. */
  log(msg: string): void;
}

/** A workload ready to measure. */
export type PreparedWorkload =
  | {
      /** What the cells do with it. */
      readonly kind: "replay";
      /** Its name in the results. */
      readonly name: string;
      /** One line on what it is. */
      readonly description: string;
      /** The binary workload file. */
      readonly file: string;
    }
  | {
      /** What the cells do with it. */
      readonly kind: "pairs";
      /** Its name in the results. */
      readonly name: string;
      /** One line on what it is. */
      readonly description: string;
      /** malloc+free pairs per run. */
      readonly pairs: number;
    }
  | {
      /** What the cells do with it. */
      readonly kind: "multi-worker";
      /** Its name in the results (`Wx2`). */
      readonly name: string;
      /** One line on what it is. */
      readonly description: string;
      /** Workers sharing the heap. */
      readonly workers: number;
      /** The split workload file (worker-split.ts). */
      readonly file: string;
    }
  | {
      /** What the cells do with it. */
      readonly kind: "gc";
      /** Its name in the results. */
      readonly name: string;
      /** One line on what it is. */
      readonly description: string;
      /** Measures every implementation on this workload. */
      run(ctx: GcRunContext): Row[];
    };
