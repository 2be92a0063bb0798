/**
 * SVG pictures for the trace commands: a heap map (cells by address, coloured by what they hold) and
 * small line and bar charts. Plain strings, no dependencies, so an HTML report holding them is
 * self-contained.
 *
 * @module
 */
import { count, formatBytes } from "./format.js";
import { ByteClass } from "./heap-line.js";
import type { HeapPicture } from "./picture.js";

/** Colours of the map's classes. */
export const MAP_COLOURS = {
  used: "#2f9e44",
  meta: "#f59f00",
  free: "#a5d8ff",
  unclaimed: "#ffffff",
  cached: "#d0bfff",
} as const;

/** The colour of each {@link ByteClass}, by its value. */
const CLASS_COLOURS: Record<ByteClass, string> = {
  [ByteClass.Used]: MAP_COLOURS.used,
  [ByteClass.Header]: MAP_COLOURS.meta,
  [ByteClass.Free]: MAP_COLOURS.free,
  [ByteClass.Unclaimed]: MAP_COLOURS.unclaimed,
  [ByteClass.Cached]: MAP_COLOURS.cached,
};

/** Escapes text for XML. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** Options of {@link heapMapSvg}. */
export interface HeapMapOptions {
  /** Cells per row. */
  columns: number;
  /** Pixels per cell. */
  cellSize?: number;
  /** The title over the map. */
  title: string;
  /** Lines of figures under the title. */
  figures?: string[];
}

/**
 * The heap as an SVG: `picture.cells` laid out row by row in address order (row 0 from the heap's
 * base), runs of one class drawn as one rectangle, with a legend and the figures.
 */
