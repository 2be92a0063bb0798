import { strategyNames } from "@heapkit/strategies";
import { describe, expect, it } from "vitest";
import { run } from "./run.js";

describe("heapkit demo", () => {
  it("prints the seed's four lines, each followed by a map", async () => {
    const { code, out, err } = await run("demo", "--ascii");
    expect(code).toBe(0);
    expect(err).toBe("");
    const titles = out.split("\n").filter((line) => /^[A-Z]/.test(line) && !line.startsWith("The seed"));
    expect(titles).toEqual(["Block1 allocated", "Block2 allocated", "Block1 freed", "Out of memory"]);
    const maps = out.split("\n").filter((line) => line.startsWith("  ["));
    expect(maps).toHaveLength(4);
    for (const map of maps) expect(map.slice(3, 3 + 64)).toMatch(/^[#=. ]{64}$/);
    // after the free, the first block's cells are free and the second block's are still used
    expect(maps[2]).toMatch(/^ {2}\[=\.+=#+ +\]/);
    expect(out).toContain("OutOfMemoryError");
  });

  it.each(strategyNames)("runs with --strategy %s", async (name) => {
    const { code, out } = await run("demo", "--strategy", name);
    expect(code).toBe(0);
    expect(out).toContain("Block1 freed");
  });

  it("rejects an unknown strategy with exit code 2 and lists the names", async () => {
    const { code, err } = await run("demo", "--strategy", "worst-fit");
    expect(code).toBe(2);
    expect(err).toMatch(/^heapkit: unknown strategy "worst-fit": choose one of first-fit/);
  });

  it("rejects a bad number with exit code 2", async () => {
    const { code, err } = await run("demo", "--width", "wide");
    expect(code).toBe(2);
    expect(err).toContain("--width expects a whole number");
  });
});

describe("the command line", () => {
  it("exits 2 on an unknown option and on an unknown command", async () => {
    const option = await run("demo", "--frobnicate");
    expect(option.code).toBe(2);
    expect(option.err).toContain("unknown option '--frobnicate'");
    const command = await run("demoo");
    expect(command.code).toBe(2);
    expect(command.err).toContain("unknown command 'demoo'");
    expect(command.err).toContain("demo");
  });

  it("exits 2 with help when no command is given", async () => {
    const { code, err } = await run();
    expect(code).toBe(2);
    expect(err).toContain("Usage: heapkit");
  });

  it("prints help for every command", async () => {
    for (const command of ["demo", "strategies"]) {
      const { code, out } = await run(command, "--help");
      expect(code).toBe(0);
      expect(out).toContain(`Usage: heapkit ${command}`);
    }
  });

  it("lists strategies as JSON", async () => {
    const { code, out } = await run("strategies", "--json");
    expect(code).toBe(0);
    const rows = JSON.parse(out) as { name: string }[];
    expect(rows.map((row) => row.name)).toEqual([...strategyNames]);
  });
});
