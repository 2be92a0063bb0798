/**
 * `heapkit record [--out FILE] -- CMD ARGS…` — runs a real program under glibc's mtrace (see
 * `lib/mtrace-preload.ts` for how) and writes its allocation trace. Each process the command starts
 * writes its own; the traced program's own goes to FILE, the others beside it with their pid in the
 * name, and the listing says which is which.
 *
 * @module
 */
import { spawn } from "node:child_process";
import {
  createReadStream,
  createWriteStream,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { readTrace, type TraceSummary } from "@heapkit/trace";
import type { Command } from "commander";
import { type CliIo, UsageError } from "../io.js";
import { count, formatBytes, plural } from "../lib/format.js";
import { userEnvironment } from "../lib/launcher.js";
import { ensureShim, findMallocDebug } from "../lib/mtrace-preload.js";
import { shellCommand } from "../lib/shell.js";
import { pickTracedProgram } from "../lib/traced-program.js";

interface RecordOptions {
  out: string;
}

/** Registers `heapkit record`. */
export function registerRecord(program: Command, io: CliIo): void {
  program
    .command("record")
    .description(
      "run a program under glibc's mtrace and write its allocation trace (Linux with glibc ≥ 2.34)",
    )
    .argument("<command...>", "the program and its arguments, after --")
    .option(
      "-o, --out <file>",
      "the trace to write (.mtrace, or .mtrace.gz to compress)",
      "heapkit-record.mtrace",
    )
    .addHelpText(
      "after",
      '\nExample:\n  PYTHONMALLOC=malloc heapkit record --out py.mtrace -- python3 -c "import json; json.dumps(list(range(9999)))"\n\n' +
        "PYTHONMALLOC=malloc makes CPython send its small objects to malloc too. Each process that the command\n" +
        "starts writes its own trace: the traced program's own is FILE (under a launcher such as a pyenv shim,\n" +
        "the process with the command's arguments), each other one FILE with its pid before the extension.",
    )
    .action((command: string[], options: RecordOptions) => runRecord(command, options, io));
}

async function runRecord(command: string[], options: RecordOptions, io: CliIo): Promise<void> {
  if (command.length === 0) throw new UsageError("record needs a command to run, after --");
  if (process.platform !== "linux")
    throw new Error(`heapkit record needs Linux with glibc; this is ${process.platform}`);
  const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)
    ?.header?.glibcVersionRuntime;
  if (glibc === undefined)
    throw new Error("heapkit record needs glibc's mtrace, and this system's C library is not glibc");
  const debug = findMallocDebug();
  if (debug === undefined) {
    throw new Error(
      `glibc ${glibc} has no libc_malloc_debug.so.0 (it came with glibc 2.34): mtrace cannot be preloaded`,
    );
  }
  const shim = ensureShim();
  const out = resolve(options.out);
  const gzip = out.endsWith(".gz");
  const plain = gzip ? out.slice(0, -3) : out;
  const stem = plain.replace(/\.mtrace$/, "");
  const prefix = `${stem}.heapkit-${process.pid}`;
  const preload = [debug, shim, process.env.LD_PRELOAD].filter(Boolean).join(" ");
  const started = performance.now();
  const code = await new Promise<number>((done, fail) => {
    const child = spawn(command[0], command.slice(1), {
      stdio: "inherit",
      env: { ...userEnvironment(process.env), LD_PRELOAD: preload, HEAPKIT_MTRACE_PREFIX: prefix },
    });
    child.on("error", (error) => fail(new Error(`could not run ${command[0]}: ${error.message}`)));
    child.on("exit", (exitCode, signal) => done(exitCode ?? (signal ? 128 : 1)));
  });
  const seconds = (performance.now() - started) / 1000;
  const traced = await readTraces(prefix);
  if (traced.length === 0) {
    throw new Error(
      `${command[0]} wrote no trace: a statically linked or setuid program ignores LD_PRELOAD (exit code ${code})`,
    );
  }
  const picked = pickTracedProgram(command, traced);
  const files: (TracedFile & { file: string })[] = [];
  for (const entry of traced) {
    const target = entry.pid === picked?.pid ? plain : `${stem}.${entry.pid}.mtrace`;
    renameSync(entry.trace, target);
    if (gzip) {
      await pipeline(createReadStream(target), createGzip(), createWriteStream(`${target}.gz`));
      unlinkSync(target);
    }
    files.push({ ...entry, file: gzip ? `${target}.gz` : target });
  }
  io.err(
    `heapkit: ${shellCommand(command)} ran in ${seconds.toFixed(1)} s under mtrace (glibc ${glibc}); ` +
      `${plural(files.length, "process", "processes")} wrote traces` +
      (picked && files.length > 1
        ? `; the traced program's own is ${out} (pid ${picked.pid}, picked by ${picked.reason})`
        : "") +
      ":\n",
  );
  for (const { file, pid, argv, summary: s } of files) {
    const program = shellCommand(argv);
    io.out(
      `${file}  pid ${pid} (${program.length > 60 ? `${program.slice(0, 59)}…` : program || "?"}): ${count(s.allocs)} allocs, ${count(s.frees)} frees, ${count(s.reallocs)} reallocs, ` +
        `${count(s.liveAtEnd)} blocks (${formatBytes(s.liveBytesAtEnd)}) live at exit, ${count(s.unknownFrees)} unknown frees, ` +
        `${formatBytes(statSync(file).size)}${pid === picked?.pid ? "  ← the traced program" : ""}\n`,
    );
  }
  if (code !== 0)
    throw new Error(`${command[0]} exited with code ${code} (its trace was written all the same)`);
}

/** A trace one process wrote, with what it ran and what reading it found. */
interface TracedFile {
  /** The process id. */
  pid: number;
  /** Its arguments (empty if it wrote none). */
  argv: string[];
  /** The trace file as the process wrote it. */
  trace: string;
  /** What reading it found. */
  summary: TraceSummary;
  /** Its allocations. */
  allocs: number;
}

/** The traces written under `prefix`, by pid, each read once for its figures; the argument files are removed. */
async function readTraces(prefix: string): Promise<TracedFile[]> {
  const dir = dirname(prefix);
  const name = basename(prefix);
  const traced: TracedFile[] = [];
  for (const entry of readdirSync(dir)) {
    if (!entry.startsWith(`${name}.`) || !entry.endsWith(".mtrace")) continue;
    const pid = Number(entry.slice(name.length + 1, -".mtrace".length));
    const trace = join(dir, entry);
    const argumentFile = `${prefix}.${pid}.cmd`;
    let argv: string[] = [];
    try {
      argv = readFileSync(argumentFile, "utf8").split("\0");
      if (argv.at(-1) === "") argv.pop();
      unlinkSync(argumentFile);
    } catch {
      // the process wrote no arguments
    }
    const reader = readTrace(trace, { lenient: true });
    for await (const _batch of reader.batches()) {
      // counting only
    }
    traced.push({ pid, argv, trace, summary: reader.summary, allocs: reader.summary.allocs });
  }
  return traced.sort((a, b) => a.pid - b.pid);
}
