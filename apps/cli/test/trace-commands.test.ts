import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { strategyNames } from "@heapkit/strategies";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { replayTo } from "../src/lib/jobs.js";
import { LAUNCHER_TUNABLES } from "../src/lib/launcher.js";
import { findCompiler, findMallocDebug } from "../src/lib/mtrace-preload.js";
import { run } from "./run.js";

const GCC_AS = fileURLToPath(
  new URL("../../../packages/trace/test/fixtures/real/gcc-as.rep.gz", import.meta.url),
);
let dir = "";
let tiny = "";
let bad = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "heapkit-cli-"));
  tiny = join(dir, "tiny.rep");
  // a 0 100 | a 1 50 | f 0 | a 2 30 | r 1 70 | f 1 | f 2: peak live 150 bytes after op 2
  writeFileSync(tiny, "150\n3\n7\n1\na 0 100\na 1 50\nf 0\na 2 30\nr 1 70\nf 1\nf 2\n");
  bad = join(dir, "bad.rep");
  writeFileSync(bad, "150\n3\n7\n1\na 0 100\nq 1 50\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("heapkit floor", () => {
  it("prints the floors of each trace, and JSON with --json", async () => {
    // the peak of tiny.rep: blocks of 100 and 50 bytes → 104 + 56 bytes with a header or without
    const json = await run("floor", tiny, GCC_AS, "--json");
    expect(json.code).toBe(0);
    const [first, second] = JSON.parse(json.out);
    expect(first).toMatchObject({ peakLiveBytes: 150, peakLiveOp: 2, liveBlocks: 2 });
    expect(first.header).toBeCloseTo(160 / 150 - 1, 12);
    expect(first.headerless).toBeCloseTo(160 / 150 - 1, 12);
    expect(second.peakLiveBytes).toBeGreaterThan(0);
    expect(second.header).toBeGreaterThan(second.headerless);
    const text = await run("floor", tiny);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/floor with a 4-byte header .*: 6\.67 %/);
  });

  it("names file and line of a malformed trace, and exits 1", async () => {
    const { code, err } = await run("floor", bad);
    expect(code).toBe(1);
    expect(err).toContain(`${bad}:6:`);
  });
});

describe("heapkit replay", () => {
  it("prints one JSON object with the figures", async () => {
    const { code, out, err } = await run("replay", tiny, "--strategy", "best-fit", "--json");
    expect(code).toBe(0);
    expect(err).toBe("");
    const result = JSON.parse(out);
    expect(result).toMatchObject({
      strategy: "best-fit",
      ops: 7,
      peakLiveBytes: 150,
      peakLiveOp: 2,
      failedAllocations: 0,
    });
    for (const field of [
      "heapHighWaterBytes",
      "utilization",
      "fragmentation",
      "opsPerSecond",
      "overheadBytes",
    ]) {
      expect(typeof result[field]).toBe("number");
    }
    expect(result.utilization).toBeCloseTo(150 / result.heapHighWaterBytes, 12);
    expect(result.series).toBeUndefined();
  });

  it("prints a readable summary", async () => {
    const { code, out } = await run("replay", tiny, "--strategy", "first-fit");
    expect(code).toBe(0);
    expect(out).toContain("first-fit on");
    expect(out).toMatch(/peak live payload +150 bytes/);
    expect(out).toMatch(/utilization +\d+\.\d\d %/);
  });

  it("fails with exit 1 and one line naming file:line for a malformed trace", async () => {
    const { code, out, err } = await run("replay", bad, "--strategy", "first-fit");
    expect(code).toBe(1);
    expect(out).toBe("");
    expect(err).toBe(`heapkit: ${bad}:6: expected an op "a id bytes", "r id bytes" or "f id", not "q"\n`);
  });

  it("skips bad lines with --lenient and says so", async () => {
    const { code, out } = await run("replay", bad, "--lenient", "--json");
    expect(code).toBe(0);
    expect(JSON.parse(out).summary).toMatchObject({ skippedLines: 1, liveAtEnd: 1 });
  });

  it("exits 2 for an unknown strategy or a bad --max-heap, 1 for a missing file", async () => {
    expect((await run("replay", tiny, "--strategy", "worst-fit")).code).toBe(2);
    const heap = await run("replay", tiny, "--max-heap", "lots");
    expect(heap.code).toBe(2);
    expect(heap.err).toContain("--max-heap expects bytes");
    const missing = await run("replay", join(dir, "nope.rep"));
    expect(missing.code).toBe(1);
    expect(missing.err).toBe(`heapkit: cannot read the trace ${join(dir, "nope.rep")}: no such file\n`);
  });
});

