/**
 * The `heapkit` command line. {@link main} parses the arguments with commander, runs the command and
 * returns the exit code: 0 on success, 1 when the command failed (a heap error, a bad trace), 2 for a
 * command line that cannot run (unknown command or option, bad option value). Errors are one line on
 * standard error, starting `heapkit:`; with `--json` on the command line, one JSON object
 * `{"error": {"code", "name", "message", …}}` instead, so a program reading the output never has to
 * parse prose. The program itself is in `program.ts`; `bin.ts` runs it with only the command it needs.
 *
 * @module
 */
import type { Command } from "commander";
import { commands } from "./commands/index.js";
import { type CliIo, processIo } from "./io.js";
import { type ProgramOptions, programWith, runProgram } from "./program.js";

export {
  DESCRIPTION,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  type ProgramOptions,
  VERSION,
} from "./program.js";

/** Builds the program with every command registered, writing through `io`. */
export function buildProgram(io: CliIo, options: ProgramOptions = {}): Command {
  return programWith(io, commands, options);
}

/** Runs the CLI on `argv` (without node and the script) and returns the exit code. */
export function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  return runProgram(argv, io, commands);
}
