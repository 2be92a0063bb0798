import { describe, expect, it } from "vitest";
import { checkTargets, markdownPage, multiWorkerSection, type RunMeta } from "../src/report.js";
import { addRatios, type Row, rowFromRuns } from "../src/stats.js";

const meta: RunMeta = {
  date: "2026-12-04T23:00:00.000Z",
  machine: {
    os: "Linux",
    cpu: "test",
    cores: 2,
    memoryGiB: 24,
    node: "v20",
    cc: null,
    python: null,
    libc: null,
  },
  quick: true,
  runs: 1,
  budgetMs: 100,
  seconds: 1,
  notes: [],
};

/** A row of `opsPerSecond` over a whole workload of 1 M ops. */
function row(impl: string, workload: string, opsPerSecond: number, utilization: number | null = null): Row {
  return rowFromRuns(impl, workload, 1e6, 1e6, [1e6 / opsPerSecond], utilization, {});
}

const rows: Row[] = [
  row("tlsf", "Wx1", 10e6, 0.91),
  row("tlsf", "Wx2", 17e6, 0.9),
  row("tlsf", "Wx4", 15e6, 0.88),
  row("tlsf/global-lock", "Wx1", 9e6, 0.92),
  row("tlsf/global-lock", "Wx2", 5e6, 0.92),
  row("glibc", "Wx2", 20e6, 0.5),
  row("shared-memory-objects", "Wx2", 40e3),
];
addRatios(rows);

describe("the multi-worker targets", () => {
  it("reads scaling, the global-lock ratio, the peer ratio and utilization at 2 workers", () => {
    const byTarget = new Map(checkTargets(rows).map((c) => [c.target, c]));
    expect(byTarget.get("shared heap, 2 workers ≥ 1.6× one worker (total ops/s on W)")).toMatchObject({
      measured: "tlsf 1.70×",
      status: "met",
    });
    expect(
      byTarget.get("shared heap ≥ 2× the same heap behind one global lock (cache: false), at 2 workers"),
    ).toMatchObject({ measured: "tlsf 3.40×", status: "met" });
    expect(byTarget.get("shared heap ≥ 100× @daneren2005/shared-memory-objects, at 2 workers")).toMatchObject(
      {
        measured: "tlsf 425×",
        status: "met",
      },
    );
    expect(byTarget.get("shared heap: utilization ≥ 0.9 on W split over 2 workers")).toMatchObject({
      measured: "tlsf 0.900",
      status: "met",
    });
  });

  it("says missed when a strategy falls short, and n/a when the family did not run", () => {
    const slow = rows.map((r) =>
      r.impl === "tlsf" && r.workload === "Wx2" ? row("tlsf", "Wx2", 12e6, 0.8) : r,
    );
    const byTarget = new Map(checkTargets(slow).map((c) => [c.target, c.status]));
    expect(byTarget.get("shared heap, 2 workers ≥ 1.6× one worker (total ops/s on W)")).toBe("missed");
    expect(byTarget.get("shared heap: utilization ≥ 0.9 on W split over 2 workers")).toBe("missed");
    const none = checkTargets([row("tlsf", "W", 10e6)]).filter((c) => c.target.startsWith("shared heap"));
    expect(none.map((c) => c.status)).toEqual(["n/a", "n/a", "n/a", "n/a"]);
  });

  it("leaves the global-lock rows out of the single-thread scaling targets", () => {
    expect(checkTargets(rows).some((c) => c.target.startsWith("tlsf/global-lock"))).toBe(false);
  });
});

describe("the single-thread targets", () => {
  const onW = ["segregated", "tlsf", "buddy", "pymalloc", "best-fit"].map((s, i) =>
    row(s, "W", (20 + i) * 1e6, 0.9 + i / 100),
  );
  const peers = [row("thi.ng", "W", 15e3), row("glibc", "W", 40e6), row("assemblyscript", "W", 15e6)];
  const byTarget = (list: Row[]) => new Map(checkTargets(list).map((c) => [c.target, c]));

  it("reads the best strategy against glibc and thi.ng, and each bounded strategy against thi.ng", () => {
    const t = byTarget([...onW, ...peers]);
    expect(t.get("best strategy ≥ 0.5× glibc on W")).toMatchObject({
      status: "met",
      measured: "best-fit 24.0 M ops/s vs glibc 40.0 M: 0.60×",
    });
    expect(
      t.get(
        "segregated, tlsf, buddy, pymalloc: each ≥ 1000× @thi.ng/malloc on W, over the default growable memory",
      ),
    ).toMatchObject({
      status: "met",
      measured: "thi.ng 15.0 k ops/s; segregated 1,333×, tlsf 1,400×, buddy 1,467×, pymalloc 1,533×",
    });
    expect(t.get("utilization ≥ 0.92 on W")?.status).toBe("met");
  });

  it("says missed below the AssemblyScript target's 1.5×, and n/a without the peer", () => {
    const t = byTarget([...onW, ...peers]);
    expect(
      t.get("tlsf, segregated, best-fit, buddy, pymalloc: each ≥ 1.5× the AssemblyScript peer on W"),
    ).toMatchObject({
      status: "missed",
      measured:
        "assemblyscript 15.0 M ops/s; tlsf 1.40×, segregated 1.33×, best-fit 1.60×, buddy 1.47×, pymalloc 1.53×",
    });
    expect(
      byTarget(onW).get(
        "tlsf, segregated, best-fit, buddy, pymalloc: each ≥ 1.5× the AssemblyScript peer on W",
      )?.status,
    ).toBe("n/a");
  });
});

describe("the results page", () => {
  it("has the section on sharing a heap, with each worker count and what 4 workers on 2 cores did", () => {
    const section = multiWorkerSection(rows, meta).join("\n");
    expect(section).toContain("## Sharing a heap between workers");
    expect(section).toContain(
      "| **tlsf** | 10.0 M | 0.910 | 17.0 M | 1.70× | 0.900 | 15.0 M | 1.50× | 0.880 |",
    );
    expect(section).toContain("| *shared-memory-objects* | – | – | 40.0 k | – | – | – | – | – |");
    expect(section).toContain("With 4 workers on this machine's 2 cores");
    expect(section).toContain("tlsf 1.50×");
    expect(markdownPage(rows, [], meta)).toContain("## Sharing a heap between workers");
  });

  it("has no such section when the family did not run", () => {
    expect(multiWorkerSection([row("tlsf", "W", 1e6)], meta)).toEqual([]);
  });
});