export function heapMapSvg(picture: HeapPicture, options: HeapMapOptions): string {
  const cellSize = options.cellSize ?? 4;
  const columns = options.columns;
  const rows = Math.ceil(picture.cells.length / columns);
  const figures = options.figures ?? [];
  const top = 28 + figures.length * 16 + 26;
  const width = Math.max(columns * cellSize, 520) + 20;
  const height = top + rows * cellSize + 24;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`,
  );
  figures.forEach((line, i) => {
    parts.push(`<text x="10" y="${40 + i * 16}" fill="#333">${escapeXml(line)}</text>`);
  });
  const legendY = 28 + figures.length * 16 + 10;
  const legend: [string, string][] = [
    [MAP_COLOURS.used, "used payload"],
    [MAP_COLOURS.meta, "headers, metadata, padding"],
    [MAP_COLOURS.free, "free"],
  ];
  // only a heap with a front cache has cached blocks: other maps keep a legend that fits their width
  if (picture.cells.includes(ByteClass.Cached))
    legend.push([MAP_COLOURS.cached, "cached (freed, in a front cache)"]);
  let x = 10;
  for (const [colour, label] of legend) {
    parts.push(
      `<rect x="${x}" y="${legendY}" width="12" height="12" fill="${colour}" stroke="#555" stroke-width="0.5"/>`,
    );
    parts.push(`<text x="${x + 16}" y="${legendY + 10}">${escapeXml(label)}</text>`);
    x += 16 + label.length * 6.5 + 18;
  }
  parts.push(`<g transform="translate(10 ${top})" shape-rendering="crispEdges">`);
  const cells = picture.cells;
  for (let row = 0; row < rows; row++) {
    let col = 0;
    while (col < columns && row * columns + col < cells.length) {
      const cls = cells[row * columns + col];
      let end = col + 1;
      while (end < columns && row * columns + end < cells.length && cells[row * columns + end] === cls) end++;
      parts.push(
        `<rect x="${col * cellSize}" y="${row * cellSize}" width="${(end - col) * cellSize}" height="${cellSize}" fill="${CLASS_COLOURS[cls as ByteClass]}"/>`,
      );
      col = end;
    }
  }
  parts.push("</g>");
  const bytesPerCell = (picture.brk - picture.base) / cells.length;
  parts.push(
    `<text x="10" y="${height - 8}" fill="#555">address ${count(picture.base)} (top left) to ${count(picture.brk)} (bottom right), row by row; one cell ≈ ${count(bytesPerCell)} bytes</text>`,
  );
  parts.push("</svg>");
  return parts.join("\n");
}

/** The figures line of a heap picture. */
export function pictureFigures(picture: HeapPicture): string[] {
  const heap = picture.brk - picture.base;
  return [
    `after op ${count(picture.op)}: heap ${formatBytes(heap)}, ${count(picture.liveBlocks)} live blocks holding ${formatBytes(picture.liveBytes)}`,
    `${count(picture.freeBlocks)} free blocks holding ${formatBytes(picture.freeBytes)} (largest ${formatBytes(picture.largestFreeBlock)}), ${formatBytes(picture.overheadBytes)} of headers and metadata`,
  ];
}

/** One line of a chart. */
export interface ChartLine {
  /** Legend label. */
  label: string;
  /** Colour. */
  colour: string;
  /** x values. */
  x: number[];
  /** y values. */
  y: number[];
  /** Dashed line. */
  dashed?: boolean;
}

/** A palette for strategies. */
export const PALETTE = [
  "#1971c2",
  "#e8590c",
  "#2f9e44",
  "#9c36b5",
  "#c2255c",
  "#0c8599",
  "#5c940d",
  "#862e9c",
  "#495057",
];

/** A line chart as SVG, with axes, ticks and a legend. */
export function lineChartSvg(
  title: string,
  lines: ChartLine[],
  options: { width?: number; height?: number; xLabel: string; yFormat: (v: number) => string },
): string {
  const width = options.width ?? 760;
  const height = options.height ?? 320;
  const left = 80;
  const right = 170;
  const top = 30;
  const bottom = 40;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  let xMax = 1;
  let yMax = 1;
  for (const line of lines) {
    for (const v of line.x) if (v > xMax) xMax = v;
    for (const v of line.y) if (v > yMax) yMax = v;
  }
  const sx = (v: number) => left + (v / xMax) * plotW;
  const sy = (v: number) => top + plotH - (v / yMax) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`,
    `<text x="${left}" y="18" font-size="13" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    const y = sy(v);
    parts.push(`<line x1="${left}" y1="${y}" x2="${left + plotW}" y2="${y}" stroke="#e9ecef"/>`);
    parts.push(
      `<text x="${left - 6}" y="${y + 4}" text-anchor="end" fill="#555">${escapeXml(options.yFormat(v))}</text>`,
    );
    const xv = (xMax * i) / 4;
    parts.push(
      `<text x="${sx(xv)}" y="${top + plotH + 16}" text-anchor="middle" fill="#555">${count(xv)}</text>`,
    );
  }
  parts.push(
    `<text x="${left + plotW / 2}" y="${height - 6}" text-anchor="middle" fill="#333">${escapeXml(options.xLabel)}</text>`,
    `<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#adb5bd"/>`,
  );
  lines.forEach((line, i) => {
    const points = line.x.map((xv, k) => `${sx(xv).toFixed(1)},${sy(line.y[k]).toFixed(1)}`).join(" ");
    parts.push(
      `<polyline fill="none" stroke="${line.colour}" stroke-width="1.6"${line.dashed ? ' stroke-dasharray="5 3"' : ""} points="${points}"/>`,
    );
    const ly = top + 10 + i * 16;
    parts.push(
      `<line x1="${left + plotW + 12}" y1="${ly}" x2="${left + plotW + 32}" y2="${ly}" stroke="${line.colour}" stroke-width="2"${line.dashed ? ' stroke-dasharray="5 3"' : ""}/>`,
      `<text x="${left + plotW + 36}" y="${ly + 4}">${escapeXml(line.label)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n");
}

/** A horizontal bar chart of values from 0 to 1 (utilization), as SVG. */
export function barChartSvg(title: string, bars: { label: string; value: number; colour: string }[]): string {
  const width = 760;
  const left = 140;
  const barH = 18;
  const top = 30;
  const height = top + bars.length * (barH + 8) + 10;
  const plotW = width - left - 90;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`,
    `<text x="10" y="18" font-size="13" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  bars.forEach((bar, i) => {
    const y = top + i * (barH + 8);
    const w = Math.max(0, Math.min(1, bar.value)) * plotW;
    parts.push(
      `<text x="${left - 8}" y="${y + 13}" text-anchor="end">${escapeXml(bar.label)}</text>`,
      `<rect x="${left}" y="${y}" width="${plotW}" height="${barH}" fill="#f1f3f5"/>`,
      `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${bar.colour}"/>`,
      `<text x="${left + plotW + 6}" y="${y + 13}">${(bar.value * 100).toFixed(2)} %</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n");
}
