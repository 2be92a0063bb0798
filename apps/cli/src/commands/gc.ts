/**
 * `heapkit gc …` — the garbage collectors at work:
 *
 * - `gc replay FILE.jsonl[.gz] [--json] [--verify]`: runs a CPython oracle scenario through the
 *   refcount+cycles plan with the `cpython` profile, computing every collection itself (the recorded
 *   fields are never read, except by `--verify`), and prints each collection and the final figures;
 * - `gc demo`: a short story — a cycle, its reference counts, the roots dropped, `collect()`, stats;
 * - `gc bench`: timing.py's graph, a full collection timed on each plan (and CPython's, with `--python`).
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import type { Allocator } from "@heapkit/contract";
import {
  type CollectionInfo,
  type PlanName,
  planNames,
  RefcountCycles,
  type ReplayState,
  replayScenario,
  ScenarioReader,
  type ScenarioStep,
} from "@heapkit/gc";
import { type CollectTiming, timeCollect } from "@heapkit/gc/testing";
import { createHeap } from "@heapkit/heap";
import { strategyNames } from "@heapkit/strategies";
import type { Command } from "commander";
import { type CliIo, colorsFor, UsageError } from "../io.js";
import { readTextFile } from "../lib/files.js";
import { userEnvironment } from "../lib/launcher.js";
import { strategyNamed } from "../lib/strategy.js";

/** The strategy the benchmark uses unless told otherwise: TLSF where the registry has it. */
const BENCH_STRATEGY = strategyNames.includes("tlsf") ? "tlsf" : "first-fit-lifo";

/** Registers `heapkit gc` and its subcommands. */
export function registerGc(program: Command, io: CliIo): void {
  const gc = program
    .command("gc")
    .description("garbage collection: replay CPython's gc oracle, a demo, timings against CPython");
  gc.command("replay")
    .description("replay a CPython 3.11 gc scenario (JSON Lines, optionally gzipped) on refcount+cycles")
    .argument("<file>", "scenario file (.jsonl or .jsonl.gz)")
    .option("--json", 'print JSON Lines: {"line","collect"} per collection, then {"alive","reachable"}')
    .option(
      "--verify",
      "also compare every op with the CPython state recorded in the file (exit 1 if any differs)",
    )
    .option(
      "-s, --strategy <name>",
      `placement strategy of the heap: ${strategyNames.join(", ")}`,
      "first-fit",
    )
    .action((file: string, options: ReplayOptions) => runReplay(file, options, io));
  gc.command("demo")
    .description("a cycle, its reference counts, the roots dropped, collect(), and gc.get_stats()")
    .option(
      "-s, --strategy <name>",
      `placement strategy of the heap: ${strategyNames.join(", ")}`,
      "first-fit",
    )
    .option("--json", "print one JSON object: the reference counts, what collect() found, the stats")
    .action((options: DemoOptions) => runDemo(options, io));
  gc.command("bench")
    .description("time full collections over timing.py's graph (N lists, K random references each)")
    .option("-n, --n <counts>", "graph sizes, comma-separated", "100000")
    .option("-k, --k <refs>", "references per object", "2")
    .option("--repeat <n>", "runs per figure (the median is shown)", "3")
    .option("--plan <names>", `plans, comma-separated: ${planNames.join(", ")}`, "refcount+cycles,mark-sweep")
    .option("-s, --strategy <name>", "placement strategy of the heap", BENCH_STRATEGY)
    .option("--python <timing.py>", "also run CPython's timing.py with python3 and show it alongside")
    .option("--json", "print the figures as JSON")
    .action((options: BenchOptions) => runBench(options, io));
}

interface ReplayOptions {
  json?: boolean;
  verify?: boolean;
  strategy: string;
}

