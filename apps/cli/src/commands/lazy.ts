/**
 * Each command's module by the command's name, loaded on demand: the executable registers only the
 * command its command line names, so `heapkit replay` does not load the GC, the HTML report, the
 * table renderer or `record`'s helpers (node's start-up and module loading are a good part of a short
 * run). A command line that names none of them (`--help`, a typo, `help replay`) gets every command,
 * with commander's suggestions. `test/lazy.test.ts` checks that this table lists every command of
 * `src/commands/index.ts`.
 *
 * @module
 */
import type { CommandRegistrar } from "./registrar.js";

/** The module of each command, by name. */
export const commandLoaders: Readonly<Record<string, () => Promise<CommandRegistrar>>> = {
  demo: async () => (await import("./demo.js")).registerDemo,
  strategies: async () => (await import("./strategies.js")).registerStrategies,
  replay: async () => (await import("./replay.js")).registerReplay,
  compare: async () => (await import("./compare.js")).registerCompare,
  record: async () => (await import("./record.js")).registerRecord,
  map: async () => (await import("./map.js")).registerMap,
  stats: async () => (await import("./stats.js")).registerStats,
  floor: async () => (await import("./floor.js")).registerFloor,
  gc: async () => (await import("./gc.js")).registerGc,
};

/** The commands a command line needs: the one its first word names, else all of them. */
export async function commandsFor(argv: readonly string[]): Promise<readonly CommandRegistrar[]> {
  const name = argv[0];
  if (name !== undefined && Object.hasOwn(commandLoaders, name)) return [await commandLoaders[name]()];
  return (await import("./index.js")).commands;
}
