/**
 * The `sys._debugmallocstats()` report: per-class pools, blocks in use and available, the arena
 * counters, and the byte breakdown that sums to the arenas, in CPython's layout.
 *
 * @module
 */
import { census } from "./inspection.js";
import {
  ARENA_WORDS,
  indexToSize,
  NB_SMALL_SIZE_CLASSES,
  POOL_OVERHEAD,
  SMALL_REQUEST_THRESHOLD,
} from "./layout.js";
import type { PymallocParts } from "./parts.js";

function pad(value: number, width: number): string {
  return String(value).padStart(width);
}

/** obmalloc's printone(): the label padded to 35 columns, '=', the value with commas in 21. */
function printone(label: string, value: number): string {
  return `${label.padEnd(35)}=${value.toLocaleString("en-US").padStart(21)}`;
}

/** The whole report, one line per `printf` of `_PyObject_DebugMallocStats`. */
export function debugMallocStats(parts: PymallocParts): string {
  const { layout } = parts;
  const c = census(parts);
  const lines: string[] = [
    `Small block threshold = ${SMALL_REQUEST_THRESHOLD}, in ${NB_SMALL_SIZE_CLASSES} size classes.`,
    "",
    "class   size   num pools   blocks in use  avail blocks",
    "-----   ----   ---------   -------------  ------------",
  ];
  let allocated = 0;
  let available = 0;
  let headers = 0;
  let quantization = 0;
  for (let i = 0; i < NB_SMALL_SIZE_CLASSES; i++) {
    const p = c.numpools[i];
    if (p === 0) continue;
    const size = indexToSize(i);
    lines.push(
      `${pad(i, 5)} ${pad(size, 6)} ${pad(p, 11)} ${pad(c.numblocks[i], 15)} ${pad(c.numfree[i], 13)}`,
    );
    allocated += c.numblocks[i] * size;
    available += c.numfree[i] * size;
    headers += p * POOL_OVERHEAD;
    quantization += p * ((layout.poolSize - POOL_OVERHEAD) % size);
  }
  const unusedPoolBytes = c.freePools * layout.poolSize;
  const mapBytes = layout.chunks * 8;
  const arenaObjectBytes = layout.capacity * ARENA_WORDS * 4;
  lines.push(
    "",
    printone("# arenas allocated total", c.ntimes),
    printone("# arenas reclaimed", c.ntimes - c.narenas),
    printone("# arenas highwater mark", c.highwater),
    printone("# arenas allocated current", c.narenas),
    printone(`${c.narenas} arenas * ${layout.arenaSize} bytes/arena`, c.narenas * layout.arenaSize),
    "",
    printone("# bytes in allocated blocks", allocated),
    printone("# bytes in available blocks", available),
    printone(`${c.freePools} unused pools * ${layout.poolSize} bytes`, unusedPoolBytes),
    printone("# bytes lost to pool headers", headers),
    printone("# bytes lost to quantization", quantization),
    printone("# bytes lost to arena alignment", 0),
    printone("Total", allocated + available + unusedPoolBytes + headers + quantization),
    "",
    "arena map counts",
    printone("# arena map chunks (flat leaf)", layout.chunks),
    "",
    printone("# bytes lost to arena map", mapBytes),
    printone("# bytes of arena objects", arenaObjectBytes),
    printone("Total", mapBytes + arenaObjectBytes),
    "",
    `fallback (${parts.fallback.strategy}) for requests of 0 or > ${SMALL_REQUEST_THRESHOLD} bytes:`,
    printone("# raw blocks in use", c.rawBlocks),
  );
  return `${lines.join("\n")}\n`;
}