/** A heap of `strategy`: growable up to `maxSize`, or (`fixed`) one plain ArrayBuffer of that size. */
function heapFor(strategy: string, maxSize = 1 << 30, fixed = false): Allocator {
  const made = strategyNamed(strategy);
  return fixed
    ? createHeap({ strategy: made, memory: new ArrayBuffer(maxSize) })
    : createHeap({ strategy: made, size: 1 << 20, maxSize });
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function runReplay(file: string, options: ReplayOptions, io: CliIo): void {
  const allocator = heapFor(options.strategy);
  const reader = new ScenarioReader(readTextFile(file), file);
  let ops = 0;
  let mismatches = 0;
  let firstMismatch = "";
  const verify = (step: ScenarioStep, state: ReplayState | null) => {
    ops++;
    if (!options.verify || state === null) return;
    const r = step.recorded;
    const checks: [string, unknown, unknown][] = [
      ["count", r.count, state.count],
      ["gens", r.gens, state.gens],
      ["fl", r.fl, state.fl],
      ["ll", r.ll, state.ll],
      ["gc", r.gc ?? [], state.gc],
    ];
    for (const [name, want, got] of checks) {
      if (want !== undefined && !same(want, got)) {
        mismatches++;
        firstMismatch ||= `line ${step.line}: ${name} recorded ${JSON.stringify(want)}, computed ${JSON.stringify(got)}`;
      }
    }
  };
  const result = replayScenario(reader, { allocator, onStep: verify });
  if (options.verify && reader.end) {
    if (reader.end.alive !== result.alive || reader.end.reachable !== result.reachable) {
      mismatches++;
      firstMismatch ||= `end: recorded alive ${reader.end.alive}, reachable ${reader.end.reachable}; computed ${result.alive}, ${result.reachable}`;
    }
  }
  if (options.json) {
    let out = "";
    for (const c of result.collections) {
      out += c.auto
        ? `{"line":${c.line},"auto":true,"generation":${c.generation},"collect":${c.found}}\n`
        : `{"line":${c.line},"collect":${c.found}}\n`;
    }
    out += `{"alive":${result.alive},"reachable":${result.reachable}}\n`;
    io.out(out);
  } else {
    const colors = colorsFor(io);
    const meta = reader.meta;
    io.out(
      `${colors.bold(file)}: ${meta.family ?? "scenario"} #${meta.index ?? "?"}, profile ${meta.profile ?? "?"}, ` +
        `${ops} ops, ${meta.roots} roots, thresholds ${meta.thresholds.join("/")}, ` +
        `automatic collection ${meta.gc_enabled ? "on" : "off"}\n`,
    );
    let out = "";
    for (const c of result.collections) {
      out += c.auto
        ? `  line ${c.line}: automatic collection of generation ${c.generation} found ${c.found} unreachable\n`
        : `  line ${c.line}: gc.collect() returned ${c.found}\n`;
    }
    io.out(out);
    const explicit = result.collections.filter((c) => !c.auto).length;
    const byGen = [0, 1, 2].map((g) => result.collections.filter((c) => c.auto && c.generation === g).length);
    io.out(
      `${explicit} explicit collection${explicit === 1 ? "" : "s"}, automatic ones by generation ${byGen.join("/")}; ` +
        `at the end ${result.alive} lists alive, ${result.reachable} reachable from the roots\n`,
    );
  }
  if (options.verify) {
    if (mismatches > 0)
      throw new Error(`${mismatches} difference(s) from the recorded CPython state; first: ${firstMismatch}`);
    io.err(`verified: every recorded field of ${ops} ops equals CPython's\n`);
  }
}

/**
 * Steps 1 to 3 of the demo: a cycle a ⇄ b with c hanging off b, the handles dropped, `collect()`;
 * tells each step through `say` and returns the figures.
 */
function collectACycle(
  gc: RefcountCycles,
  say: (text: string) => void,
  colors: ReturnType<typeof colorsFor>,
) {
  const node = gc.defineType({ name: "Node", refs: 2, bytes: 8 });
  say(colors.bold("1. Three objects: a and b refer to each other (a cycle), c hangs off b."));
  const a = gc.new(node);
  const b = gc.new(node);
  const c = gc.new(node);
  gc.set(a.ptr, 0, b.ptr);
  gc.set(b.ptr, 0, a.ptr);
  gc.set(b.ptr, 1, c.ptr);
  const objects = { a: a.ptr, b: b.ptr, c: c.ptr };
  const refcounts = () => ({
    a: gc.refcount(objects.a),
    b: gc.refcount(objects.b),
    c: gc.refcount(objects.c),
  });
  const shown = (counts: Record<string, number>) =>
    Object.entries(counts)
      .map(([name, n]) => `${name}: refcount ${n}`)
      .join("   ");
  const created = refcounts();
  say(`   ${shown(created)}   (one from JS, the rest from each other)`);
  let weakrefCalled = false;
  const wr = gc.weakref(objects.a, () => {
    weakrefCalled = true;
    say("   weakref callback: a is gone (run before any finalizer)");
  });
  const countBefore = gc.getCount();
  const tracked = gc.getObjects().length;
  say(`   gc.get_count() = [${countBefore.join(", ")}]   objects tracked: ${tracked}`);

  say(colors.bold("\n2. JS drops its three handles."));
  a.release();
  b.release();
  c.release();
  const dropped = refcounts();
  say(`   ${shown(dropped)}`);
  say("   Reference counting alone cannot free them: each is still referred to from inside the cycle.");

  say(colors.bold("\n3. gc.collect(): update_refs, subtract_refs, move_unreachable."));
  const found = gc.collect();
  say(`   collect() returned ${found}: a, b and c were unreachable; they are freed.`);
  const alive = { a: gc.isAlive(objects.a), b: gc.isAlive(objects.b), c: gc.isAlive(objects.c) };
  const weakrefTarget = gc.deref(wr);
  say(`   a alive? ${alive.a}   b alive? ${alive.b}   c alive? ${alive.c}   weakref → ${weakrefTarget}`);
  gc.decref(wr);

  return {
    refcounts: { created, dropped },
    count: countBefore,
    tracked,
    collected: found,
    alive,
    weakref: { target: weakrefTarget, callbackRan: weakrefCalled },
  };
}

interface DemoOptions {
  strategy: string;
  json?: boolean;
}

function runDemo(options: DemoOptions, io: CliIo): void {
  const colors = colorsFor(io);
  const allocator = heapFor(options.strategy, 1 << 20);
  const gc = new RefcountCycles(allocator, { profile: "plain" });
  // under --json the story is not told: the figures are gathered into one object instead
  const say = (text: string) => {
    if (!options.json) io.out(`${text}\n`);
  };
  const callbacks: { phase: "start" | "stop"; info: CollectionInfo }[] = [];
  gc.callbacks.push((phase: "start" | "stop", info: CollectionInfo) => {
    callbacks.push({ phase, info: { ...info } });
    say(colors.dim(`  callback ${phase} ${JSON.stringify(info)}`));
  });

  const cycle = collectACycle(gc, say, colors);

  say(colors.bold("\n4. gc.get_stats()"));
  const generations = gc.getStats();
  generations.forEach((s, g) => {
    say(
      `   generation ${g}: collections ${s.collections}, collected ${s.collected}, uncollectable ${s.uncollectable}`,
    );
  });
  const stats = allocator.stats();
  say(
    `\nheap: ${stats.liveBlocks} live block(s) of ${stats.liveBytes} bytes left (the collector's own list heads).`,
  );
  if (options.json) {
    io.out(
      `${JSON.stringify({
        strategy: options.strategy,
        ...cycle,
        callbacks,
        generations,
        heap: { liveBlocks: stats.liveBlocks, liveBytes: stats.liveBytes },
      })}\n`,
    );
  }
}

interface BenchOptions {
  n: string;
  k: string;
  repeat: string;
  plan: string;
  strategy: string;
  python?: string;
  json?: boolean;
}

function positiveList(option: string, text: string): number[] {
  const values = text.split(",").map((v) => (/^\d+$/.test(v.trim()) ? Number(v.trim()) : Number.NaN));
  if (values.some((v) => !Number.isSafeInteger(v) || v < 1)) {
    throw new UsageError(`${option} expects whole numbers ≥ 1, comma-separated, got "${text}"`);
  }
  return values;
}

/** Runs CPython's timing.py for one size and reads its line; null if it printed none. */
function runTimingPy(
  script: string,
  n: number,
  k: number,
  repeat: number,
): Omit<CollectTiming, "plan"> | null {
  let text: string;
  try {
    // CPython runs with the user's malloc, not the one heapkit's launcher tuned for itself
    text = execFileSync("python3", [script, "--n", String(n), "--k", String(k), "--repeat", String(repeat)], {
      encoding: "utf8",
      maxBuffer: 1 << 20,
      env: userEnvironment(process.env),
    });
  } catch (error) {
    throw new Error(`python3 ${script} failed: ${(error as Error).message}`);
  }
  for (const line of text.split("\n")) {
    const m =
      /^N=(\d+)\s+first=([\d.]+)s\s+reachable median=([\d.]+)s.*del root=([\d.]+)s\s+unreachable median=([\d.]+)s.*collected=(\[.*\])/.exec(
        line,
      );
    if (!m) continue;
    return {
      n: Number(m[1]),
      k,
      firstCollect: Number(m[2]),
      reachable: Number(m[3]),
      dropRoot: Number(m[4]),
      unreachable: Number(m[5]),
      collected: JSON.parse(m[6]),
    };
  }
  return null;
}

function runBench(options: BenchOptions, io: CliIo): void {
  const sizes = positiveList("--n", options.n);
  const [k] = positiveList("--k", options.k);
  const [repeat] = positiveList("--repeat", options.repeat);
  const plans = options.plan.split(",").map((p) => p.trim()) as PlanName[];
  for (const p of plans) {
    if (!planNames.includes(p))
      throw new UsageError(`unknown plan "${p}": choose from ${planNames.join(", ")}`);
  }
  heapFor(options.strategy, 1 << 20); // validates the name
  const rows: Record<string, unknown>[] = [];
  if (!options.json) {
    io.err("heapkit: the JIT is warmed up on a 20 000-object graph first; figures are medians, in seconds\n");
  }
  const fmt = (s: number) => s.toFixed(4);
  const show = (who: string, t: Omit<CollectTiming, "plan">) => {
    rows.push({ who, ...t });
    if (options.json) return;
    io.out(
      `${who.padEnd(23)} N=${t.n} K=${t.k}: first ${fmt(t.firstCollect)}s  reachable ${fmt(t.reachable)}s  ` +
        `drop root ${fmt(t.dropRoot)}s  unreachable ${fmt(t.unreachable)}s  collected ${t.collected.join(",")}\n`,
    );
  };
  // per size: CPython first, then each plan, so that both run under the same machine load
  for (const n of sizes) {
    if (options.python) {
      const timing = runTimingPy(options.python, n, k, repeat);
      if (timing !== null) show("CPython", timing);
    }
    for (const plan of plans) {
      // objects of 32 + 4K bytes plus allocator headers, the root's item block, and room to spare
      const maxSize = Math.min(0x7fff_0000, Math.max(64 << 20, n * (k * 4 + 96) + (16 << 20)));
      // a plain ArrayBuffer: typed arrays over a resizable one are slower in node 20
      show(
        `heapkit ${plan}`,
        timeCollect(plan, () => heapFor(options.strategy, maxSize, true), { n, k, repeat }),
      );
    }
  }
  if (options.json) io.out(`${JSON.stringify(rows)}\n`);
}
