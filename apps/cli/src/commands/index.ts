/**
 * Every command of the CLI. A command is a module with a `register…(program, io)` function; it joins
 * the CLI by one line here and one in `lazy.ts` (the executable loads only the command it runs).
 *
 * @module
 */
import { registerCompare } from "./compare.js";
import { registerDemo } from "./demo.js";
import { registerFloor } from "./floor.js";
import { registerGc } from "./gc.js";
import { registerMap } from "./map.js";
import { registerRecord } from "./record.js";
import type { CommandRegistrar } from "./registrar.js";
import { registerReplay } from "./replay.js";
import { registerStats } from "./stats.js";
import { registerStrategies } from "./strategies.js";

export type { CommandRegistrar } from "./registrar.js";

/** The commands, in the order `heapkit --help` lists them. */
export const commands: readonly CommandRegistrar[] = [
  registerDemo,
  registerStrategies,
  registerReplay,
  registerCompare,
  registerRecord,
  registerMap,
  registerStats,
  registerFloor,
  registerGc,
];
