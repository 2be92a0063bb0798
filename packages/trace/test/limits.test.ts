import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { InvalidSizeError, TraceFormatError } from "@heapkit/contract";
import { afterAll, describe, expect, it } from "vitest";
import { readTrace as readInMemory } from "../src/index.js";
import { MAX_LINE_BYTES, readTrace, type TraceReader } from "../src/node.js";
import { events, fixture, readError, TINY_EVENTS, tempDir } from "./helpers.js";

const temp = tempDir();
afterAll(() => temp.remove());

/** Reads a trace to its end; the number of events. */
async function count(reader: TraceReader): Promise<number> {
  let events = 0;
  for await (const batch of reader.batches()) events += batch.length;
  return events;
}

/** `bytes` cut into chunks of `size` bytes. */
function chunked(bytes: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return chunks;
}

describe("line length", () => {
  it("stops at a line longer than the limit, naming the file and line", async () => {
    const text = `20\n2\n2\na 0 1${" ".repeat(40)}\nf 0\n`;
    const reading = count(readTrace({ name: "long.rep", data: text }, { maxLineBytes: 30 }));
    await expect(reading).rejects.toBeInstanceOf(TraceFormatError);
    await expect(count(readTrace({ name: "long.rep", data: text }, { maxLineBytes: 30 }))).rejects.toThrow(
      "long.rep:4: expected a line of at most 30 bytes (the maxLineBytes option); this one is longer",
    );
    expect(await count(readTrace({ name: "long.rep", data: text }))).toBe(2);
  });

  it("refuses a limit that is not a positive integer", () => {
    for (const maxLineBytes of [0, -1, 1.5, Number.NaN]) {
      expect(() => readTrace({ name: "t.rep", data: "" }, { maxLineBytes })).toThrow(InvalidSizeError);
    }
    expect(() => readTrace({ name: "t.rep", data: "" }, { maxLineBytes: 0 })).toThrow(
      "readTrace: maxLineBytes 0 is not allowed: expected a positive integer",
    );
  });

  it("takes lines up to the limit, and the default limit is a few KiB", async () => {
    expect(MAX_LINE_BYTES).toBeGreaterThanOrEqual(4096);
    const line = `a 0 1${" ".repeat(20)}`;
    const text = `20\n2\n2\n${line}\nf 0\n`;
    expect(await count(readTrace({ name: "edge.rep", data: text }, { maxLineBytes: line.length }))).toBe(2);
  });

  it("skips a line without end in lenient mode, counted, whatever the chunking", async () => {
    const head = "= Start\n+ 0x10 0x8\n";
    const tail = "\n- 0x10\n";
    const text = new TextEncoder().encode(head + "x".repeat(50_000) + tail);
    for (const size of [1, 3, 4096, 1 << 20]) {
      const reader = readTrace({ name: "t.mtrace", data: chunked(text, size) }, { lenient: true });
      const seen = [];
      for await (const event of reader) seen.push(event);
      expect(seen).toEqual([
        { op: "alloc", id: 0, size: 8 },
        { op: "free", id: 0 },
      ]);
      expect(reader.summary.skippedLines).toBe(1);
      expect(reader.summary.problems[0]).toMatch(/^t\.mtrace:3: expected a line of at most 8192 bytes/);
      expect(reader.summary.lines).toBe(4);
    }
  });

  it("stops a gzip bomb of zeros quickly, and skips it in lenient mode in bounded time", async () => {
    const bomb = gzipSync(new Uint8Array(64 << 20));
    const file = temp.file("bomb.rep.gz");
    writeFileSync(file, bomb);
    const strictStart = performance.now();
    const error = await readError(file);
    expect(error.message).toMatch(/bomb\.rep\.gz:1: expected a line of at most 8192 bytes/);
    expect(performance.now() - strictStart).toBeLessThan(2000);
    const reader = readTrace(file, { lenient: true });
    for await (const _ of reader.batches());
    expect(reader.summary.skippedLines).toBeGreaterThanOrEqual(1);
    expect(reader.summary.problems[0]).toMatch(/^.*bomb\.rep\.gz:1: expected a line of at most/);
  }, 30_000);
});

