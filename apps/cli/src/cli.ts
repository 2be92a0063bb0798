/**
 * The `heapkit` command line. {@link main} parses the arguments with commander, runs the command and
 * returns the exit code: 0 on success, 1 when the command failed (a heap error, a bad trace), 2 for a
 * command line that cannot run (unknown command or option, bad option value). Errors are one line on
 * standard error, starting `heapkit:`.
 *
 * @module
 */
import { Command, CommanderError } from "commander";
import { commands } from "./commands/index.js";
import { type CliIo, processIo, UsageError } from "./io.js";

/** The version printed by `heapkit --version`. */
export const VERSION = "0.1.0";

/** Exit codes. */
export const EXIT_OK = 0;
/** The command ran and failed. */
export const EXIT_FAILURE = 1;
/** The command line was wrong. */
export const EXIT_USAGE = 2;

/** Builds the program with every command registered, writing through `io`. */
export function buildProgram(io: CliIo): Command {
  const program = new Command("heapkit")
    .description("malloc, free and garbage collection inside a JavaScript buffer: demo, replay, compare, see")
    .version(VERSION)
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => io.out(text),
      writeErr: (text) => io.err(text),
      outputError: (text, write) => write(text.replace(/^error:/, "heapkit:")),
    });
  for (const register of commands) register(program, io);
  return program;
}

/** Runs the CLI on `argv` (without node and the script) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version "errors" are successes; every other commander error is a usage error
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (error instanceof UsageError) {
      io.err(`heapkit: ${error.message}\n`);
      return EXIT_USAGE;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.err(`heapkit: ${message}\n`);
    if (process.env.HEAPKIT_DEBUG && error instanceof Error) io.err(`${error.stack}\n`);
    return EXIT_FAILURE;
  }
}
