/**
 * What `heapkit record` preloads into the program it traces. glibc traces only when the program itself
 * calls `mtrace()`, so the command preloads glibc's `libc_malloc_debug.so.0` (where the tracing hooks
 * live since glibc 2.34) together with a tiny shared object whose constructor, in every process,
 * writes the process's arguments to `PREFIX.PID.cmd`, sets `MALLOC_TRACE` to `PREFIX.PID.mtrace` and
 * calls `mtrace()`. That object is compiled with the system's C compiler on first use and cached under
 * `$XDG_CACHE_HOME/heapkit` (or `~/.cache/heapkit`), named by a hash of its source.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

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
  /* say which program this process runs: its arguments as the kernel has them, NUL after each */
  snprintf(path, sizeof path, "%s.%ld.cmd", prefix, (long)getpid());
  int in = open("/proc/self/cmdline", O_RDONLY);
  int out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (in >= 0 && out >= 0) {
    char buf[4096];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0) (void)!write(out, buf, (size_t)n);
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
