import { describe, expect, it } from "vitest";
import { commands } from "../src/commands/index.js";
import { commandLoaders, commandsFor } from "../src/commands/lazy.js";
import { buildProgram, type CliIo } from "../src/index.js";
import { VALUE_OPTIONS } from "../src/lib/read-ahead.js";

const io: CliIo = { out: () => {}, err: () => {}, errIsTTY: false, color: false };

describe("the executable's command loading", () => {
  it("has a loader for every command, giving that command's registrar", async () => {
    const names = buildProgram(io).commands.map((command) => command.name());
    expect(Object.keys(commandLoaders).sort()).toEqual([...names].sort());
    for (const name of names) expect(commands).toContain(await commandLoaders[name]());
  });

  it("loads only the command a line names, and every command otherwise", async () => {
    const replay = await commandsFor(["replay", "trace.rep", "--json"]);
    expect(replay).toEqual([await commandLoaders.replay()]);
    for (const argv of [[], ["--help"], ["help", "replay"], ["repaly"], ["toString"]]) {
      expect(await commandsFor(argv)).toBe(commands);
    }
  });

  it("knows every option of heapkit replay that takes a value, to find the trace it starts reading early", () => {
    const replay = buildProgram(io).commands.find((command) => command.name() === "replay");
    const taking = (replay?.options ?? [])
      .filter((option) => option.required || option.optional)
      .flatMap((option) => [option.short, option.long])
      .filter((flag) => flag !== undefined);
    expect([...taking].sort()).toEqual([...VALUE_OPTIONS].sort());
  });
});
