import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { createHeap } from "@heapkit/heap";
import { strategyByName } from "@heapkit/strategies";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { prefetchTrace, type ReplayResult, replay } from "../src/node.js";
import { fixture, tempDir } from "./helpers.js";

const temp = tempDir();
afterAll(() => temp.remove());

const heap = () => createHeap({ strategy: strategyByName("tlsf"), size: 1 << 16, maxSize: 1 << 28 });
const figures = (r: ReplayResult) => ({
  ...r,
  seconds: 0,
  replaySeconds: 0,
  opsPerSecond: 0,
  endToEndOpsPerSecond: 0,
});
/** What a replay of `file` ends in: its figures, or its error's name and message. */
async function outcome(file: string, prefetch: boolean, lenient = false): Promise<unknown> {
  const options = prefetch ? { lenient, prefetched: prefetchTrace(file) } : { lenient };
  try {
    return figures(await replay(file, heap, options));
  } catch (error) {
    return { name: (error as Error).name, message: (error as Error).message };
  }
}

describe("a prefetched trace file", () => {
  it("is on the end-to-end clock from the moment its prefetch began", async () => {
    const file = fixture("tiny.rep");
    const prefetched = prefetchTrace(file);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const result = await replay(file, heap, { prefetched });
    // the reading began 150 ms before replay was called: seconds and endToEndOpsPerSecond count it
    expect(result.seconds).toBeGreaterThanOrEqual(0.14);
    expect(result.endToEndOpsPerSecond).toBeLessThanOrEqual(result.ops / 0.14);
  });

  it("replays to the same figures and summary as the file read as it goes", async () => {
    for (const trace of ["real/gcc-as.rep.gz", "real/sqlite3.mtrace.gz", "tiny.rep", "tiny.jsonl"]) {
      const file = fixture(trace);
      const prefetched = prefetchTrace(file);
      expect(await prefetched.bytes).toBeInstanceOf(Uint8Array);
      expect(figures(await replay(file, heap, { prefetched }))).toEqual(await outcome(file, false));
    }
  }, 60_000);

  it("is inflated once, to the file's text", async () => {
    const file = fixture("real/gcc-as.rep.gz");
    const text = (await prefetchTrace(file).bytes) as Uint8Array;
    expect(text[0]).not.toBe(0x1f);
    expect(Buffer.from(text).toString("latin1").split("\n").length).toBeGreaterThan(16_000);
  });

  it("is what the replay parses: the file as it was when the prefetch started", async () => {
    const file = temp.file("changing.rep");
    writeFileSync(file, readFileSync(fixture("tiny.rep")));
    const prefetched = prefetchTrace(file);
    await prefetched.bytes;
    writeFileSync(file, "20\n1\n2\n1\na 0 20\nf 0\n");
    const result = await replay(file, heap, { prefetched });
    expect(result).toMatchObject({ ops: 7, peakLiveBytes: 150 });
    expect((await replay(file, heap)).ops).toBe(2);
  });

  it("is ignored for another trace", async () => {
    const prefetched = prefetchTrace(fixture("tiny.rep"));
    const file = fixture("real/gcc-as.rep.gz");
    expect(figures(await replay(file, heap, { prefetched }))).toEqual(await outcome(file, false));
  });

  it("fails as the file does: missing, a directory, truncated or corrupt gzip, malformed lines", async () => {
    const whole = gzipSync("20\n3\n4\n1\na 0 5\na 1 6\nf 0\nf 7\n");
    const truncated = temp.file("cut.rep.gz");
    writeFileSync(truncated, whole.subarray(0, whole.length - 9));
    const corrupt = temp.file("corrupt.rep.gz");
    const bytes = Buffer.from(whole);
    bytes[20] ^= 0xff;
    writeFileSync(corrupt, bytes);
    const bad = temp.file("bad.rep.gz");
    writeFileSync(bad, whole);
    for (const file of [temp.file("missing.rep"), temp.dir, truncated, corrupt, bad]) {
      for (const lenient of [false, true]) {
        const [read, prefetched] = [await outcome(file, false, lenient), await outcome(file, true, lenient)];
        expect(prefetched).toEqual(read);
      }
    }
  }, 60_000);

  it("any gzipped .rep cut anywhere: the same outcome prefetched or not (property)", async () => {
    const text = readFileSync(fixture("tiny.rep"));
    const gz = gzipSync(text);
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: gz.length }), fc.boolean(), async (cut, lenient) => {
        const file = temp.file(`cut-${run++}.rep.gz`);
        writeFileSync(file, gz.subarray(0, cut));
        expect(await outcome(file, true, lenient)).toEqual(await outcome(file, false, lenient));
      }),
      { numRuns: 40 },
    );
  }, 60_000);
});
