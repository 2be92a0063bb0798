/**
 * `heapkit record [--out FILE] -- CMD ARGS…` — runs a real program under glibc's mtrace and writes its
 * allocation trace.
 *
 * glibc traces only when the program itself calls `mtrace()`. So the command preloads glibc's
 * `libc_malloc_debug.so.0` (where the tracing hooks live since glibc 2.34) together with a tiny shared
 * object whose constructor sets `MALLOC_TRACE` to a file named after the process id and calls
 * `mtrace()`. That object is compiled with the system's C compiler on first use and cached under
 * `$XDG_CACHE_HOME/heapkit` (or `~/.cache/heapkit`). Each process of the command that starts a
 * program writes its own file.
 *
 * @module
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { readTrace } from "@heapkit/trace";
import type { Command } from "commander";
import { type CliIo, UsageError } from "../io.js";
import { count, formatBytes } from "./trace-run.js";

/** The C source of the preloaded object. */
export const SHIM_SOURCE = `/* heapkit record: start glibc's mtrace in every process, one file per pid */
#include <fcntl.h>
#include <mcheck.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void heapkit_mtrace_start(void) {
  const char *prefix = getenv("HEAPKIT_MTRACE_PREFIX");
  if (prefix == NULL || prefix[0] == '\\0') return;
  char path[4096];
  /* say which program this process runs: its command line, NULs made spaces */
  snprintf(path, sizeof path, "%s.%ld.cmd", prefix, (long)getpid());
  int in = open("/proc/self/cmdline", O_RDONLY);
  int out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (in >= 0 && out >= 0) {
    char buf[512];
    ssize_t n = read(in, buf, sizeof buf);
    for (ssize_t i = 0; i < n; i++) if (buf[i] == '\\0') buf[i] = ' ';
    if (n > 0) (void)!write(out, buf, (size_t)n);
  }
  if (in >= 0) close(in);
  if (out >= 0) close(out);
  snprintf(path, sizeof path, "%s.%ld.mtrace", prefix, (long)getpid());
  setenv("MALLOC_TRACE", path, 1);
  mtrace();
}
`;

/** Where compiled objects are cached. */
export function cacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "heapkit");
}

/** The path of glibc's malloc debug library, or undefined when there is none (not glibc, or older than 2.34). */
export function findMallocDebug(): string | undefined {
  try {
    const listing = execFileSync("ldconfig", ["-p"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    const match = /libc_malloc_debug\.so\.0 \([^)]*\) => (\S+)/.exec(listing);
    if (match && existsSync(match[1])) return match[1];
  } catch {
    // no ldconfig: look in the usual places
  }
  for (const dir of [
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/lib64",
    "/usr/lib",
  ]) {
    const file = join(dir, "libc_malloc_debug.so.0");
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** The C compiler to use: `$CC`, else `cc`, `gcc` or `clang` on the PATH; undefined if none. */
export function findCompiler(): string | undefined {
  const candidates = [process.env.CC, "cc", "gcc", "clang"].filter((name): name is string => !!name);
  for (const name of candidates) {
    try {
      execFileSync(name, ["--version"], { stdio: "ignore" });
      return name;
    } catch {
      // try the next
    }
  }
  return undefined;
}

/** Builds the preloaded object if it is not cached yet; returns its path. */
export function ensureShim(): string {
  const hash = createHash("sha256").update(SHIM_SOURCE).digest("hex").slice(0, 12);
  const dir = cacheDir();
  const object = join(dir, `mtrace-start-${hash}.so`);
  if (existsSync(object)) return object;
  const compiler = findCompiler();
  if (compiler === undefined) {
    throw new Error(
      "heapkit record needs a C compiler to build its small preload object once: install one (apt-get install gcc) or set CC",
    );
  }
  mkdirSync(dir, { recursive: true });
  const source = join(dir, `mtrace-start-${hash}.c`);
  writeFileSync(source, SHIM_SOURCE);
  const temporary = `${object}.${process.pid}.tmp`;
  try {
    execFileSync(compiler, ["-shared", "-fPIC", "-O2", "-o", temporary, source], {
      stdio: ["ignore", "ignore", "pipe"],
    });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim().split("\n")[0] ?? "";
    throw new Error(`could not compile the preload object with ${compiler}: ${stderr}`);
  }
  renameSync(temporary, object);
  return object;
}

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
        "starts writes its own file (FILE with the pid before the extension); with a single process, FILE itself.",
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
      env: { ...process.env, LD_PRELOAD: preload, HEAPKIT_MTRACE_PREFIX: prefix },
    });
    child.on("error", (error) => fail(new Error(`could not run ${command[0]}: ${error.message}`)));
    child.on("exit", (exitCode, signal) => done(exitCode ?? (signal ? 128 : 1)));
  });
  const seconds = (performance.now() - started) / 1000;
  const dir = dirname(prefix);
  const written = readdirSync(dir)
    .filter((name) => name.startsWith(`${basename(prefix)}.`) && name.endsWith(".mtrace"))
    .map((name) => ({
      file: join(dir, name),
      pid: Number(name.slice(basename(prefix).length + 1, -".mtrace".length)),
    }))
    .sort((a, b) => a.pid - b.pid);
  if (written.length === 0) {
    throw new Error(
      `${command[0]} wrote no trace: a statically linked or setuid program ignores LD_PRELOAD (exit code ${code})`,
    );
  }
  const files: { file: string; pid: number; program: string }[] = [];
  for (const entry of written) {
    const commandFile = entry.file.replace(/\.mtrace$/, ".cmd");
    let program = "";
    try {
      program = readFileSync(commandFile, "latin1").trim();
      unlinkSync(commandFile);
    } catch {
      // the process wrote no command line
    }
    const target = written.length === 1 ? plain : `${stem}.${entry.pid}.mtrace`;
    renameSync(entry.file, target);
    if (gzip) {
      await pipeline(createReadStream(target), createGzip(), createWriteStream(`${target}.gz`));
      unlinkSync(target);
      files.push({ file: `${target}.gz`, pid: entry.pid, program });
    } else {
      files.push({ file: target, pid: entry.pid, program });
    }
  }
  io.err(
    `heapkit: ${command.join(" ")} ran in ${seconds.toFixed(1)} s under mtrace (glibc ${glibc}); ${files.length} process${files.length === 1 ? "" : "es"} wrote traces:\n`,
  );
  for (const { file, pid, program } of files) {
    const reader = readTrace(file, { lenient: true });
    for await (const _batch of reader.batches()) {
      // counting only
    }
    const s = reader.summary;
    io.out(
      `${file}  pid ${pid} (${program.length > 60 ? `${program.slice(0, 59)}…` : program || "?"}): ${count(s.allocs)} allocs, ${count(s.frees)} frees, ${count(s.reallocs)} reallocs, ` +
        `${count(s.liveAtEnd)} blocks (${formatBytes(s.liveBytesAtEnd)}) live at exit, ${count(s.unknownFrees)} unknown frees, ` +
        `${formatBytes(statSync(file).size)}\n`,
    );
  }
  if (code !== 0)
    throw new Error(`${command[0]} exited with code ${code} (its trace was written all the same)`);
}
