/**
 * What the executable runs for `heapkit replay …`: the same as {@link run} for that command line (the
 * program with the replay command only), built by `scripts/bundle.mjs` as one module of its own,
 * `dist/replay-main.js`, with everything a replay needs in it. Node resolves, reads and compiles each
 * ES module on its own, and the replay's thirteen chunks of the split bundle cost it ~35 ms of a
 * run (see the README).
 *
 * @module
 */
import { registerReplay } from "./commands/replay.js";
import { endQuietlyOnClosedPipe, processIo } from "./io.js";
import { startReaderEarly } from "./lib/read-ahead.js";
import { runProgram } from "./program.js";

/** Starts reading the trace ahead where it should (see `lib/read-ahead.ts`), then runs `heapkit replay …`. */
export async function runReplay(argv: readonly string[]): Promise<void> {
  await startReaderEarly(argv);
  endQuietlyOnClosedPipe();
  process.exitCode = await runProgram(argv, processIo(), [registerReplay]);
}
