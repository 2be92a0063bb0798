/**
 * Which of the processes a recorded command started is the program the user meant. A launcher — a
 * pyenv shim, `env`, a wrapper script — runs processes of its own before it `exec`s the real
 * program, and each writes a trace. The program is the process whose arguments after its own name
 * are the command's (a shell running a shim script has the script's path there instead), ideally
 * under the same name; among equals, or when none matches, the one that allocated the most.
 *
 * @module
 */
import { basename } from "node:path";

/** A process that wrote a trace. */
export interface TracedProcess {
  /** Its process id. */
  pid: number;
  /** Its arguments as the kernel had them when it last started a program (after any `exec`). */
  argv: readonly string[];
  /** The allocations in its trace. */
  allocs: number;
}

/** How {@link pickTracedProgram} chose. */
export type PickReason = "the only process" | "its arguments" | "its arguments and name" | "most allocations";

/** The process of `processes` that runs `command`, and why that one. */
export function pickTracedProgram(
  command: readonly string[],
  processes: readonly TracedProcess[],
): { pid: number; reason: PickReason } | undefined {
  if (processes.length <= 1) {
    return processes.length === 0 ? undefined : { pid: processes[0].pid, reason: "the only process" };
  }
  const wantedArgs = command.slice(1);
  const wantedName = basename(command[0] ?? "");
  const scored = processes.map((process) => {
    const args = process.argv.slice(1);
    const sameArgs = args.length === wantedArgs.length && args.every((arg, i) => arg === wantedArgs[i]);
    const sameName = basename(process.argv[0] ?? "") === wantedName;
    return { process, score: sameArgs ? (sameName ? 2 : 1) : 0 };
  });
  const best = Math.max(...scored.map((entry) => entry.score));
  const mostAllocating = scored
    .filter((entry) => entry.score === best)
    .reduce((a, b) => (b.process.allocs > a.process.allocs ? b : a));
  const reason: PickReason =
    best === 2 ? "its arguments and name" : best === 1 ? "its arguments" : "most allocations";
  return { pid: mostAllocating.process.pid, reason };
}
