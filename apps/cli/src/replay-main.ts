/**
 * What the executable runs for `heapkit replay …`: the same as {@link run} for that command line (the
 * program with the replay command only), built by `scripts/bundle.mjs` as one module of its own,
 * `dist/replay-main.js`, with everything a replay needs in it. Node resolves, reads and compiles each
 * ES module on its own: a 7-op replay, which loaded 19 chunks of the split bundle, took 0.183 s and
 * takes 0.161 s from this one module (with commander's node:child_process loaded on first use; see the
 * README).
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
