// Bundles the executable from its sources after tsc: dist/bin.js becomes one module with its dependencies (heapkit's
// packages, commander) and a chunk per command, loaded as before only when its command runs. Node
// resolves, reads and compiles each ES module on its own; `heapkit replay` loaded 63 of them, and the
// bundle cut a run of a 7-op trace from ~0.19 to ~0.15 s (node alone: ~0.09 s). Everything is written
// flat into dist/, beside package.json's folder as the sources expect: `../package.json` (the
// version) and the worker scripts (`./pool-worker.js`, `./read-worker.js`) are found from
// `import.meta.url`. The library entry (dist/index.js and the rest of tsc's output) is left as it is.
import { chmodSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const CHUNK_PREFIX = "bin-chunk-";
for (const file of readdirSync(dist)) if (file.startsWith(CHUNK_PREFIX)) unlinkSync(join(dist, file));

const require = createRequire(join(dist, "bin.js"));
const banner = {
  js: 'import { createRequire as heapkitRequire } from "node:module";\nconst require = heapkitRequire(import.meta.url);',
};
/** `heapkit replay`'s own module, built apart below: bin.js imports it as it is. */
const replayMainApart = {
  name: "replay-main-apart",
  setup(build) {
    build.onResolve({ filter: /^\.\/replay-main\.js$/ }, (args) => ({ path: args.path, external: true }));
  },
};
/**
 * commander requires node:child_process when it loads, for subcommands that are executables of their own,
 * which heapkit has none of; loading it (with net, dgram and their streams) takes some 5 ms of each run
 * (`require("node:child_process")` in a fresh node 20 at load ~1: 4.3–5.0 ms, 12 runs). It is
 * required on first use instead.
 */
const lazyChildProcess = {
  name: "lazy-child-process",
  setup(build) {
    build.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[\\/]commander[\\/]/.test(args.importer)
        ? { path: "child_process", namespace: "lazy-builtin" }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, () => ({
      contents:
        'let loaded;\nmodule.exports = new Proxy({}, { get: (_, key) => (loaded ??= require("node:child_process"))[key] });',
      loader: "js",
    }));
  },
};
/** What both builds below share. */
const common = {
  outdir: dist,
  allowOverwrite: true,
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // cli-progress is required at run time when a bar first shows; commander is CommonJS and requires node's modules
  external: ["cli-progress"],
  banner,
  sourcemap: true,
  logLevel: "warning",
};
await build({
  ...common,
  entryPoints: {
    bin: join(root, "src", "bin.ts"),
    "pool-worker": join(root, "src", "lib", "pool-worker.ts"),
    "read-worker": join(dirname(require.resolve("@heapkit/trace/node")), "read-worker.js"),
  },
  splitting: true,
  chunkNames: `${CHUNK_PREFIX}[hash]`,
  plugins: [replayMainApart, lazyChildProcess],
});
// `heapkit replay`: one module with all it needs (the replay command, the program, commander, the
// trace, the heap and the strategies). A 7-op replay loaded 19 chunks of the split bundle, each
// resolved, read and compiled on its own: 0.183 s against 0.161 s from this module (see the README).
await build({
  ...common,
  entryPoints: { "replay-main": join(root, "src", "replay-main.ts") },
  plugins: [lazyChildProcess],
});

/**
 * The executable's first two lines: a POSIX shell script that is also a JavaScript module. `sh` runs line 2
 * (`":"` does nothing) and execs node on this same file with glibc's malloc tuned for a short process
 * that allocates a lot (see the README): transparent huge pages for what it maps (the heap's buffer and
 * its own heap), one arena for all threads (V8's compiler threads reuse the memory one another freed),
 * its heap grown 64 MiB at a time and not trimmed below 256 MiB. A page first touched cost 11–14 µs
 * on the VM measured; a python-json-10k replay made 8,600–10,100 page faults with huge pages alone and
 * 3,640–3,760 so (the README's measurements). The user's own
 * GLIBC_TUNABLES comes last, so it wins (`glibc.malloc.hugetlb=0` turns huge pages off). node reads
 * line 1 as a hashbang and line 2 as a string and a comment. A shell rather than
 * `#!/usr/bin/env -S VAR=… node`: pnpm 12's bin shims take the word after `env -S` for the program
 * (`exec: GLIBC_TUNABLES=…: not found`), while its shim for `#!/bin/sh` runs `/bin/sh bin.js`, and npm
 * links the file. The line added shifts the source map by one line. The tunables are src/lib/launcher.ts's
 * (tsc has built it), which `heapkit record` and `heapkit gc bench --python` take off again for the
 * programs they start.
 */
const { LAUNCHER_TUNABLES } = await import(pathToFileURL(join(dist, "lib", "launcher.js")).href);
const LAUNCHER = `#!/bin/sh\n":" //; export GLIBC_TUNABLES="${LAUNCHER_TUNABLES}:$GLIBC_TUNABLES"; exec node "$0" "$@"\n`;
const binFile = join(dist, "bin.js");
const bin = readFileSync(binFile, "utf8");
if (!bin.startsWith("#!")) throw new Error(`${binFile} does not start with a hashbang`);
writeFileSync(binFile, LAUNCHER + bin.slice(bin.indexOf("\n") + 1));
chmodSync(binFile, 0o755);
const mapFile = `${binFile}.map`;
const map = JSON.parse(readFileSync(mapFile, "utf8"));
map.mappings = `;${map.mappings}`;
writeFileSync(mapFile, JSON.stringify(map));
