/**
 * The HTML report of `heapkit compare`: one self-contained file (inline CSS and SVG, no scripts, no
 * links) with, per trace, the figures of every strategy, live bytes and heap size over time,
 * utilization per strategy, and each strategy's heap map at the peak of live bytes.
 *
 * @module
 */
import { basename } from "node:path";
import type { FragmentationFloor } from "@heapkit/trace";
import { count, formatBytes, percent } from "./format.js";
import type { JobResult } from "./jobs.js";
import { barChartSvg, escapeXml, heapMapSvg, lineChartSvg, PALETTE, pictureFigures } from "./svg.js";

/** A strategy's figures over all traces, as the report's summary table shows them. */
export interface ReportScore {
  /** The strategy. */
  strategy: string;
  /** Its malloc-lab score. */
  score: number;
  /** Mean utilization over the traces. */
  meanUtilization: number;
  /** Σ ops / Σ replay seconds. */
  throughput: number;
  /** The largest fragmentation over the traces. */
  worstFragmentation: number;
}

/** Renders the report. */
export function renderReport(
  results: JobResult[],
  scores: ReportScore[],
  run: { reference: number; seconds: number; threads: number },
  floors: ReadonlyMap<string, FragmentationFloor> = new Map(),
): string {
  const strategies = [...new Set(results.map((r) => r.result.strategy))];
  const colourOf = (strategy: string) => PALETTE[strategies.indexOf(strategy) % PALETTE.length];
  const traces = [...new Set(results.map((r) => r.result.trace))];
  const sections = traces.map((trace) =>
    traceSection(
      results.filter((r) => r.result.trace === trace),
      colourOf,
      floors.get(trace),
    ),
  );
  const scoreTable = scoreTableHtml(scores, colourOf);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>heapkit compare</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#212529;padding:0 1em}
table{border-collapse:collapse;margin:1em 0}th,td{padding:4px 10px;border-bottom:1px solid #dee2e6;text-align:right}
th:first-child,td:first-child{text-align:left}.swatch{display:inline-block;width:10px;height:10px;margin-right:6px}
figure{margin:1em 0}section{border-top:2px solid #dee2e6;margin-top:2em}
</style></head><body>
<h1>heapkit compare</h1>
<p>${results.length} run${results.length === 1 ? "" : "s"} (${traces.length} trace${traces.length === 1 ? "" : "s"} × ${strategies.length} strateg${strategies.length === 1 ? "y" : "ies"}) in ${run.seconds.toFixed(1)} s${run.threads > 0 ? ` on ${run.threads} worker threads` : ""}. Utilization = peak live payload / heap high-water mark (malloc-lab); fragmentation = high-water / peak live − 1 (Johnstone &amp; Wilson). The malloc-lab score is 100 × (0.6 × mean utilization + 0.4 × min(1, throughput / ${count(run.reference)} ops/s)).</p>
<h2>Over all traces</h2>
${scoreTable}
${sections.join("\n")}
</body></html>
`;
}

/** The score table over all traces. */
function scoreTableHtml(scores: ReportScore[], colourOf: (strategy: string) => string): string {
  return [
    "<table><thead><tr><th>strategy</th><th>malloc-lab score</th><th>mean utilization</th><th>worst fragmentation</th><th>throughput ops/s</th></tr></thead><tbody>",
    ...scores.map(
      (s) =>
        `<tr><td><span class="swatch" style="background:${colourOf(s.strategy)}"></span>${escapeXml(s.strategy)}</td><td>${s.score.toFixed(1)}</td>` +
        `<td>${percent(s.meanUtilization)}</td><td>${percent(s.worstFragmentation)}</td><td>${count(s.throughput)}</td></tr>`,
    ),
    "</tbody></table>",
  ].join("\n");
}

/** One trace's section: its figures, a table of every strategy, the charts and the heap maps. */
function traceSection(
  rows: JobResult[],
  colourOf: (strategy: string) => string,
  floor: FragmentationFloor | undefined,
): string {
  const first = rows[0].result;
  const table = [
    "<table><thead><tr><th>strategy</th><th>utilization</th><th>fragmentation</th><th>high-water</th><th>overhead near peak</th><th>failed</th><th>ops/s</th></tr></thead><tbody>",
    ...rows.map(
      ({ result: r }) =>
        `<tr><td><span class="swatch" style="background:${colourOf(r.strategy)}"></span>${escapeXml(r.strategy)}</td>` +
        `<td>${percent(r.utilization)}</td><td>${percent(r.fragmentation)}</td><td>${formatBytes(r.heapHighWaterBytes)}</td>` +
        `<td>${formatBytes(r.overheadBytes)}</td><td>${count(r.failedAllocations)}</td><td>${count(r.opsPerSecond)}</td></tr>`,
    ),
    "</tbody></table>",
  ].join("\n");
  const [overTime, util, internal, external] = traceCharts(rows, colourOf);
  const maps = heapMaps(rows);
  const notes =
    first.summary === undefined
      ? ""
      : `${count(first.summary.unknownFrees)} frees of unknown pointers, ${count(first.summary.liveAtEnd)} blocks live at the end, ${count(first.summary.skippedLines)} lines skipped`;
  return `<section><h2>${escapeXml(basename(first.trace))}</h2>
<p>${count(first.ops)} ops (${count(first.allocs)} alloc, ${count(first.frees)} free, ${count(first.reallocs)} realloc); peak live payload ${formatBytes(first.peakLiveBytes)} (${count(first.peakLiveBytes)} bytes) after op ${count(first.peakLiveOp)}. ${escapeXml(notes)}</p>${floorParagraph(floor)}
${table}
<figure>${overTime}</figure>
<figure>${util}</figure>
<figure>${internal}</figure>
<figure>${external}</figure>
<h3>Heap maps at the peak</h3>
${maps.map((svg) => `<figure>${svg}</figure>`).join("\n")}
</section>`;
}

/** A trace's charts: live bytes and heap size, utilization, internal and external fragmentation. */
function traceCharts(rows: JobResult[], colourOf: (strategy: string) => string): string[] {
  const first = rows[0].result;
  const heapLines = rows.map(({ result: r }) => ({
    label: `heap: ${r.strategy}`,
    colour: colourOf(r.strategy),
    x: r.series.op,
    y: r.series.heapBytes,
  }));
  const liveLine = {
    label: "live payload",
    colour: "#212529",
    x: first.series.op,
    y: first.series.liveBytes,
    dashed: true,
  };
  const overTime = lineChartSvg("Live bytes and heap size over the trace", [liveLine, ...heapLines], {
    xLabel: "ops",
    yFormat: formatBytes,
  });
  const external = lineChartSvg(
    "External fragmentation over the trace (1 − largest free block / free bytes)",
    rows.map(({ result: r }) => ({
      label: r.strategy,
      colour: colourOf(r.strategy),
      x: r.series.op,
      y: r.series.externalFragmentation,
    })),
    { xLabel: "ops", yFormat: (v) => `${(v * 100).toFixed(0)} %`, height: 260 },
  );
  const internal = lineChartSvg(
    "Internal fragmentation over the trace (usable − asked bytes of live blocks)",
    rows.map(({ result: r }) => ({
      label: r.strategy,
      colour: colourOf(r.strategy),
      x: r.series.op,
      y: r.series.usableBytes.map((usable, k) => Math.max(0, usable - r.series.liveBytes[k])),
    })),
    { xLabel: "ops", yFormat: formatBytes, height: 260 },
  );
  const util = barChartSvg(
    "Utilization (peak live payload / heap high-water)",
    rows.map(({ result: r }) => ({
      label: r.strategy,
      value: r.utilization,
      colour: colourOf(r.strategy),
    })),
  );
  return [overTime, util, internal, external];
}

/** Each strategy's heap map at the peak, where the job took one. */
function heapMaps(rows: JobResult[]): string[] {
  return rows
    .filter((r) => r.picture !== undefined)
    .map(({ result: r, picture }) =>
      heapMapSvg(picture as NonNullable<typeof picture>, {
        columns: 192,
        cellSize: 4,
        title: `${r.strategy} at the peak of live bytes`,
        figures: pictureFigures(picture as NonNullable<typeof picture>),
      }),
    );
}

/** What the best possible allocator could reach on a trace, for the report. */
function floorParagraph(floor: FragmentationFloor | undefined): string {
  if (floor === undefined) return "";
  return `\n<p>The least fragmentation any allocator can reach here (the blocks live at the peak, rounded as each block format rounds them): <b>${percent(floor.header)}</b> with 4-byte headers and 8-byte alignment, as the boundary-tag strategies lay blocks out; <b>${percent(floor.headerless)}</b> with no header at all. What a strategy has above its floor is what its placement loses.</p>`;
}
