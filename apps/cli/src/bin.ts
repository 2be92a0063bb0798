#!/usr/bin/env node
// The executable. `heapkit replay` runs from a module of its own that holds everything a replay needs
// (replay-main.ts, one module of the bundle); any other command line loads only the command it names
// (run.ts). A large trace to replay may be read ahead, started before the rest loads (lib/read-ahead.ts).
// The built dist/bin.js starts with a two-line shell launcher instead of this hashbang (scripts/bundle.mjs):
// run as a program, it starts node with glibc's malloc tuned (huge pages, one arena; lib/launcher.ts).
const argv = process.argv.slice(2);
if (argv[0] === "replay") await (await import("./replay-main.js")).runReplay(argv);
else await (await import("./run.js")).run(argv);
