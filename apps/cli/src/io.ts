/**
 * What a command writes to and how it fails. Commands never call `process.exit`: they write through
 * a {@link CliIo} and throw a {@link UsageError} (exit 2) or any other error (exit 1), so the whole
 * CLI runs inside tests exactly as it runs in a terminal.
 *
 * @module
 */
import pc from "picocolors";

/** The streams a command writes to. */
export interface CliIo {
  /** Writes to standard output (the result). */
  out(text: string): void;
  /** Writes to standard error (progress, warnings, errors). */
  err(text: string): void;
  /** True if standard error is a terminal (progress bars go there). */
  readonly errIsTTY: boolean;
  /** True if output may be coloured. */
  readonly color: boolean;
}

/** The process's own streams; colour follows picocolors' detection (NO_COLOR, FORCE_COLOR, TTY). */
export function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    errIsTTY: process.stderr.isTTY === true,
    color: pc.isColorSupported,
  };
}

/**
 * Makes a closed standard output end the process quietly with exit code 0, as Unix tools do under
 * `| head`: node ignores SIGPIPE, so without this a write to a closed pipe is an `EPIPE` error event
 * that kills the process with a stack trace and exit code 1. Standard error gets the same treatment,
 * since there is nowhere left to report on.
 */
export function endQuietlyOnClosedPipe(
  streams: readonly NodeJS.EventEmitter[] = [process.stdout, process.stderr],
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  for (const stream of streams) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") exit(0);
      else throw error;
    });
  }
}

/** A command line that cannot run as written: bad option value, missing argument. Exit code 2. */
export class UsageError extends Error {
  /** A stable code, as heapkit's error classes have. */
  readonly code = "USAGE" as const;

  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * An error as plain data for `--json` output: its `code` (the stable code of heapkit's error classes,
 * a node system error's code such as `ENOENT`, or `"ERROR"`), its name and message, and every other
 * field it carries (what was asked, where, the allowed range).
 */
export function errorFields(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { code: "ERROR", name: "Error", message: String(error) };
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (key !== "stack" && key !== "cause" && isJsonValue(value)) fields[key] = value;
  }
  const code = typeof fields.code === "string" ? fields.code : "ERROR";
  return { ...fields, code, name: error.name, message: error.message };
}

function isJsonValue(value: unknown): boolean {
  return (
    value === null ||
    typeof value === "string" ||
    typeof value === "boolean" ||
    (typeof value === "number" && Number.isFinite(value))
  );
}

/** Colours for a CLI run: real ones when `io.color`, identity functions otherwise. */
export function colorsFor(io: CliIo): ReturnType<typeof pc.createColors> {
  return pc.createColors(io.color);
}
