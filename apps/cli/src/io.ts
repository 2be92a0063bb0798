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

/** A command line that cannot run as written: bad option value, missing argument. Exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Parses a whole non-negative integer option, or throws a {@link UsageError} naming the option. */
export function parseCount(option: string, value: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new UsageError(`${option} expects a whole number from ${min} to ${max}, got "${value}"`);
  }
  return parsed;
}

/** Colours for a CLI run: real ones when `io.color`, identity functions otherwise. */
export function colorsFor(io: CliIo): ReturnType<typeof pc.createColors> {
  return pc.createColors(io.color);
}
