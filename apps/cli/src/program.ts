/**
 * The program without its commands: commander set up to write through a {@link CliIo}, and the run
 * that turns errors into exit codes and messages. {@link runProgram} takes the commands to register,
 * so that `bin.ts` can load only the one a command line names (see `lazy.ts`) while `main` in `cli.ts`
 * registers them all.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import type { CommandRegistrar } from "./commands/registrar.js";
import { type CliIo, errorFields, UsageError } from "./io.js";

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

/** Options of `buildProgram`. */
export interface ProgramOptions {
  /** Leave commander's own error messages unwritten: the caller reports them (as JSON). */
  quietErrors?: boolean;
}

/** The program with the given commands registered, writing through `io`. */
export function programWith(
  io: CliIo,
  commands: readonly CommandRegistrar[],
  options: ProgramOptions = {},
): Command {
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

/** Runs the program of `commands` on `argv` (without node and the script) and returns the exit code. */
export async function runProgram(
  argv: readonly string[],
  io: CliIo,
  commands: readonly CommandRegistrar[],
): Promise<number> {
  const json = asksForJson(argv);
  const program = programWith(io, commands, { quietErrors: json });
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