describe("heapkit compare", () => {
  it("runs every strategy on every trace and writes a self-contained HTML report", async () => {
    const html = join(dir, "report.html");
    const tiny2 = join(dir, "tiny2.rep");
    writeFileSync(tiny2, readFileSync(tiny));
    const { code, out } = await run(
      "compare",
      tiny,
      tiny2,
      "--strategies",
      "first-fit,best-fit",
      "--html",
      html,
      "--json",
    );
    expect(code).toBe(0);
    const report = JSON.parse(out);
    expect(report.results).toHaveLength(4);
    expect(report.results.map((r: { strategy: string }) => r.strategy)).toEqual([
      "first-fit",
      "best-fit",
      "first-fit",
      "best-fit",
    ]);
    expect(report.scores.map((s: { strategy: string }) => s.strategy)).toEqual(["first-fit", "best-fit"]);
    expect(report.threads).toBe(0); // from TypeScript source the runs stay in this thread
    // tiny.rep's peak: blocks of 100 and 50 bytes, 104 + 56 bytes in either format
    expect(report.floors).toHaveLength(2);
    expect(report.floors[0]).toMatchObject({ peakLiveBytes: 150, liveBlocks: 2 });
    expect(report.floors[0].header).toBeCloseTo(160 / 150 - 1, 12);
    for (const r of report.results) expect(r.fragmentation).toBeGreaterThanOrEqual(report.floors[0].header);
    const page = readFileSync(html, "utf8");
    expect(page).toContain("The least fragmentation any allocator can reach here");
    expect(page.startsWith("<!doctype html>")).toBe(true);
    expect(page).not.toMatch(/<script|<link|src="http/);
    expect(page).toContain("Live bytes and heap size over the trace");
    expect(page).toContain("Utilization (peak live payload / heap high-water)");
    expect(page.match(/(at|near) the peak of live bytes/g)?.length).toBe(4);
    expect(page.match(/<svg /g)?.length).toBe(2 * (4 + 2)); // per trace: 4 charts + 2 maps
  });

  it("prints a table with every strategy and the scores", async () => {
    const { code, out } = await run("compare", tiny, "--strategies", "first-fit,next-fit");
    expect(code).toBe(0);
    expect(out).toContain("tiny.rep: 7 ops, peak live 150 B");
    expect(out).toContain("fragmentation floor: 6.67 % for any allocator with 4-byte headers");
    expect(out).toMatch(/│ first-fit +│/);
    expect(out).toMatch(/│ next-fit +│/);
    expect(out).toContain("malloc-lab score");
    expect(out).toMatch(/2 runs in [\d.]+ s in this thread/);
  });

  it("exits 2 for an unknown strategy in the list", async () => {
    const { code, err } = await run("compare", tiny, "--strategies", "first-fit,nope");
    expect(code).toBe(2);
    expect(err).toMatch(/^heapkit: unknown strategy "nope"/);
  });

  const pool = new URL("../dist/lib/pool.js", import.meta.url).href;
  const worker = fileURLToPath(new URL("../dist/lib/pool-worker.js", import.meta.url));
  it.skipIf(!existsSync(worker))(
    "runs jobs in worker threads from the built files (needs a build first)",
    () => {
      const script =
        `const { runPool } = await import(${JSON.stringify(pool)});` +
        `const jobs = ["first-fit", "best-fit", "first-fit"].map((strategy) => ({ trace: ${JSON.stringify(tiny)}, strategy, maxHeap: 1 << 24, lenient: false, mapCells: 64 }));` +
        "const run = await runPool(jobs, () => {});" +
        "console.log(JSON.stringify({ threads: run.threads, peaks: run.results.map((r) => r.result.peakLiveBytes), cells: run.results.map((r) => r.picture.cells.length), strategies: run.results.map((r) => r.result.strategy) }));";
      const file = join(dir, "pool-check.mjs");
      writeFileSync(file, script);
      const result = spawnSync(process.execPath, [file], { encoding: "utf8" });
      expect(result.stderr).toBe("");
      expect(JSON.parse(result.stdout)).toEqual({
        threads: 2,
        peaks: [150, 150, 150],
        cells: [64, 64, 64],
        strategies: ["first-fit", "best-fit", "first-fit"],
      });
    },
  );
});

describe("heapkit map", () => {
  it("writes an SVG of the heap at the peak, with a legend and figures", async () => {
    const svg = join(dir, "map.svg");
    const { code, out } = await run(
      "map",
      GCC_AS,
      "--strategy",
      "first-fit",
      "--at",
      "peak",
      "--svg",
      svg,
      "--json",
    );
    expect(code).toBe(0);
    const figures = JSON.parse(out);
    expect(figures).toMatchObject({ strategy: "first-fit", op: 10595, peakLiveOp: 10595 });
    const picture = readFileSync(svg, "utf8");
    expect(picture.startsWith("<svg")).toBe(true);
    for (const label of ["used payload", "headers, metadata, padding", "free", "after op 10,595"]) {
      expect(picture).toContain(label);
    }
    expect(picture).toContain("at the peak of live bytes");
  }, 30_000);

  it("draws the heap after a given op", async () => {
    const svg = join(dir, "op.svg");
    const { code, out } = await run("map", tiny, "--at", "2", "--svg", svg);
    expect(code).toBe(0);
    expect(out).toContain(`wrote ${svg}: first-fit after 2 ops`);
    expect(readFileSync(svg, "utf8")).toContain("2 live blocks");
  });

  it("needs --svg and a valid --at", async () => {
    expect((await run("map", tiny)).code).toBe(2);
    const at = await run("map", tiny, "--at", "soon", "--svg", join(dir, "x.svg"));
    expect(at.code).toBe(2);
    expect(at.err).toContain("--at expects a whole number");
  });
});

describe("heapkit stats", () => {
  it("says clearly when a strategy has no report of its own", async () => {
    const { code, err } = await run("stats", tiny, "--strategy", "first-fit");
    expect(code).toBe(1);
    expect(err).toMatch(/^heapkit: the first-fit strategy has no report of its own; /);
    expect(err.trim().split("\n")).toHaveLength(1);
  });

  it.skipIf(!strategyNames.includes("pymalloc"))("prints pymalloc's own report at the peak", async () => {
    const { code, out } = await run("stats", tiny, "--strategy", "pymalloc");
    expect(code).toBe(0);
    expect(out).toMatch(/^# pymalloc on .* after 2 of the trace's ops \(the peak of live bytes\)/);
    expect(out.split("\n").length).toBeGreaterThan(3);
  });
});

describe("--cache and --no-cache", () => {
  it.skipIf(!strategyNames.includes("pymalloc"))(
    "set the heap's front cache: freed blocks wait in it with --cache, never with --no-cache or by default",
    async () => {
      const cached = async (...flags: string[]) => {
        const { code, out } = await run(
          "stats",
          tiny,
          "--strategy",
          "pymalloc",
          "--at",
          "end",
          "--json",
          ...flags,
        );
        expect(code).toBe(0);
        const report = JSON.parse(out);
        return { blocks: report.stats.cachedBlocks as number, cache: report.cache as string };
      };
      // tiny.rep frees blocks of 100, 70 and 30 bytes: with the cache on, each waits in its class
      expect(await cached("--cache")).toEqual({ blocks: 3, cache: "on" });
      expect(await cached("--no-cache")).toEqual({ blocks: 0, cache: "off" });
      expect(await cached()).toEqual({ blocks: 0, cache: "default" });
    },
  );

  it("are recorded in replay's and compare's JSON", async () => {
    const replayed = async (...flags: string[]) => {
      const { code, out } = await run("replay", tiny, "--strategy", "tlsf", "--json", ...flags);
      expect(code).toBe(0);
      return JSON.parse(out).cache;
    };
    expect([await replayed("--cache"), await replayed("--no-cache"), await replayed()]).toEqual([
      "on",
      "off",
      "default",
    ]);
    const compared = await run("compare", tiny, "--strategies", "first-fit", "--json", "--cache");
    expect(compared.code).toBe(0);
    expect(JSON.parse(compared.out).cache).toBe("on");
  });

  it("reach the heap of a replay (what replay, compare, map and stats run)", async () => {
    // tiny.rep frees every block: with the cache on, the small ones wait in it at the end
    const cachedAtEnd = async (cache: boolean | undefined) => {
      const { heap } = await replayTo(
        { trace: tiny, strategy: "tlsf", maxHeap: 1 << 24, lenient: false, cache },
        "end",
      );
      return heap.stats().cachedBlocks;
    };
    expect(await cachedAtEnd(true)).toBeGreaterThan(0);
    expect(await cachedAtEnd(false)).toBe(0);
    expect(await cachedAtEnd(undefined)).toBe(0); // the heap's default for one thread
  });

  it("are in the --help of every command that makes heaps", async () => {
    for (const command of ["replay", "compare", "stats", "map"]) {
      const { out } = await run(command, "--help");
      expect(out).toContain("--cache");
      expect(out).toContain("--no-cache");
    }
  });
});

describe("heapkit record", () => {
  const ready =
    process.platform === "linux" && findCompiler() !== undefined && findMallocDebug() !== undefined;
  if (!ready)
    console.warn("skipping the record test: it needs Linux, glibc's libc_malloc_debug.so.0 and a C compiler");

  it.skipIf(!ready)("records /bin/ls under mtrace and the trace replays", async () => {
    const out = join(dir, "ls.mtrace");
    const recorded = await run("record", "--out", out, "--", "/bin/ls", "-d", "/");
    expect(recorded.code).toBe(0);
    expect(recorded.err).toMatch(/ran in [\d.]+ s under mtrace \(glibc [\d.]+\); 1 process wrote traces/);
    expect(recorded.out).toMatch(new RegExp(`^${out} {2}pid \\d+ \\(/bin/ls .*\\): [\\d,]+ allocs`));
    expect(readFileSync(out, "utf8").startsWith("= Start")).toBe(true);
    const replayed = await run("replay", out, "--strategy", "first-fit", "--json");
    expect(replayed.code).toBe(0);
    expect(JSON.parse(replayed.out).allocs).toBeGreaterThan(10);
  });

  it.skipIf(!ready)(
    "runs the program with the user's GLIBC_TUNABLES, not the ones heapkit's launcher adds",
    async () => {
      const seen = join(dir, "tunables.txt");
      const before = process.env.GLIBC_TUNABLES;
      process.env.GLIBC_TUNABLES = `${LAUNCHER_TUNABLES}:glibc.malloc.hugetlb=0`;
      try {
        const out = join(dir, "env.mtrace");
        const script = `printf '%s' "\${GLIBC_TUNABLES-unset}" > '${seen}'`;
        const recorded = await run("record", "--out", out, "--", "/bin/sh", "-c", script);
        expect(recorded.code).toBe(0);
        expect(readFileSync(seen, "utf8")).toBe("glibc.malloc.hugetlb=0");
      } finally {
        if (before === undefined) delete process.env.GLIBC_TUNABLES;
        else process.env.GLIBC_TUNABLES = before;
      }
    },
  );

  it.skipIf(!ready)(
    "under a launcher, writes the program's own trace to FILE, marks it, and echoes the command quoted",
    async () => {
      // a pyenv-like shim: a shell script named like the program that runs a helper, then execs the program
      const shims = join(dir, "shims");
      mkdirSync(shims, { recursive: true });
      const shim = join(shims, "ls");
      writeFileSync(shim, '#!/bin/sh\n/bin/true\nexec /bin/ls "$@"\n');
      chmodSync(shim, 0o755);
      const spaced = join(dir, "a b");
      mkdirSync(spaced, { recursive: true });
      const out = join(dir, "shim.mtrace");
      const recorded = await run("record", "--out", out, "--", shim, "-d", spaced);
      expect(recorded.code).toBe(0);
      expect(recorded.err).toContain(`heapkit: ${shim} -d '${spaced}' ran in`);
      expect(recorded.err).toMatch(
        /2 processes wrote traces; the traced program's own is .*shim\.mtrace \(pid \d+, picked by its arguments and name\)/,
      );
      const lines = recorded.out.trim().split("\n");
      expect(lines).toHaveLength(2);
      const own = lines.filter((line) => line.endsWith("← the traced program"));
      expect(own).toHaveLength(1);
      expect(own[0].startsWith(`${out}  pid `)).toBe(true);
      expect(own[0]).toContain(`(/bin/ls -d '${spaced}')`);
      const helper = lines.find((line) => !line.endsWith("← the traced program")) ?? "";
      expect(helper).toMatch(new RegExp(`^${join(dir, "shim")}\\.\\d+\\.mtrace {2}pid \\d+ \\(/bin/true\\)`));
    },
  );

  it.skipIf(!ready)("exits 1 and says so when the program fails", async () => {
    const { code, err } = await run("record", "--out", join(dir, "false.mtrace"), "--", "/bin/false");
    expect(code).toBe(1);
    expect(err).toContain("/bin/false exited with code 1 (its trace was written all the same)");
  });

  it("exits 2 without a command", async () => {
    expect((await run("record", "--out", join(dir, "x.mtrace"))).code).toBe(2);
  });
});

describe("help", () => {
  it.each(["replay", "compare", "record", "map", "stats"])("heapkit %s --help", async (command) => {
    const { code, out } = await run(command, "--help");
    expect(code).toBe(0);
    expect(out).toContain(`Usage: heapkit ${command}`);
  });
});