describe("chunking never changes the result", () => {
  const gz = readFileSync(fixture("real/gcc-as.rep.gz"));

  it("sees the gzip magic when the first chunk holds one byte", async () => {
    const whole = await events({ name: "gcc.rep", data: gz });
    const split = await events({ name: "gcc.rep", data: [gz.subarray(0, 1), gz.subarray(1)] });
    expect(split).toEqual(whole);
    expect(whole.length).toBe(16454);
  });

  it("yields the same events from a truncated gzip read whole or in small chunks (lenient)", async () => {
    const cut = gz.subarray(0, Math.floor(gz.length * 0.6));
    const read = async (data: Uint8Array | Uint8Array[]) => {
      const reader = readTrace({ name: "cut.rep.gz", data }, { lenient: true });
      const events = await count(reader);
      return { events, truncated: reader.summary.truncated, lines: reader.summary.lines };
    };
    const whole = await read(cut);
    expect(whole.truncated).toBe(true);
    expect(whole.events).toBeGreaterThan(0);
    for (const size of [1, 7, 100, 4096, 50_000]) expect(await read(chunked(cut, size))).toEqual(whole);
  });
});

describe("every message names its file", () => {
  it("a directory", async () => {
    expect(() => readTrace(temp.dir)).toThrow(
      `cannot read the trace ${temp.dir}: it is a directory, not a file`,
    );
  });

  it("a .rep whose third header line is bad, in lenient mode: no crash, each problem at file:line", async () => {
    const reader = readTrace({ name: "x.rep", data: "150\n3\n7 x\na 0 100\nf 0\n" }, { lenient: true });
    const seen = [];
    for await (const event of reader) seen.push(event);
    expect(seen).toEqual([]);
    expect(reader.summary.skippedLines).toBeGreaterThanOrEqual(1);
    expect(reader.summary.problems[0]).toMatch(/^x\.rep:3: expected /);
    for (const problem of reader.summary.problems) expect(problem).toMatch(/^x\.rep:\d+: expected /);
  });

  it("an unfinished mtrace realloc, in lenient mode", async () => {
    const reader = readTrace({ name: "u.mtrace", data: "= Start\n+ 0x10 0x8\n< 0x10\n" }, { lenient: true });
    for await (const _ of reader);
    expect(reader.summary.problems).toEqual([
      "u.mtrace:3: expected a '> PTR SIZE' line completing the realloc begun by '< PTR' on line 3",
    ]);
  });

  it("a .rep with fewer ops than its header says, in lenient mode", async () => {
    const reader = readTrace({ name: "short.rep", data: "10\n1\n3\na 0 5\nf 0\n" }, { lenient: true });
    for await (const _ of reader);
    expect(reader.summary.problems).toEqual([
      "short.rep:5: expected 3 ops, as line 3 of the header says; the file holds 2 (truncated?)",
    ]);
  });
});

describe("the main entry reads without Node's file and zlib modules", () => {
  it("refuses a path, saying where file reading lives", () => {
    expect(() => readInMemory("trace.rep")).toThrow(
      /cannot read the trace trace\.rep: .*@heapkit\/trace\/node/,
    );
  });

  it("reads a gzipped ReadableStream through DecompressionStream", async () => {
    const gz = gzipSync(readFileSync(fixture("tiny.rep")));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunked(gz, 5)) controller.enqueue(chunk);
        controller.close();
      },
    });
    const seen = [];
    for await (const event of readInMemory({ name: "tiny.rep.gz", data: stream })) seen.push(event);
    expect(seen).toEqual(TINY_EVENTS);
  });

  it("names a truncated gzip stream", async () => {
    const gz = gzipSync(readFileSync(fixture("tiny.rep")));
    const reader = readInMemory({ name: "cut.rep.gz", data: gz.subarray(0, gz.length - 6) });
    await expect(
      (async () => {
        for await (const _ of reader);
      })(),
    ).rejects.toThrow(/^cut\.rep\.gz:\d+: expected more gzip data/);
  });
});

describe("stopping early", () => {
  it("leaves no gunzip running and raises no late error when a reader of a .gz file is left early", async () => {
    for (const stopAt of [1, 20_000, 200_000]) {
      const reader = readTrace(fixture("real/sqlite3.mtrace.gz"));
      let seen = 0;
      for await (const batch of reader.batches()) {
        seen += batch.length;
        if (seen >= stopAt) break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(seen).toBeGreaterThanOrEqual(Math.min(stopAt, 16384));
    }
  });
});
