import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DESCRIPTION, VERSION } from "../src/index.js";
import { run } from "./run.js";

let dir = "";
let tiny = "";
let tooBig = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "heapkit-cli-flaws-"));
  tiny = join(dir, "tiny.rep");
  writeFileSync(tiny, "150\n3\n7\n1\na 0 100\na 1 50\nf 0\na 2 30\nr 1 70\nf 1\nf 2\n");
  // block 1 (a megabyte) cannot fit a 4 KiB heap; it is never freed, so a reader alone counts it live
  tooBig = join(dir, "too-big.rep");
  writeFileSync(tooBig, "0\n3\n4\n1\na 0 100\na 1 1048576\na 2 40\nf 0\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the root command", () => {
  it("describes heapkit in a full sentence", async () => {
    const { code, out } = await run("--help");
    expect(code).toBe(0);
    expect(DESCRIPTION).toMatch(/^heapkit [a-z].*\.$/);
    expect(DESCRIPTION).not.toMatch(/, see$/);
    expect(out.replace(/\s+/g, " ")).toContain(DESCRIPTION);
  });

  it("prints the version of its package.json", async () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    const { code, out } = await run("--version");
    expect(code).toBe(0);
    expect(out).toBe(`${pkg.version}\n`);
    expect(VERSION).toBe(pkg.version);
  });
});

describe("errors under --json", () => {
  it("a failure is one JSON object on stderr with the error's code and fields, exit 1", async () => {
    const missing = join(dir, "nope.rep");
    const { code, out, err } = await run("replay", missing, "--json");
    expect(code).toBe(1);
    expect(out).toBe("");
    const { error } = JSON.parse(err);
    expect(error).toMatchObject({ exitCode: 1, message: `cannot read the trace ${missing}: no such file` });
    expect(typeof error.code).toBe("string");
  });

  it("a malformed trace names file and line as fields", async () => {
    const bad = join(dir, "bad.rep");
    writeFileSync(bad, "150\n3\n7\n1\na 0 100\nq 1 50\n");
    const { code, err } = await run("replay", bad, "--json");
    expect(code).toBe(1);
    expect(JSON.parse(err).error).toMatchObject({
      code: "TRACE_FORMAT",
      name: "TraceFormatError",
      file: bad,
      line: 6,
    });
  });

  it.each([
    [["replay", "TRACE", "--strategy", "worst-fit", "--json"], /unknown strategy "worst-fit"/],
    [["replay", "TRACE", "--max-heap", "lots", "--json"], /--max-heap expects bytes/],
    [["replay", "TRACE", "--frobnicate", "--json"], /unknown option '--frobnicate'/],
    [["demo", "--width", "wide", "--json"], /--width expects a whole number/],
  ])("a usage error (%j) is a JSON object with code USAGE, exit 2", async (argv, message) => {
    const { code, out, err } = await run(...argv.map((arg) => (arg === "TRACE" ? tiny : arg)));
    expect(code).toBe(2);
    expect(out).toBe("");
    expect(err.trim().split("\n")).toHaveLength(1);
    const { error } = JSON.parse(err);
    expect(error).toMatchObject({ code: "USAGE", exitCode: 2 });
    expect(error.message).toMatch(message);
  });

  it("without --json an error stays one line of text", async () => {
    const { code, err } = await run("replay", tiny, "--strategy", "worst-fit");
    expect(code).toBe(2);
    expect(err).toMatch(/^heapkit: unknown strategy "worst-fit"/);
  });

  it("a --json after -- belongs to the recorded command, not to heapkit", async () => {
    const { code, err } = await run("record", "--out", join(dir, "x.mtrace"), "--", "--json");
    expect(code).toBe(1);
    expect(err).toMatch(/^heapkit: /);
  });
});

