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

  const figures = (r: Awaited<ReturnType<Awaited<ReturnType<typeof load>>["replay"]>>) => ({
    ...r,
    seconds: 0,
    replaySeconds: 0,
    opsPerSecond: 0,
    endToEndOpsPerSecond: 0,
  });

  it("reads through the shared ring however small its batches, many times round it", async () => {
    const { replay } = await load();
    const trace = fixture("real/gcc-as.rep.gz");
    const same = await replay(trace, heap, { readInWorker: false });
    // 37 events a batch: the ring of 16 goes round hundreds of times, and batches end mid-chunk
    const worker = await replay(trace, heap, { readInWorker: true, batchSize: 37 });
    expect(figures(worker)).toEqual(figures(same));
    expect(worker.ops).toBeGreaterThan(37 * 16 * 20);
  }, 60_000);

  it("takes a thread started ahead for its trace, and ignores one started for another", async () => {
    const { replay, startReadWorker } = await load();
    const trace = fixture("real/sqlite3.mtrace.gz");
    const same = await replay(trace, heap, { readInWorker: false });
    const ahead = startReadWorker({ path: trace });
    expect(figures(await replay(trace, heap, { readInWorker: ahead }))).toEqual(figures(same));
    // a thread reading another file (or the same with other options) is stopped and another started
    const other = startReadWorker({ path: fixture("real/gcc-as.rep.gz") });
    expect(figures(await replay(trace, heap, { readInWorker: other }))).toEqual(figures(same));
    const strict = startReadWorker({ path: trace, options: { lenient: false } });
    const lenient = await replay(trace, heap, { readInWorker: strict, lenient: true });
    expect(figures(lenient)).toEqual(figures(await replay(trace, heap, { lenient: true })));
  }, 60_000);

  it("reports a malformed line far into the file with its line, lenient or not", async () => {
    const { replay } = await load();
    const ids = 3000;
    const lines = [String(ids * 8), String(ids), String(2 * ids + 1), "1"];
    for (let id = 0; id < ids; id++) lines.push(`a ${id} ${8 + (id % 50)}`);
    for (let id = 0; id < ids; id++) lines.push(id === 2500 ? `f x${id}` : `f ${id}`);
    lines.push("f 0");
    const file = temp.file("late.rep.gz");
    writeFileSync(file, gzipSync(`${lines.join("\n")}\n`));
    const badLine = 4 + ids + 2500 + 1;
    for (const readInWorker of [false, true]) {
      const error = await replay(file, heap, { readInWorker, batchSize: 256 }).catch((e: Error) => e);
      expect(error).toMatchObject({ name: "TraceFormatError", line: badLine, file });
    }
    const onMain = await replay(file, heap, { lenient: true });
    const inWorker = await replay(file, heap, { lenient: true, readInWorker: true, batchSize: 256 });
    expect(figures(inWorker)).toEqual(figures(onMain));
    expect(inWorker.summary?.skippedLines).toBeGreaterThan(0);
    expect(inWorker.summary?.problems.join("\n")).toContain(`late.rep.gz:${badLine}:`);
  }, 60_000);
});
