import { describe, expect, it } from "vitest";
import {
  checkTargets,
  MULTI_WORKER_UTIL_TARGET,
  markdownPage,
  multiWorkerSection,
  type RunMeta,
  terminalTable,
} from "../src/report.js";
import { addRatios, liveUtilizationOf, type Row, rowFromRuns } from "../src/stats.js";

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
function row(
  impl: string,
  workload: string,
  opsPerSecond: number,
  utilization: number | null = null,
  extra: Record<string, number | string> = {},
): Row {
  return rowFromRuns(impl, workload, 1e6, 1e6, [1e6 / opsPerSecond], utilization, extra);
}

/** The figures of a multi-worker heapkit cell: the heap's own peak live bytes over its high-water mark. */
const heapFigures = (heapPeakLiveBytes: number, peakHeapBytes: number) => ({
  peakHeapBytes,
  peakLiveBytes: 6_854_013,
  heapPeakLiveBytes,
});

const rows: Row[] = [
  row("tlsf", "Wx1", 10e6, 0.91, heapFigures(7_600_000, 8_000_000)),
  row("tlsf", "Wx2", 17e6, 0.9, heapFigures(7_800_000, 8_000_000)),
  row("tlsf", "Wx4", 15e6, 0.88, heapFigures(6_000_000, 10_000_000)),
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
    expect(byTarget.get(MULTI_WORKER_UTIL_TARGET)).toMatchObject({
      measured: "tlsf util 0.900 (live util 0.975)",
      status: "met",
    });
  });

  it("says which utilization its target reads, and judges by util, not by live util", () => {
    expect(MULTI_WORKER_UTIL_TARGET).toContain("read on util");
    // live util high, util low: missed; the other way round: met
    const low = rows.map((r) =>
      r.impl === "tlsf" && r.workload === "Wx2" ? row("tlsf", "Wx2", 17e6, 0.85, heapFigures(7.9e6, 8e6)) : r,
    );
    expect(new Map(checkTargets(low).map((c) => [c.target, c])).get(MULTI_WORKER_UTIL_TARGET)).toMatchObject({
      measured: "tlsf util 0.850 (live util 0.988)",
      status: "missed",
    });
    const high = rows.map((r) =>
      r.impl === "tlsf" && r.workload === "Wx2" ? row("tlsf", "Wx2", 17e6, 0.95, heapFigures(4e6, 8e6)) : r,
    );
    expect(new Map(checkTargets(high).map((c) => [c.target, c])).get(MULTI_WORKER_UTIL_TARGET)).toMatchObject(
      {
        measured: "tlsf util 0.950 (live util 0.500)",
        status: "met",
      },
    );
  });

  it("says missed when a strategy falls short, and n/a when the family did not run", () => {
    const slow = rows.map((r) =>
      r.impl === "tlsf" && r.workload === "Wx2" ? row("tlsf", "Wx2", 12e6, 0.8) : r,
    );
    const byTarget = new Map(checkTargets(slow).map((c) => [c.target, c.status]));
    expect(byTarget.get("shared heap, 2 workers ≥ 1.6× one worker (total ops/s on W)")).toBe("missed");
    expect(byTarget.get(MULTI_WORKER_UTIL_TARGET)).toBe("missed");
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
      t.get("segregated, tlsf, buddy, pymalloc: each ≥ 1000× @thi.ng/malloc on W, over the default memory"),
    ).toMatchObject({
      status: "met",
      measured: "thi.ng 15.0 k ops/s; segregated 1,333×, tlsf 1,400×, buddy 1,467×, pymalloc 1,533×",
    });
    expect(t.get("utilization ≥ 0.92 on W")?.status).toBe("met");
  });

  const cacheTarget = (workload: string): string =>
    `tlsf, segregated, best-fit, buddy, pymalloc, with the front cache (strategy/cache): each ≥ 1.5× the AssemblyScript peer on ${workload}`;
  const reference = (workload: string): string =>
    `reference, the same strategies without the cache (the default): against the AssemblyScript peer on ${workload}`;
  // the cached rows: faster than the bare ones, a little lower utilization on W
  const cachedOnW = ["segregated", "tlsf", "buddy", "pymalloc", "best-fit"].map((s, i) =>
    row(`${s}/cache`, "W", (21 + i) * 1e6, 0.85 + i / 100),
  );
  const onPairs = [
    ...["segregated", "tlsf", "buddy", "pymalloc", "best-fit"].map((s) => row(s, "pairs", 30e6)),
    ...["segregated", "tlsf", "buddy", "pymalloc", "best-fit"].map((s) => row(`${s}/cache`, "pairs", 60e6)),
    row("assemblyscript", "pairs", 35e6),
  ];

  it("reads the AssemblyScript target on the /cache rows, with their utilization on W", () => {
    const t = byTarget([...onW, ...cachedOnW, ...peers, ...onPairs]);
    expect(t.get(cacheTarget("W"))).toMatchObject({
      status: "missed",
      measured:
        "assemblyscript 15.0 M ops/s; tlsf/cache 1.47× (util 0.860), segregated/cache 1.40× (util 0.850), " +
        "best-fit/cache 1.67× (util 0.890), buddy/cache 1.53× (util 0.870), pymalloc/cache 1.60× (util 0.880)",
    });
    expect(t.get(cacheTarget("pairs"))).toMatchObject({
      status: "met",
      measured:
        "assemblyscript 35.0 M ops/s; tlsf/cache 1.71×, segregated/cache 1.71×, best-fit/cache 1.71×, buddy/cache 1.71×, pymalloc/cache 1.71×",
    });
    // the bare rows are a reference, never a verdict
    expect(t.get(reference("pairs"))).toMatchObject({ status: "n/a" });
    expect(t.get(reference("pairs"))?.measured).toContain("tlsf 0.86×");
  });

  it("says n/a without the /cache rows or without the peer, whatever the bare rows do", () => {
    const fast = onW.map((r) => row(r.impl, "W", 100e6, r.utilization));
    const t = byTarget([...fast, ...peers]);
    expect(t.get(cacheTarget("W"))?.status).toBe("n/a");
    expect(t.get(reference("W"))?.status).toBe("n/a");
    expect(byTarget([...onW, ...cachedOnW]).get(cacheTarget("W"))?.status).toBe("n/a");
    expect(byTarget([...onW, ...cachedOnW]).has(reference("W"))).toBe(false);
  });

  it("keeps the /cache rows out of the best-strategy, utilization and scaling targets", () => {
    // a /cache row faster than every bare one and with the best utilization changes none of them
    const odd = [row("tlsf/cache", "W", 500e6, 0.99), row("tlsf/cache", "W-100", 1e6)];
    const t = byTarget([...onW, ...peers, ...odd]);
    expect(t.get("best strategy ≥ 0.5× glibc on W")?.measured).toContain("best-fit 24.0 M ops/s");
    expect(t.get("utilization ≥ 0.92 on W")?.measured).not.toContain("/cache");
    expect([...t.keys()].some((k) => k.startsWith("tlsf/cache"))).toBe(false);
  });
});

