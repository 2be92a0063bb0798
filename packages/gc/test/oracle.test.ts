// The CPython 3.11 oracle: every scenario, every field after every op, every collection.
import { describe, expect, it } from "vitest";
import { replayScenario, type ScenarioStep } from "../src/index.js";
import { FAMILIES, loadScenario, scenarioFiles, scenarioHeap } from "./oracle.js";

interface FamilyResult {
  scenarios: number;
  equal: number;
  ops: number;
  opsEqual: number;
  firstMismatch: string | null;
  /** Scenarios where mark-sweep and mark-compact kept exactly the objects refcount+cycles can reach. */
  tracingEqual: number;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function runFamily(family: string): FamilyResult {
  const files = scenarioFiles(family);
  const result: FamilyResult = {
    scenarios: files.length,
    equal: 0,
    ops: 0,
    opsEqual: 0,
    firstMismatch: null,
    tracingEqual: 0,
  };
  for (const file of files) {
    const scenario = loadScenario(file);
    let ok = true;
    const note = (step: ScenarioStep | null, what: string) => {
      ok = false;
      result.firstMismatch ??= `${file}:${step?.line ?? "end"}: ${what}`;
    };
    const replay = replayScenario(scenario, {
      allocator: scenarioHeap(),
      onStep: (step, state) => {
        if (state === null) return;
        result.ops++;
        const r = step.recorded;
        const c = state.count;
        const g = state.gens;
        const rc = r.count;
        const rg = r.gens;
        const rl = r.ll;
        const rgc = r.gc ?? [];
        // the fast path: plain number comparisons (a million ops); the slow one names the field
        const fast =
          rc !== undefined &&
          rg !== undefined &&
          rl !== undefined &&
          rc[0] === c[0] &&
          rc[1] === c[1] &&
          rc[2] === c[2] &&
          rg[0] === g[0] &&
          rg[1] === g[1] &&
          rg[2] === g[2] &&
          r.fl === state.fl &&
          rl[0] === state.ll[0] &&
          rl[1] === state.ll[1] &&
          rgc.length === state.gc.length &&
          (rgc.length === 0 || same(rgc, state.gc)) &&
          (step.op.op !== "collect" || (state.gc.length === 1 && r.expect === state.gc[0][1]));
        if (fast) {
          result.opsEqual++;
          return;
        }
        const fields: [string, unknown, unknown][] = [
          ["count", r.count, state.count],
          ["gens", r.gens, state.gens],
          ["fl", r.fl, state.fl],
          ["ll", r.ll, state.ll],
          ["gc", rgc, state.gc],
        ];
        if (step.op.op === "collect") {
          fields.push(["expect", r.expect, state.gc.length === 1 ? state.gc[0][1] : null]);
        }
        for (const [name, want, got] of fields) {
          if (!same(want, got))
            note(step, `${name}: CPython ${JSON.stringify(want)}, heapkit ${JSON.stringify(got)}`);
        }
      },
    });
    if (scenario.end) {
      if (replay.alive !== scenario.end.alive) note(null, `alive ${scenario.end.alive} vs ${replay.alive}`);
      if (replay.reachable !== scenario.end.reachable) {
        note(null, `reachable ${scenario.end.reachable} vs ${replay.reachable}`);
      }
    } else {
      note(null, "no end line");
    }
    replay.heap.allocator.check();
    if (ok) result.equal++;
    // the same ops on the tracing plans: after a full collection they keep exactly what is reachable
    let tracingOk = true;
    for (const plan of ["mark-sweep", "mark-compact"] as const) {
      const traced = replayScenario(scenario, { allocator: scenarioHeap(), plan });
      traced.heap.allocator.check();
      if (!same(traced.aliveIds, replay.reachableIds)) {
        tracingOk = false;
        note(
          null,
          `${plan} kept ${traced.aliveIds.length} objects, refcount+cycles reaches ${replay.reachable}`,
        );
      }
    }
    if (tracingOk) result.tracingEqual++;
  }
  return result;
}

describe("CPython 3.11 oracle (refcount+cycles, cpython profile; tracing plans on the same ops)", () => {
  it.each(FAMILIES)(
    "matches every scenario of %s, field for field",
    (family) => {
      const result = runFamily(family);
      const pct = ((100 * result.equal) / result.scenarios).toFixed(1);
      console.log(
        `oracle ${family}: ${result.equal}/${result.scenarios} scenarios equal (${pct} %), ` +
          `${result.opsEqual}/${result.ops} ops equal; mark-sweep and mark-compact keep the same set in ` +
          `${result.tracingEqual}/${result.scenarios}`,
      );
      expect(result.scenarios).toBeGreaterThanOrEqual(50);
      expect(result.firstMismatch).toBeNull();
      expect(result.equal).toBe(result.scenarios);
      expect(result.tracingEqual).toBe(result.scenarios);
    },
    120_000,
  );
});
