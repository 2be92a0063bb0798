import { existsSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { createHeap } from "@heapkit/heap";
import { strategyByName } from "@heapkit/strategies";
import { afterAll, describe, expect, it } from "vitest";
import type * as NodeEntry from "../src/node.js";
import { fixture, tempDir } from "./helpers.js";

// A worker thread runs compiled JavaScript: these tests use the build (CI builds before it tests).
const built = fileURLToPath(new URL("../dist/node.js", import.meta.url));
const hasBuild =
  existsSync(built) && existsSync(fileURLToPath(new URL("../dist/read-worker.js", import.meta.url)));
const temp = tempDir();
afterAll(() => temp.remove());

const heap = () => createHeap({ strategy: strategyByName("tlsf"), size: 1 << 16, maxSize: 1 << 28 });

describe.skipIf(!hasBuild)("reading in a worker thread (from the build)", () => {
  const load = async () => (await import(built)) as typeof NodeEntry;

  it("replays the same figures and summary as reading on the replay's thread", async () => {
    const { replay } = await load();
    for (const trace of ["real/gcc-as.rep.gz", "real/sqlite3.mtrace.gz"]) {
      const same = await replay(fixture(trace), heap, { readInWorker: false });
      const worker = await replay(fixture(trace), heap, { readInWorker: true });
      const figures = (r: typeof same) => ({
        ...r,
        seconds: 0,
        replaySeconds: 0,
        opsPerSecond: 0,
        endToEndOpsPerSecond: 0,
      });
      expect(figures(worker)).toEqual(figures(same));
      expect(worker.ops).toBeGreaterThan(16_000);
    }
  }, 60_000);

  it("throws the same TraceFormatError, after the same events", async () => {
    const { replay } = await load();
    const lines = ["20", "3", "4", "a 0 5", "a 1 6", "f 0", "f 7"];
    const file = temp.file("bad.rep.gz");
    writeFileSync(file, gzipSync(`${lines.join("\n")}\n`));
    for (const readInWorker of [false, true]) {
      const error = await replay(file, heap, { readInWorker }).catch((e: Error) => e);
      expect(error).toMatchObject({ name: "TraceFormatError", line: 7, file });
      expect((error as Error).message).toMatch(/bad\.rep\.gz:7: expected an id below 3/);
    }
  }, 60_000);

  it("stops its thread when the replay stops early", async () => {
    const { replay } = await load();
    const result = await replay(fixture("real/sqlite3.mtrace.gz"), heap, {
      readInWorker: true,
      stopAfter: 1000,
    });
    expect(result.stoppedAfter).toBe(1000);
  }, 60_000);
});