describe("the results page", () => {
  it("has the section on sharing a heap, with each worker count and what 4 workers on 2 cores did", () => {
    const section = multiWorkerSection(rows, meta).join("\n");
    expect(section).toContain("## Sharing a heap between workers");
    expect(section).toContain(
      "| **tlsf** | 10.0 M | 0.910 | 0.950 | 17.0 M | 1.70× | 0.900 | 0.975 | 15.0 M | 1.50× | 0.880 | 0.600 |",
    );
    expect(section).toContain("| *shared-memory-objects* | – | – | – | 40.0 k | – | – | – | – | – | – | – |");
    expect(section).toContain("With 4 workers on this machine's 2 cores");
    expect(section).toContain("tlsf 1.50×");
    expect(markdownPage(rows, [], meta)).toContain("## Sharing a heap between workers");
  });

  it("shows live util beside util at each worker count, blank where the heap does not report it", () => {
    const section = multiWorkerSection(rows, meta).join("\n");
    expect(section).toContain(
      "| impl | 1 worker ops/s | util | live util | 2 workers ops/s | ×1 worker | util | live util |",
    );
    expect(section).toContain(
      "| **tlsf** | 10.0 M | 0.910 | 0.950 | 17.0 M | 1.70× | 0.900 | 0.975 | 15.0 M | 1.50× | 0.880 | 0.600 |",
    );
    expect(section).toContain("| *glibc* | – | – | – | 20.0 M | – | 0.500 | – |");
    expect(section).toContain("- **util** — W's peak live payload *as requested*");
    expect(section).toContain("- **live util** — the heap's own peak live bytes");
  });

  it("adds a live util column to a workload's table only where a row has one", () => {
    const family = [{ name: "Wx2", description: "W over 2 workers" }];
    const table = terminalTable(rows, family);
    expect(table).toMatch(/impl\s+ops\/s\s+min\s+max\s+ops timed\s+util\s+live util/);
    expect(table).toMatch(/tlsf\s+17\.0 M .* 0\.900\s+0\.975/);
    const page = markdownPage(rows, family, meta);
    expect(page).toContain("| impl | ops/s | min | max | ops timed | util | live util |");
    const single = markdownPage([row("tlsf", "W", 1e6, 0.9)], [{ name: "W", description: "W" }], meta);
    expect(single).toContain("| impl | ops/s | min | max | ops timed | util |\n");
  });

  it("shows the /cache rows with their utilization and explains the suffix", () => {
    const list = [row("tlsf", "W", 10e6, 0.929), row("tlsf/cache", "W", 14e6, 0.859)];
    const page = markdownPage(list, [{ name: "W", description: "W" }], meta);
    expect(page).toContain("| **tlsf/cache** | 14.0 M | 14.0 M | 14.0 M | 1,000,000 | 0.859 |");
    expect(page).toContain("- **strategy/cache** (W, pairs and the real traces)");
    expect(page).toContain("cache: true");
    expect(page).toContain("- **strategy/fixed** (W only)");
  });

  it("has no such section when the family did not run", () => {
    expect(multiWorkerSection([row("tlsf", "W", 1e6)], meta)).toEqual([]);
  });
});

