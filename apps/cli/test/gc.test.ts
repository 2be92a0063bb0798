import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { LAUNCHER_TUNABLES } from "../src/lib/launcher.js";
import { run } from "./run.js";

const oracle = join(dirname(fileURLToPath(import.meta.url)), "../../../packages/gc/test/oracle");
const SCENARIOS = [
  "disabled/disabled_001.jsonl.gz",
  "disabled/disabled_003.jsonl.gz",
  "auto/auto_000.jsonl.gz",
  "auto_small/auto_small_005.jsonl.gz",
  "auto_small/auto_small_009.jsonl.gz",
];
const tmp = mkdtempSync(join(tmpdir(), "heapkit-gc-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** What `gc replay --json` must print, read from what CPython recorded in the file. */
function expected(text: string): string {
  const out: string[] = [];
  text
    .trim()
    .split("\n")
    .forEach((raw, i) => {
      const o = JSON.parse(raw);
      if (o.op === "end") out.push(JSON.stringify({ alive: o.alive, reachable: o.reachable }));
      for (const [generation, n] of o.gc ?? []) {
        out.push(
          JSON.stringify(
            o.op === "collect"
              ? { line: i + 1, collect: n }
              : { line: i + 1, auto: true, generation, collect: n },
          ),
        );
      }
    });
  return `${out.join("\n")}\n`;
}

/** The file with every recorded CPython field removed. */
function stripped(text: string): string {
  return text
    .trim()
    .split("\n")
    .map((raw) => {
      const { expect: _e, count: _c, gens: _g, fl: _f, ll: _l, gc: _gc, ...rest } = JSON.parse(raw);
      return JSON.stringify(rest);
    })
    .join("\n");
}

describe("heapkit gc replay", () => {
  it.each(SCENARIOS)("%s: --json prints CPython's collections and end figures", async (name) => {
    const file = join(oracle, name);
    const text = gunzipSync(readFileSync(file)).toString("utf8");
    const { code, out, err } = await run("gc", "replay", file, "--json");
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out).toBe(expected(text));
  });

  it("works the same on a file whose recorded fields are stripped, gzipped or not", async () => {
    const text = gunzipSync(readFileSync(join(oracle, SCENARIOS[3]))).toString("utf8");
    const plain = join(tmp, "stripped.jsonl");
    writeFileSync(plain, stripped(text));
    const gz = join(tmp, "stripped.jsonl.gz");
    writeFileSync(gz, gzipSync(stripped(text)));
    for (const file of [plain, gz]) {
      const { code, out } = await run("gc", "replay", file, "--json");
      expect(code).toBe(0);
      expect(out).toBe(expected(text));
    }
  });

  it("prints a readable summary without --json, and --verify checks every recorded field", async () => {
    const file = join(oracle, SCENARIOS[0]);
    const { code, out, err } = await run("gc", "replay", file, "--verify");
    expect(code).toBe(0);
    expect(out).toMatch(/disabled #1/);
    expect(out).toMatch(/line \d+: gc\.collect\(\) returned \d+/);
    expect(out).toMatch(/lists alive, \d+ reachable from the roots/);
    expect(err).toMatch(/^verified: every recorded field of 139 ops equals CPython's/);
  });

  it("--verify fails (exit 1) when the recorded state differs", async () => {
    const text = gunzipSync(readFileSync(join(oracle, SCENARIOS[0]))).toString("utf8");
    const bad = join(tmp, "bad.jsonl");
    writeFileSync(bad, text.replace('"count":[1,0,0]', '"count":[9,0,0]'));
    const { code, err } = await run("gc", "replay", bad, "--verify");
    expect(code).toBe(1);
    expect(err).toMatch(
      /^heapkit: 1 difference\(s\) from the recorded CPython state; first: line \d+: count recorded \[9,0,0\], computed \[1,0,0\]/,
    );
  });

  it("reports a bad line with its number, and a missing file", async () => {
    const bad = join(tmp, "broken.jsonl");
    writeFileSync(
      bad,
      '{"op":"meta","roots":2,"gc_enabled":false,"thresholds":[700,10,10]}\n{"op":"new","id":0}\n',
    );
    let r = await run("gc", "replay", bad);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/broken\.jsonl:2: expected "root"/);
    r = await run("gc", "replay", bad, "--json");
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(JSON.parse(r.err).error).toMatchObject({ code: "TRACE_FORMAT", line: 2, exitCode: 1 });
    r = await run("gc", "replay", join(tmp, "nope.jsonl"));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot read .*nope\.jsonl: ENOENT/);
  });
});

describe("heapkit gc demo", () => {
  it("tells the story: a cycle, refcounts, the roots dropped, collect, stats", async () => {
    const { code, out, err } = await run("gc", "demo");
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out).toContain("a: refcount 2   b: refcount 2   c: refcount 2");
    expect(out).toContain("a: refcount 1   b: refcount 1   c: refcount 1");
    expect(out).toContain("collect() returned 3");
    expect(out).toContain("weakref callback: a is gone");
    expect(out).toMatch(/callback stop \{"generation":2,"collected":3,"uncollectable":0\}/);
    expect(out).toMatch(/generation 2: collections 1, collected 3, uncollectable 0/);
  });

  it("prints the same figures as one JSON object with --json", async () => {
    const { code, out, err } = await run("gc", "demo", "--json");
    expect(err).toBe("");
    expect(code).toBe(0);
    const demo = JSON.parse(out);
    expect(demo).toMatchObject({
      refcounts: { created: { a: 2, b: 2, c: 2 }, dropped: { a: 1, b: 1, c: 1 } },
      collected: 3,
      alive: { a: false, b: false, c: false },
      weakref: { target: 0, callbackRan: true },
    });
    expect(demo.callbacks.at(-1)).toEqual({
      phase: "stop",
      info: { generation: 2, collected: 3, uncollectable: 0 },
    });
    expect(demo.generations[2]).toMatchObject({ collections: 1, collected: 3, uncollectable: 0 });
  });

  it("rejects an unknown strategy with exit code 2", async () => {
    const { code, err } = await run("gc", "demo", "--strategy", "worst-fit");
    expect(code).toBe(2);
    expect(err).toMatch(/unknown strategy "worst-fit"/);
  });
});

