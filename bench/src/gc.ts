/**
 * The gc-100k and gc-1M workloads: every strategy under @heapkit/gc's refcount+cycles plan (a cell
 * each, see cell.ts), and CPython's own gc over the very same graph (bench/native/gc_timing.py).
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { strategyNames } from "@heapkit/strategies";
import type { CellResult, CellSpec } from "./cell.js";
import type { GcRunContext, PreparedWorkload } from "./prepared-workload.js";
import { type Row, rowFromRuns } from "./stats.js";

/** How a GC workload runs one JS cell (given by main, which owns the child processes), with a time limit. */
export type CellRunner = (spec: CellSpec, timeoutMs?: number) => CellResult;

interface PythonOutput {
  n: number;
  python: string;
  build_s: number;
  first_collect_s: number;
  reachable_s: number[];
  del_root_s: number;
  unreachable_s: number;
  collected: number;
}

/** Runs CPython's gc.collect() timing over the graph of `objects` lists; null (with a message) if there is no python3. */
export function runCpython(
  script: string,
  name: string,
  objects: number,
  runs: number,
  log: (m: string) => void,
): Row | null {
  const python = process.env.PYTHON ?? "python3";
  const out = spawnSync(python, [script, "--n", String(objects), "--runs", String(runs)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (out.error !== undefined || out.status !== 0) {
    log(`cpython × ${name}: skipped (${out.error?.message ?? `exit ${out.status}`})`);
    return null;
  }
  const r = JSON.parse(out.stdout.trim()) as PythonOutput;
  return rowFromRuns("cpython", name, r.n, r.n, r.reachable_s, null, {
    python: r.python,
    buildSeconds: r.build_s,
    firstCollectSeconds: r.first_collect_s,
    dropRootSeconds: r.del_root_s,
    unreachableCollectSeconds: r.unreachable_s,
    collected: r.collected,
  });
}

/** The gc-* workloads (gc-100k only with --quick). */
export function gcWorkloads(quick: boolean, script: string, runCell: CellRunner): PreparedWorkload[] {
  const sizes: [string, number][] = quick
    ? [["gc-100k", 100_000]]
    : [
        ["gc-100k", 100_000],
        ["gc-1M", 1_000_000],
      ];
  return sizes.map(([name, objects]) => ({
    kind: "gc" as const,
    name,
    description: `full collection of timing.py's graph: ${objects.toLocaleString("en-US")} objects with 2 references each to random objects, all reachable; ops = objects traced`,
    run(ctx: GcRunContext): Row[] {
      const rows: Row[] = [];
      if (ctx.want("cpython")) {
        const row = runCpython(script, name, objects, ctx.runs, ctx.log);
        if (row !== null) rows.push(row);
      }
      for (const impl of strategyNames.filter(ctx.want)) {
        try {
          // the unreachable phase (drop the root, collect) is an extra figure: quadratic for address-ordered
          // free lists (first fit, next fit), so it is skipped with --quick and stopped after a limit
          const spec: CellSpec = {
            impl,
            workload: name,
            kind: "gc",
            objects,
            runs: ctx.runs,
            budgetMs: 0,
            unreachable: !quick,
          };
          const r = runCell(spec, quick ? undefined : 45_000);
          rows.push(rowFromRuns(r.impl, r.workload, r.opsTimed, r.opsTotal, r.seconds, null, r.extra));
        } catch (e) {
          ctx.log(`${impl} × ${name}: ${(e as Error).message}`);
        }
      }
      return rows;
    },
  }));
}
