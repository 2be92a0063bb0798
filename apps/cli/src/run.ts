/**
 * What the executable runs for any command line but `heapkit replay …` (which runs from
 * `replay-main.ts`; see `bin.ts`): the program with only the command its command line names.
 *
 * @module
 */
import { commandsFor } from "./commands/lazy.js";
import { endQuietlyOnClosedPipe, processIo } from "./io.js";
import { runProgram } from "./program.js";

/** Runs the CLI on `argv` and sets the process's exit code. */
export async function run(argv: readonly string[]): Promise<void> {
  endQuietlyOnClosedPipe();
  process.exitCode = await runProgram(argv, processIo(), await commandsFor(argv));
}