describe("heapkit gc bench", () => {
  it("times the graph on each plan (small N)", async () => {
    const { code, out } = await run(
      "gc",
      "bench",
      "--n",
      "2000",
      "--repeat",
      "1",
      "--plan",
      "refcount+cycles,mark-sweep,mark-compact",
    );
    expect(code).toBe(0);
    expect(out).toMatch(/heapkit refcount\+cycles +N=2000 K=2: first [\d.]+s {2}reachable/);
    expect(out).toMatch(/heapkit mark-compact/);
  });

  const hasPython = spawnSync("python3", ["--version"]).status === 0;
  it.skipIf(!hasPython)(
    "runs CPython's timing.py alongside with --python (python3 present)",
    async () => {
      const script = join(oracle, "timing.py");
      const { code, out } = await run("gc", "bench", "--n", "2000", "--repeat", "1", "--python", script);
      expect(code).toBe(0);
      const lines = out.trim().split("\n");
      expect(lines[0]).toMatch(/^CPython +N=2000 K=2: first [\d.]+s/);
      expect(lines[1]).toMatch(/^heapkit refcount\+cycles +N=2000/);
    },
    30_000,
  );

  it.skipIf(!hasPython)(
    "runs CPython with the user's GLIBC_TUNABLES, not the ones heapkit's launcher adds",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "heapkit-gc-env-"));
      const seen = join(dir, "tunables.txt");
      // a stand-in for timing.py: writes what it got and prints a line of timing.py's shape
      const script = join(dir, "timing.py");
      writeFileSync(
        script,
        `import os\nopen(${JSON.stringify(seen)}, "w").write(os.environ.get("GLIBC_TUNABLES", "unset"))\n` +
          `print("N=2000 first=0.001s reachable median=0.001s del root=0.001s unreachable median=0.001s collected=[0]")\n`,
      );
      const before = process.env.GLIBC_TUNABLES;
      process.env.GLIBC_TUNABLES = `${LAUNCHER_TUNABLES}:glibc.malloc.hugetlb=0`;
      try {
        const { code } = await run("gc", "bench", "--n", "2000", "--repeat", "1", "--python", script);
        expect(code).toBe(0);
        expect(readFileSync(seen, "utf8")).toBe("glibc.malloc.hugetlb=0");
      } finally {
        if (before === undefined) delete process.env.GLIBC_TUNABLES;
        else process.env.GLIBC_TUNABLES = before;
        rmSync(dir, { recursive: true, force: true });
      }
    },
    30_000,
  );

  it("rejects a bad plan or size", async () => {
    expect((await run("gc", "bench", "--plan", "copying")).code).toBe(2);
    expect((await run("gc", "bench", "--n", "0")).code).toBe(2);
  });
});