describe("live util", () => {
  it("is the heap's peak live bytes over its high-water mark, in the row and from an older file's extra", () => {
    const r = row("tlsf", "Wx2", 1e6, 0.9, heapFigures(6e6, 8e6));
    expect(r.liveUtilization).toBe(0.75);
    const old = { ...r, liveUtilization: undefined };
    expect(liveUtilizationOf(old)).toBe(0.75);
    expect(
      row("glibc", "Wx2", 1e6, 0.5, { peakHeapBytes: 8e6, peakLiveBytes: 6e6 }).liveUtilization,
    ).toBeNull();
    expect(row("tlsf", "W", 1e6, 0.9).liveUtilization).toBeNull();
  });
});

describe("the targets against glibc, thi.ng and CPython where a user loses time", () => {
  const byTarget = (list: Row[]) => new Map(checkTargets(list).map((c) => [c.target, c]));

  it("reads pairs on the bare rows (a /cache row is not the default heap) against thi.ng", () => {
    const t = byTarget([
      row("tlsf", "pairs", 40e6),
      row("segregated", "pairs", 50e6),
      row("tlsf/cache", "pairs", 300e6),
      row("thi.ng", "pairs", 200e6),
    ]);
    expect(
      t.get("pairs: the default heap (the fastest strategy, default options) ≥ @thi.ng/malloc"),
    ).toMatchObject({
      status: "missed",
      measured: "segregated 50.0 M ops/s vs thi.ng 200 M: 0.25×",
    });
  });

  it("reads W's best strategy and tlsf against glibc", () => {
    const t = byTarget([row("tlsf", "W", 25e6), row("segregated", "W", 33e6), row("glibc", "W", 40e6)]);
    expect(t.get("best strategy ≥ 0.8× glibc on W")?.status).toBe("met");
    expect(t.get("tlsf ≥ 0.6× glibc on W")).toMatchObject({
      status: "met",
      measured: "tlsf 25.0 M ops/s vs glibc 40.0 M: 0.63×",
    });
  });

  it("counts a strategy on a real trace only if it keeps its utilization of 2026-12-01", () => {
    const t = byTarget([
      row("pymalloc", "python-json", 60e6, 0.7), // fast, but below its floor of 0.728
      row("tlsf", "python-json", 30e6, 0.825),
      row("glibc", "python-json", 77e6),
      row("tlsf", "new-trace", 10e6, 0.5),
      row("glibc", "new-trace", 10e6),
    ]);
    expect(
      t.get("python-json: the best strategy ≥ 0.5× glibc, keeping its utilization of 2026-12-01"),
    ).toMatchObject({
      status: "missed",
      measured: "tlsf 30.0 M ops/s vs glibc 77.0 M: 0.39× (util 0.825, floor 0.825)",
    });
    expect(
      t.get("new-trace: the best strategy ≥ 0.5× glibc (a trace newer than 2026-12-01: no floor)")?.status,
    ).toBe("met");
  });

  it("counts a strategy with its front cache on a real trace, held to the bare strategy's floor", () => {
    const t = byTarget([
      row("pymalloc", "python-json", 30e6, 0.728),
      row("pymalloc/cache", "python-json", 45e6, 0.728), // at pymalloc's floor: counts
      row("tlsf/cache", "python-json", 60e6, 0.8), // below tlsf's floor of 0.825: does not
      row("glibc", "python-json", 77e6),
    ]);
    expect(
      t.get("python-json: the best strategy ≥ 0.5× glibc, keeping its utilization of 2026-12-01"),
    ).toMatchObject({
      status: "met",
      measured: "pymalloc/cache 45.0 M ops/s vs glibc 77.0 M: 0.58× (util 0.728, floor 0.728)",
    });
  });

  it("wants every strategy at CPython's speed or better on the gc workloads", () => {
    const t = byTarget([
      row("tlsf", "gc-100k", 12e6),
      row("buddy", "gc-100k", 9e6),
      row("cpython", "gc-100k", 10e6),
    ]);
    expect(t.get("gc-100k: every strategy ≥ 1.0× CPython's gc.collect()")).toMatchObject({
      status: "missed",
      measured: "cpython 10.0 M objects/s; tlsf 1.20×, buddy 0.90×",
    });
    expect(t.get("gc-1M: every strategy ≥ 1.0× CPython's gc.collect()")?.status).toBe("n/a");
  });
});
