/**
 * The `assemblyscript` peer: AssemblyScript's own TLSF memory manager compiled to WebAssembly from
 * bench/wasm/assemblyscript-heap.ts with `asc -O3 --runtime minimal` (assemblyscript, an exact
 * devDependency of the bench) into bench/.cache, once per source, flags and compiler version; no
 * binary is committed. The cells call its exported `alloc`/`free`/`realloc` from JavaScript.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** The peer's name in the results. */
export const ASSEMBLYSCRIPT = "assemblyscript";

/** The flags of the build: optimized, the minimal runtime, and a memory the instance imports. */
export const ASC_FLAGS = ["-O3", "--runtime", "minimal", "--importMemory"];

/** The compiled module, or why there is none. */
export interface WasmBuild {
  /** Path of the .wasm file, or null. */
  wasm: string | null;
  /** What happened. */
  message: string;
}

/** Compiles `source` with asc into `cacheDir` unless the same build is there. */
export function buildAssemblyScriptPeer(source: string, cacheDir: string): WasmBuild {
  let ascPackage: string;
  try {
    ascPackage = createRequire(import.meta.url).resolve("assemblyscript/package.json");
  } catch {
    return { wasm: null, message: "assemblyscript is not installed (npx -y pnpm@12.4.2 install)" };
  }
  const version = (JSON.parse(readFileSync(ascPackage, "utf8")) as { version: string }).version;
  const hash = createHash("sha256")
    .update(readFileSync(source))
    .update(ASC_FLAGS.join(" "))
    .update(version)
    .digest("hex")
    .slice(0, 12);
  const wasm = join(cacheDir, `assemblyscript-${version}-${hash}.wasm`);
  if (existsSync(wasm)) return { wasm, message: "cached" };
  try {
    execFileSync(
      process.execPath,
      [join(dirname(ascPackage), "bin", "asc.js"), source, ...ASC_FLAGS, "-o", wasm],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    return { wasm, message: `built with asc ${version}` };
  } catch (e) {
    return { wasm: null, message: `asc failed: ${String((e as { stderr?: Buffer }).stderr ?? e)}` };
  }
}

/** What the module exports. */
export interface AssemblyScriptHeap {
  /** heap.alloc: a payload of at least `size` bytes (the module traps when memory cannot grow). */
  alloc(size: number): number;
  /** heap.free. */
  free(ptr: number): void;
  /** heap.realloc. */
  realloc(ptr: number, size: number): number;
}

/** A fresh instance over `memory`: its TLSF formats a new heap over the whole memory at the first call. */
export function instantiateAssemblyScriptHeap(
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
): AssemblyScriptHeap {
  const abort = (): never => {
    throw new Error("the AssemblyScript heap aborted (out of memory or a bad pointer)");
  };
  const instance = new WebAssembly.Instance(module, { env: { memory, abort } });
  return instance.exports as unknown as AssemblyScriptHeap;
}
