import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { READ_THREAD_MIN_BYTES, textBytes } from "../src/lib/read-ahead.js";

// A reader thread runs compiled JavaScript: these tests run the built CLI (build apps/cli first).
const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const built = existsSync(BIN);

function heapkit(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A `.rep` of `ids` blocks, allocated in turn and freed in turn, with a bad line in place of the free of `badId`. */
function repText(ids: number, badId = -1): string {
  const lines = [String(ids * 64), String(ids), String(2 * ids), "1"];
  for (let id = 0; id < ids; id++) lines.push(`a ${id} ${8 + ((id * 37) % 120)}`);
  for (let id = 0; id < ids; id++) lines.push(id === badId ? `f ${id} ${id}x` : `f ${id}`);
  return `${lines.join("\n")}\n`;
}

const without = (json: string) => {
  const { seconds, replaySeconds, opsPerSecond, endToEndOpsPerSecond, reader, ...figures } = JSON.parse(json);
  return figures;
};

let dir = "";
let large = "";
let largeGz = "";
let broken = "";
let small = "";
const IDS = 80_000;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "heapkit-read-thread-"));
  large = join(dir, "large.rep");
  writeFileSync(large, repText(IDS));
  largeGz = join(dir, "large.rep.gz");
  // gzip packs this trace well: more ids so that the .gz is over the threshold too
  writeFileSync(largeGz, gzipSync(repText(IDS), { level: 1 }));
  broken = join(dir, "broken.rep");
  writeFileSync(broken, repText(IDS, 70_000));
  small = join(dir, "small.rep");
  writeFileSync(small, repText(100));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!built)("heapkit replay --reader (the built CLI)", { timeout: 60_000 }, () => {
  it("every reader gives the same figures, and the JSON says which read", () => {
    expect(repText(IDS).length).toBeGreaterThan(READ_THREAD_MIN_BYTES);
    for (const trace of [large, largeGz, small]) {
      const runs = ["auto", "prefetch", "thread", "main"].map((reader) =>
        heapkit("replay", trace, "--strategy", "tlsf", "--json", "--reader", reader),
      );
      for (const run of runs) expect(run.status).toBe(0);
      const readers = runs.map((run) => JSON.parse(run.stdout).reader);
      expect(readers.slice(1)).toEqual(["prefetch", "thread", "main"]);
      // auto: a thread for a large trace when the machine has a core to spare, which depends on its load
      expect(trace === small ? ["main"] : ["thread", "main"]).toContain(readers[0]);
      for (const run of runs.slice(1)) expect(without(run.stdout)).toEqual(without(runs[0].stdout));
    }
    expect(JSON.parse(heapkit("replay", large, "--json").stdout).ops).toBe(2 * IDS);
  });

  it("gives the reader started early the options, wherever they stand: --lenient, --reader=", () => {
    const a = heapkit("replay", "--lenient", "-s", "best-fit", largeGz, "--json", "--reader=thread");
    const b = heapkit("replay", largeGz, "--json", "--strategy", "best-fit", "--lenient", "--reader", "main");
    expect(a.status).toBe(0);
    expect(JSON.parse(a.stdout).reader).toBe("thread");
    expect(without(a.stdout)).toEqual(without(b.stdout));
  });

  it("starts the reader early with the trace and options of the command line, wherever they stand", () => {
    // the replay reads the same either way (it starts its own reader when the early one does not fit):
    // what was started early is looked at from the built module itself
    const readAhead = pathToFileURL(
      fileURLToPath(new URL("../dist/lib/read-ahead.js", import.meta.url)),
    ).href;
    const script = `
      const { startReaderEarly, takeEarlyReader } = await import(${JSON.stringify(readAhead)});
      await startReaderEarly(JSON.parse(process.argv[1]));
      const early = takeEarlyReader(process.argv[2]);
      const job = early?.thread?.job;
      console.log(JSON.stringify({
        trace: early?.trace,
        job: job && { path: job.path, lenient: job.options.lenient },
        prefetched: early?.prefetched?.path,
      }));
      early?.thread?.stop();`;
    const early = (argv: string[]) => {
      const run = spawnSync(
        process.execPath,
        ["--input-type=module", "-e", script, JSON.stringify(argv), largeGz],
        { encoding: "utf8" },
      );
      expect(run.stderr).toBe("");
      return JSON.parse(run.stdout);
    };
    expect(early(["replay", "--lenient", "-s", "best-fit", largeGz, "--json", "--reader=thread"])).toEqual({
      trace: largeGz,
      job: { path: largeGz, lenient: true },
    });
    expect(early(["replay", largeGz, "--reader", "thread", "--max-heap", "2g"])).toEqual({
      trace: largeGz,
      job: { path: largeGz, lenient: false },
    });
    expect(early(["replay", "--strategy", "tlsf", largeGz, "--reader", "prefetch"])).toEqual({
      trace: largeGz,
      prefetched: largeGz,
    });
    expect(early(["replay", largeGz, "--reader", "main"])).toEqual({});
  });

  it("names the file and line of a malformed line far into the trace, whoever reads it", () => {
    const badLine = 4 + IDS + 70_000 + 1;
    for (const reader of ["auto", "thread", "prefetch", "main"]) {
      const { status, stdout, stderr } = heapkit("replay", broken, "--reader", reader);
      expect(status).toBe(1);
      expect(stdout).toBe("");
      expect(stderr).toMatch(
        new RegExp(`^heapkit: ${broken.replace(/[.\\/]/g, "\\$&")}:${badLine}: expected`),
      );
      const lenient = heapkit("replay", broken, "--lenient", "--json", "--reader", reader);
      expect(JSON.parse(lenient.stdout)).toMatchObject({ summary: { skippedLines: 1 } });
    }
  });

  it("exits 2 for an unknown --reader, and 1 for a missing trace, whoever reads it", () => {
    const bad = heapkit("replay", small, "--reader", "gpu");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--reader expects auto, thread, prefetch, main, got "gpu"');
    for (const reader of ["auto", "thread", "prefetch", "main"]) {
      const missing = heapkit("replay", join(dir, "nope.rep.gz"), "--reader", reader);
      expect(missing.status).toBe(1);
      expect(missing.stderr).toBe(
        `heapkit: cannot read the trace ${join(dir, "nope.rep.gz")}: no such file\n`,
      );
    }
  });
});

describe("a trace's text bytes (what --reader auto weighs)", () => {
  const temp = mkdtempSync(join(tmpdir(), "heapkit-text-bytes-"));
  afterAll(() => rmSync(temp, { recursive: true, force: true }));

  it("is a plain file's size, a gzip file's trailer size where larger, and 0 for what cannot be read", () => {
    const text = repText(2000);
    const plain = join(temp, "plain.rep");
    writeFileSync(plain, text);
    const gz = join(temp, "packed.rep.gz");
    const packed = gzipSync(text);
    writeFileSync(gz, packed);
    const notGzip = join(temp, "not-really.rep.gz");
    writeFileSync(notGzip, text);
    expect(packed.length).toBeLessThan(text.length);
    expect(textBytes(plain)).toBe(text.length);
    expect(textBytes(gz)).toBe(text.length);
    expect(textBytes(notGzip)).toBe(text.length);
    expect(textBytes(join(temp, "missing.rep"))).toBe(0);
    expect(textBytes(temp)).toBe(0);
  });
});