describe("option values are echoed as typed", () => {
  it("--max-heap 1k is out of range and says 1k", async () => {
    const { code, err } = await run("replay", tiny, "--max-heap", "1k");
    expect(code).toBe(2);
    expect(err).toContain('got "1k"');
    expect(err).not.toContain("1024");
  });

  it("--max-heap accepts 4k, 256m, 1g, 2GiB-like suffixes within range", async () => {
    for (const value of ["4k", "64m", "1g", "65536"]) {
      expect((await run("replay", tiny, "--max-heap", value, "--json")).code).toBe(0);
    }
  });

  it.each([
    ["map", "--svg", "x.svg"],
    ["stats", "--strategy", "pymalloc"],
  ])("%s --at banana names the numbers, peak and end", async (command, ...options) => {
    const { code, err } = await run(command, tiny, "--at", "banana", ...options);
    expect(code).toBe(2);
    expect(err).toContain('got "banana"');
    expect(err).toMatch(/whole number/);
    expect(err).toContain('"peak"');
    expect(err).toContain('"end"');
  });
});

describe("replay counts the allocations the heap refused", () => {
  it("--lenient --json: in summary.failedAllocations, and not among the blocks live at the end", async () => {
    const { code, out } = await run("replay", tooBig, "--max-heap", "64k", "--lenient", "--json");
    expect(code).toBe(0);
    const result = JSON.parse(out);
    expect(result.failedAllocations).toBe(1);
    expect(result.summary.failedAllocations).toBe(1);
    // block 2 (40 bytes) is the only one live at the end: block 1 never existed in the heap
    expect(result.summary.liveAtEnd).toBe(1);
    expect(result.summary.liveBytesAtEnd).toBe(40);
  });

  it("compare's results carry the same summary", async () => {
    const { code, out } = await run(
      "compare",
      tooBig,
      "--strategies",
      "best-fit",
      "--max-heap",
      "64k",
      "--json",
    );
    expect(code).toBe(0);
    const [result] = JSON.parse(out).results;
    expect(result.summary).toMatchObject({ failedAllocations: 1, liveAtEnd: 1, liveBytesAtEnd: 40 });
  });

  it("a trace without failures keeps the reader's figures", async () => {
    const { out } = await run("replay", tiny, "--json");
    expect(JSON.parse(out).summary).toMatchObject({ failedAllocations: 0, liveAtEnd: 0, liveBytesAtEnd: 0 });
  });
});

describe("--json for demo, stats and gc demo", () => {
  it("demo --json: each step's call, pointer or error, figures and ASCII map", async () => {
    const { code, out, err } = await run("demo", "--json");
    expect(code).toBe(0);
    expect(err).toBe("");
    const demo = JSON.parse(out);
    expect(demo).toMatchObject({ strategy: "first-fit", size: 1024 });
    expect(demo.steps.map((step: { title: string }) => step.title)).toEqual([
      "Block1 allocated",
      "Block2 allocated",
      "Block1 freed",
      "Out of memory",
    ]);
    const [first, second, freed, failed] = demo.steps;
    expect(first.ptr).toBeGreaterThan(0);
    expect(second.ptr).toBeGreaterThan(first.ptr);
    expect(freed.call).toBe(`free(${first.ptr})`);
    expect(freed.stats.liveBlocks).toBe(1);
    expect(failed.error).toMatchObject({ code: "HEAP_OUT_OF_MEMORY", requested: 1024 });
    expect(failed.error.largestFreeBlock).toBeLessThan(1024);
    for (const step of demo.steps) expect(step.map).toMatch(/^[#=. +]{64}$/);
  });

  it("stats --json: the op, the heap's stats and the report", async () => {
    const { code, out } = await run("stats", tiny, "--strategy", "pymalloc", "--json");
    expect(code).toBe(0);
    const stats = JSON.parse(out);
    expect(stats).toMatchObject({ strategy: "pymalloc", op: 2, peakLiveOp: 2 });
    expect(stats.stats.liveBlocks).toBe(2);
    expect(stats.report.split("\n").length).toBeGreaterThan(3);
  });
});
