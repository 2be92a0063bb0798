#!/usr/bin/env node
import { commandsFor } from "./commands/lazy.js";
import { endQuietlyOnClosedPipe, processIo } from "./io.js";
import { runProgram } from "./program.js";

endQuietlyOnClosedPipe();
const argv = process.argv.slice(2);
// only the command the line names is loaded (all of them for --help or an unknown word): what `main` runs
process.exitCode = await runProgram(argv, processIo(), await commandsFor(argv));
