/**
 * What machine the figures come from, for the results page and the JSON.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { cpus, release, totalmem, type } from "node:os";

/** The machine a bench ran on. */
export interface Machine {
  /** OS name and kernel release. */
  os: string;
  /** CPU model as the OS names it. */
  cpu: string;
  /** Logical cores. */
  cores: number;
  /** Total memory in GiB. */
  memoryGiB: number;
  /** `process.version`. */
  node: string;
  /** The C compiler's first version line, or null if there is none. */
  cc: string | null;
  /** `python3 --version`, or null. */
  python: string | null;
  /** The C library (`ldd --version`, first line), or null. */
  libc: string | null;
}

function firstLine(cmd: string, args: string[]): string | null {
  try {
    const out = execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return out.split("\n")[0].trim() || null;
  } catch {
    return null;
  }
}

/** Describes this machine. */
export function describeMachine(): Machine {
  const list = cpus();
  return {
    os: `${type()} ${release()}`,
    cpu: list[0]?.model.trim() ?? "unknown",
    cores: list.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    cc: firstLine("cc", ["--version"]),
    python: firstLine("python3", ["--version"]),
    libc: firstLine("ldd", ["--version"]),
  };
}
