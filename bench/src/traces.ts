/**
 * The real traces (the repository's traces/real/*.rep.gz, recorded with glibc's mtrace from real programs),
 * read with @heapkit/trace and converted once into workload files in bench/.cache, so the JS cells and
 * the C replay run the very same operations. The workload is named after the trace (`python-json`).
 *
 * @module
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { Op, readTrace } from "@heapkit/trace";
import type { PreparedWorkload } from "./prepared-workload.js";
import {
  OP_ALLOC,
  OP_FREE,
  OP_REALLOC,
  validateWorkload,
  type Workload,
  writeWorkload,
} from "./workload-format.js";

/** Where the traces are: `$HEAPKIT_TRACES` when set, else the repository's own traces/real. */
export function tracesDir(repoRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.HEAPKIT_TRACES;
  return fromEnv !== undefined && fromEnv !== "" ? resolve(fromEnv) : join(repoRoot, "traces", "real");
}

/** Reads a trace into a {@link Workload} (slots are @heapkit/trace's dense slots). */
export async function traceToWorkload(file: string, name: string): Promise<Workload> {
  let ops = new Int32Array(1 << 16);
  let sizes = new Int32Array(1 << 16);
  let n = 0;
  let slots = 0;
  let slotSize = new Float64Array(1 << 12);
  let live = 0;
  let peak = 0;
  for await (const batch of readTrace(file).batches()) {
    if (n + batch.length > ops.length) {
      const cap = Math.max(ops.length * 2, n + batch.length);
      const o = new Int32Array(cap);
      o.set(ops);
      ops = o;
      const s = new Int32Array(cap);
      s.set(sizes);
      sizes = s;
    }
    for (let i = 0; i < batch.length; i++) {
      const slot = batch.slot[i];
      const size = batch.size[i];
      if (slot >= slotSize.length) {
        const larger = new Float64Array(Math.max(slot + 1, slotSize.length * 2));
        larger.set(slotSize);
        slotSize = larger;
      }
      if (slot >= slots) slots = slot + 1;
      const op = batch.op[i];
      if (op === Op.Alloc) {
        ops[n] = (slot << 2) | OP_ALLOC;
        sizes[n] = size;
        live += size;
        slotSize[slot] = size;
      } else if (op === Op.Free) {
        ops[n] = (slot << 2) | OP_FREE;
        sizes[n] = 0;
        live -= slotSize[slot];
        slotSize[slot] = 0;
      } else {
        ops[n] = (slot << 2) | OP_REALLOC;
        sizes[n] = size;
        live += size - slotSize[slot];
        slotSize[slot] = size;
      }
      if (live > peak) peak = live;
      n++;
    }
  }
  return validateWorkload({
    name,
    ops: ops.subarray(0, n),
    sizes: sizes.subarray(0, n),
    slots,
    peakLiveBytes: peak,
    fillEnd: 0,
  });
}

/** Every `*.rep.gz` trace as a workload, converted into the cache unless already there. */
export async function traceWorkloads(
  dir: string,
  cacheDir: string,
  log: (msg: string) => void,
): Promise<PreparedWorkload[]> {
  if (!existsSync(dir)) {
    log(
      `traces: ${dir} not found: the real-trace workloads are skipped (set HEAPKIT_TRACES to their folder)`,
    );
    return [];
  }
  const out: PreparedWorkload[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (!entry.endsWith(".rep.gz")) continue;
    const source = join(dir, entry);
    const name = basename(entry, ".rep.gz");
    const st = statSync(source);
    const file = join(cacheDir, `trace-${name}-v1-${st.size}.bin`);
    if (!existsSync(file)) {
      log(`converting ${source} into ${file}`);
      const w = await traceToWorkload(source, name);
      writeWorkload(file, w);
    }
    out.push({
      kind: "replay",
      name,
      file,
      description: `the real trace ${entry} (${name}), replayed op for op; reallocs included`,
    });
  }
  return out;
}
