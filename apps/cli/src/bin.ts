#!/usr/bin/env node
// The executable. Before anything else loads: a large trace to replay is read in a thread beside the
// replay (lib/read-ahead.ts), started now so that its start-up overlaps loading the CLI's modules.
const argv = process.argv.slice(2);
if (argv[0] === "replay") await (await import("./lib/read-ahead.js")).startReaderEarly(argv);
// only the command the line names is loaded (all of them for --help or an unknown word): what `main` runs
await (await import("./run.js")).run(argv);
