/**
 * The `heapkit` command line. {@link main} parses the arguments with commander, runs the command and
 * returns the exit code: 0 on success, 1 when the command failed (a heap error, a bad trace), 2 for a
 * command line that cannot run (unknown command or option, bad option value). Errors are one line on
 * standard error, starting `heapkit:`; with `--json` on the command line, one JSON object
 * `{"error": {"code", "name", "message", …}}` instead, so a program reading the output never has to
 * parse prose.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { commands } from "./commands/index.js";
import { type CliIo, errorFields, processIo, UsageError } from "./io.js";

/**
 * The version printed by `heapkit --version`: the `version` of this package's package.json, read when
 * the CLI loads (the file sits one folder up from both `src/` and `dist/`), so a release that bumps
 * package.json changes what the CLI says.
 */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

/** Exit codes. */
export const EXIT_OK = 0;
/** The command ran and failed. */
export const EXIT_FAILURE = 1;
/** The command line was wrong. */
export const EXIT_USAGE = 2;

/** What `heapkit --help` says heapkit is. */
export const DESCRIPTION =
  "heapkit runs malloc, free and garbage collection inside a JavaScript buffer: it plays the seed " +
  "program, replays and compares allocation traces against every placement strategy, records real " +
  "programs' traces, and draws the heap.";

/** Options of {@link buildProgram}. */
export interface ProgramOptions {
  /** Leave commander's own error messages unwritten: the caller reports them (as JSON). */
  quietErrors?: boolean;
}

/** Builds the program with every command registered, writing through `io`. */
export function buildProgram(io: CliIo, options: ProgramOptions = {}): Command {
  const program = new Command("heapkit")
    .description(DESCRIPTION)
    .version(VERSION)
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => io.out(text),
      writeErr: (text) => io.err(text),
      outputError: (text, write) => {
        if (!options.quietErrors) write(text.replace(/^error:/, "heapkit:"));
      },
    });
  for (const register of commands) register(program, io);
  return program;
}

/** True if `--json` is among the options, before any `--` that starts a command to run. */
function asksForJson(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).includes("--json");
}

/** Runs the CLI on `argv` (without node and the script) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const json = asksForJson(argv);
  const program = buildProgram(io, { quietErrors: json });
  const report = (error: unknown, message: string, exitCode: number) => {
    if (json) io.err(`${JSON.stringify({ error: { ...errorFields(error), message, exitCode } })}\n`);
    else io.err(`heapkit: ${message}\n`);
    return exitCode;
  };
  try {
    await program.parseAsync([...argv], { from: "user" });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version "errors" are successes; every other commander error is a usage error
      if (error.exitCode === 0) return EXIT_OK;
      if (!json) return EXIT_USAGE;
      const message = error.message.replace(/^error: /, "");
      return report(new UsageError(message), message, EXIT_USAGE);
    }
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof UsageError) return report(error, message, EXIT_USAGE);
    report(error, message, EXIT_FAILURE);
    if (process.env.HEAPKIT_DEBUG && error instanceof Error) io.err(`${error.stack}\n`);
    return EXIT_FAILURE;
  }
}
