import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { TraceFormatError } from "@heapkit/contract";
import { afterAll, describe, expect, it } from "vitest";
import { readTrace } from "../src/node.js";
import { gatheredGunzip, openFile, streamingGunzip, syncGunzip } from "../src/node-files.js";
import { TraceReader } from "../src/reader.js";
import { events, fixture, readError, TINY_EVENTS, tempDir } from "./helpers.js";

const temp = tempDir();
afterAll(() => temp.remove());

describe(".rep", () => {
  it("reads a hand-written trace and its header", async () => {
    const reader = readTrace(fixture("tiny.rep"));
    const all = [];
    for await (const event of reader) all.push(event);
    expect(all).toEqual(TINY_EVENTS);
    expect(reader.format).toBe("rep");
    expect(reader.summary).toMatchObject({
      header: { heapSize: 150, ids: 3, ops: 7, weight: 1 },
      events: 7,
      allocs: 3,
      frees: 3,
      reallocs: 1,
      liveAtEnd: 0,
      peakLiveBlocks: 2,
      lines: 11,
    });
  });

  it("accepts a three-line header, blank lines, tabs and CRLF", async () => {
    const text = "0\r\n2\r\n3\r\n\r\na\t0 5\r\n\na 1  7 \r\nf 0\r\n";
    const source = { name: "crlf.rep", data: text };
    expect(await events(source)).toEqual([
      { op: "alloc", id: 0, size: 5 },
      { op: "alloc", id: 1, size: 7 },
      { op: "free", id: 0 },
    ]);
  });

  it("gives batches with dense slots reused after a free", async () => {
    const reader = readTrace(fixture("tiny.rep"), { batchSize: 4 });
    const slots: number[] = [];
    const lines: number[] = [];
    for await (const batch of reader.batches()) {
      expect(batch.length).toBeLessThanOrEqual(4);
      for (let i = 0; i < batch.length; i++) {
        slots.push(batch.slot[i]);
        lines.push(batch.line[i]);
      }
    }
    expect(slots).toEqual([0, 1, 0, 0, 1, 1, 0]);
    expect(lines).toEqual([5, 6, 7, 8, 9, 10, 11]);
  });

  it("reads gzip transparently, by content not by name", async () => {
    const gz = temp.file("tiny.rep.gz");
    const data = gzipSync(readFileSync(fixture("tiny.rep")));
    writeFileSync(gz, data);
    expect(await events(gz)).toEqual(TINY_EVENTS);
    expect(await events({ name: "renamed.rep", data })).toEqual(TINY_EVENTS);
  });

  it("reads a file of many chunks, plain and gzipped, as the same bytes in memory", async () => {
    // ~1 MB plain and ~0.4 MB gzipped: many times the chunks a file is read in, and the buffers they reuse
    let seed = 1;
    const random = () => (seed = (seed * 48271) % 0x7fffffff);
    const lines = ["0", "50000", "100000"];
    for (let id = 0; id < 50_000; id++) lines.push(`a ${id} ${random() % 100_000}`);
    for (let id = 0; id < 50_000; id++) lines.push(`f ${(id * 7919) % 50_000}`);
    const text = Buffer.from(`${lines.join("\n")}\n`);
    const plain = temp.file("many.rep");
    const gz = temp.file("many.rep.gz");
    writeFileSync(plain, text);
    writeFileSync(gz, gzipSync(text));
    const expected = await events({ name: "many.rep", data: text });
    expect(expected).toHaveLength(100_000);
    expect(await events(plain)).toEqual(expected);
    expect(await events(gz)).toEqual(expected);
    // the file is inflated synchronously into a window: node:zlib's stream and the inflating at once of
    // its public API (where zlib's handle is out of reach) must read it the same
    for (const gunzip of [streamingGunzip, gatheredGunzip]) {
      const read = [];
      for await (const event of new TraceReader(gz, {}, { open: openFile, gunzip })) read.push(event);
      expect(read).toEqual(expected);
    }
  });

  it("inflates on this thread into one window of 64 KiB, reused, whatever the gzip holds", async () => {
    const content = new Uint8Array(1 << 20).map((_, i) => (i * 2654435761) >>> 27);
    const gz = gzipSync(content);
    const blocks = async function* () {
      for (let at = 0; at < gz.length; at += 1 << 14) yield gz.subarray(at, at + (1 << 14));
    };
    const windows = new Set<ArrayBufferLike>();
    let at = 0;
    for await (const chunk of syncGunzip(blocks())) {
      expect(chunk.length).toBeLessThanOrEqual(1 << 16);
      expect(Buffer.compare(chunk, content.subarray(at, at + chunk.length))).toBe(0);
      at += chunk.length;
      windows.add(chunk.buffer);
    }
    expect(at).toBe(content.length);
    expect(windows.size).toBe(1);
    // the window itself, not views of one buffer holding the whole content (what inflating at once hands on)
    expect([...windows][0].byteLength).toBe(1 << 16);
  });

  it("hands on the same bytes, then the same error, as node:zlib's stream, from a truncated or corrupt gzip", async () => {
    const text = readFileSync(fixture("real/gcc-as.rep.gz"));
    const corrupt = Buffer.from(text);
    corrupt[Math.floor(corrupt.length / 2)] ^= 0xff;
    const inflated = async (gunzip: typeof syncGunzip, data: Uint8Array) => {
      const blocks = async function* () {
        for (let at = 0; at < data.length; at += 1 << 14) yield data.subarray(at, at + (1 << 14));
      };
      const out: Buffer[] = [];
      let error: boolean | string = "none";
      try {
        for await (const chunk of gunzip(blocks())) out.push(Buffer.from(chunk));
      } catch (problem) {
        error = (problem as { truncated: boolean }).truncated;
      }
      return { out: Buffer.concat(out).toString("latin1"), error };
    };
    for (const data of [text.subarray(0, 20_000), text.subarray(0, text.length - 3), corrupt]) {
      const synchronous = await inflated(syncGunzip, data);
      expect(synchronous.error).not.toBe("none");
      expect(synchronous).toEqual(await inflated(streamingGunzip, data));
    }
    expect((await inflated(syncGunzip, text.subarray(0, 20_000))).error).toBe(true);
    expect((await inflated(syncGunzip, corrupt)).error).toBe(false);
  });

  const header = "100\n3\n4\n1\n";
  const cases: [string, string, number, RegExp][] = [
    [
      "an unknown op",
      `${header}a 0 8\nx 1 8\n`,
      6,
      /expected an op "a id bytes", "r id bytes" or "f id", not "x"/,
    ],
    [
      "a missing size",
      `${header}a 0\n`,
      5,
      /expected "a id bytes": the size in bytes: a non-negative integer \(the line ends early\)/,
    ],
    ["a missing id", `${header}f\n`, 5, /expected an op/],
    ["a negative size", `${header}a 0 -8\n`, 5, /the size in bytes: a non-negative integer, not "-8"/],
    ["a fractional size", `${header}a 0 8.5\n`, 5, /not "8.5"/],
    ["a size that is not a number", `${header}a 0 lots\n`, 5, /not "lots"/],
    ["an extra field", `${header}f 0 1\n`, 5, /the end of the line after f id, not "1"/],
    [
      "an id freed twice",
      `${header}a 0 8\nf 0\nf 0\n`,
      7,
      /id 0 is not live \(freed twice, or never allocated\)/,
    ],
    ["a free of an id never allocated", `${header}f 2\n`, 5, /id 2 is not live/],
    ["a realloc of an unknown id", `${header}r 1 8\n`, 5, /a live id to realloc: id 1 is not live/],
    ["an allocation of a live id", `${header}a 0 8\na 0 8\n`, 6, /id 0 is still live/],
    [
      "an id beyond the header's count",
      `${header}a 3 8\n`,
      5,
      /an id below 3 \(the header's number of ids\), not 3/,
    ],
    [
      "a bad header",
      "100\nthree\n4\n",
      2,
      /header line 2, the number of ids: a non-negative integer, not "three"/,
    ],
    [
      "a missing header",
      "",
      1,
      /expected a .rep header \(heap size, number of ids, number of ops on lines 1–3\); the file ends after 0 lines/,
    ],
    [
      "fewer ops than the header says",
      `${header}a 0 8\nf 0\n`,
      6,
      /4 ops, as line 3 of the header says; the file holds 2/,
    ],
  ];
  it.each(cases)("stops at %s with file:line and what was expected", async (_what, text, line, expected) => {
    const error = await readError({ name: "bad.rep", data: text });
    expect(error).toBeInstanceOf(TraceFormatError);
    const formatError = error as TraceFormatError;
    expect(formatError.file).toBe("bad.rep");
    expect(formatError.line).toBe(line);
    expect(formatError.message).toMatch(new RegExp(`^bad\\.rep:${line}: expected `));
    expect(formatError.message).toMatch(expected);
  });

  it("skips and counts bad lines when lenient", async () => {
    const text = `${header}a 0 8\nx\na 1 -1\nf 0\nf 0\n`;
    const reader = readTrace({ name: "bad.rep", data: text }, { lenient: true });
    const all = [];
    for await (const event of reader) all.push(event);
    expect(all).toEqual([
      { op: "alloc", id: 0, size: 8 },
      { op: "free", id: 0 },
    ]);
    expect(reader.summary.skippedLines).toBe(3);
    expect(reader.summary.problems).toHaveLength(3);
    expect(reader.summary.problems[0]).toMatch(/^bad\.rep:6: expected an op/);
  });

  it("names a truncated gzip file and the line it stopped at", async () => {
    const body = `${header}a 0 8\na 1 8\nf 0\nf 1\n`.repeat(1);
    const gz = gzipSync(Buffer.from(body));
    const cut = gz.subarray(0, gz.length - 12);
    const error = await readError({ name: "cut.rep.gz", data: cut });
    expect(error).toBeInstanceOf(TraceFormatError);
    expect(error.message).toMatch(
      /^cut\.rep\.gz:\d+: expected more gzip data: the compressed file is truncated/,
    );
    const reader = readTrace({ name: "cut.rep.gz", data: cut }, { lenient: true });
    for await (const _ of reader.batches());
    expect(reader.summary.truncated).toBe(true);
  });

  it("reads a big gzipped trace in chunks across line boundaries", async () => {
    const n = 12000;
    let text = `0\n${n}\n${2 * n}\n1\n`;
    for (let i = 0; i < n; i++) text += `a ${i} ${i % 100}\n`;
    for (let i = 0; i < n; i++) text += `f ${i}\n`;
    const reader = readTrace({ name: "big.rep", data: gzipSync(Buffer.from(text)) });
    let count = 0;
    let batches = 0;
    for await (const batch of reader.batches()) {
      count += batch.length;
      batches++;
    }
    expect(count).toBe(2 * n);
    expect(batches).toBeGreaterThan(1);
    expect(reader.summary.peakLiveBlocks).toBe(n);
  });
});

describe("mtrace", () => {
  it("maps pointers to ids, keeps a realloc's id, counts unknown frees and failures", async () => {
    const reader = readTrace(fixture("tiny.mtrace"));
    const all = [];
    for await (const event of reader) all.push(event);
    expect(all).toEqual([
      { op: "alloc", id: 0, size: 100 },
      { op: "alloc", id: 1, size: 50 },
      { op: "free", id: 0 },
      { op: "alloc", id: 2, size: 30 },
      { op: "realloc", id: 1, size: 70 },
      { op: "free", id: 1 },
      { op: "alloc", id: 3, size: 0 },
    ]);
    expect(reader.summary).toMatchObject({
      format: "mtrace",
      unknownFrees: 1,
      failedAllocations: 2,
      liveAtEnd: 2,
      liveBytesAtEnd: 30,
    });
  });

  it("treats a realloc of an unknown pointer as an allocation, and a reused live pointer as a free first", async () => {
    const text = "< 0x1000\n> 0x2000 0x10\n+ 0x2000 0x20\n- 0x2000\n";
    const reader = readTrace({ name: "x.mtrace", data: text });
    const all = [];
    for await (const event of reader) all.push(event);
    expect(all).toEqual([
      { op: "alloc", id: 0, size: 16 },
      { op: "free", id: 0 },
      { op: "alloc", id: 1, size: 32 },
      { op: "free", id: 1 },
    ]);
    expect(reader.summary).toMatchObject({ unknownReallocs: 1, implicitFrees: 1, liveAtEnd: 0 });
  });

  it("reads the real sqlite3 mtrace's first lines as the .rep conversion does", async () => {
    const reader = readTrace(fixture("real/sqlite3.mtrace.gz"));
    let n = 0;
    for await (const batch of reader.batches()) {
      n += batch.length;
      if (n > 20000) break;
    }
    expect(reader.format).toBe("mtrace");
    expect(n).toBeGreaterThan(20000);
  });

  const cases: [string, string, number, RegExp][] = [
    ["an unknown op", "= Start\n* 0x10\n", 2, /expected an mtrace line/],
    [
      "a pointer that is not hex",
      "+ 0xzz 0x10\n",
      1,
      /'\+ PTR SIZE': the pointer: a hexadecimal number like 0x1f40, not "0xzz"/,
    ],
    [
      "a missing size",
      "+ 0x10\n",
      1,
      /'\+ PTR SIZE': the size: a hexadecimal number \(the line ends early\)/,
    ],
    ["a '>' without '<'", "> 0x10 0x10\n", 1, /a '< PTR' line before '> PTR SIZE'/],
    [
      "a '<' without '>'",
      "+ 0x10 0x8\n< 0x10\n- 0x10\n",
      3,
      /a '> PTR SIZE' line completing the realloc begun by '< PTR' on line 2/,
    ],
    ["a '<' at the end", "+ 0x10 0x8\n< 0x10\n", 2, /completing the realloc begun by '< PTR' on line 2/],
    ["a caller and no op", "@ ./prog:[0x10]\n", 1, /the line has a caller and no op/],
  ];
  it.each(cases)("stops at %s with file:line", async (_what, text, line, expected) => {
    const error = await readError({ name: "bad.mtrace", data: text });
    expect(error).toBeInstanceOf(TraceFormatError);
    expect((error as TraceFormatError).line).toBe(line);
    expect(error.message).toMatch(new RegExp(`^bad\\.mtrace:${line}: expected `));
    expect(error.message).toMatch(expected);
  });

  it("in lenient mode reads the line after an unfinished realloc", async () => {
    const reader = readTrace({ name: "x.mtrace", data: "+ 0x10 0x8\n< 0x10\n- 0x10\n" }, { lenient: true });
    const all = [];
    for await (const event of reader) all.push(event);
    expect(all).toEqual([
      { op: "alloc", id: 0, size: 8 },
      { op: "free", id: 0 },
    ]);
    expect(reader.summary.skippedLines).toBe(1);
  });
});

describe("JSON Lines", () => {
  it("reads events with optional times and a header line", async () => {
    expect(await events(fixture("tiny.jsonl"))).toEqual([
      { op: "alloc", id: 0, size: 100, time: 1 },
      { op: "alloc", id: 1, size: 50, time: 2 },
      { op: "free", id: 0 },
      { op: "alloc", id: 2, size: 30 },
      { op: "realloc", id: 1, size: 70 },
      { op: "free", id: 1 },
      { op: "free", id: 2, time: 7.5 },
    ]);
  });

  const cases: [string, string, RegExp][] = [
    ["invalid JSON", '{"op":"alloc"', /the line is not valid JSON/],
    ["an array", "[1,2]", /a JSON object/],
    ["an unknown op", '{"op":"calloc","id":1,"size":2}', /"op": "alloc", "free" or "realloc", not "calloc"/],
    ["a missing id", '{"op":"free"}', /"id": a non-negative integer \(the field is missing\)/],
    ["a missing size", '{"op":"alloc","id":1}', /"size": a non-negative integer \(the field is missing\)/],
    ["a negative size", '{"op":"alloc","id":1,"size":-1}', /"size": a non-negative integer, not -1/],
    ["a fractional size", '{"op":"alloc","id":1,"size":1.5}', /not 1.5/],
    ["a string size", '{"op":"alloc","id":1,"size":"8"}', /not "8"/],
    [
      "a double free",
      '{"op":"alloc","id":1,"size":8}\n{"op":"free","id":1}\n{"op":"free","id":1}',
      /id 1 is not live/,
    ],
    [
      "a realloc of an unknown id",
      '{"op":"realloc","id":4,"size":8}',
      /a live id to realloc: id 4 is not live/,
    ],
    ["a bad time", '{"op":"alloc","id":1,"size":8,"time":"noon"}', /"time": a number/],
  ];
  it.each(cases)("stops at %s with file:line", async (_what, text, expected) => {
    const error = await readError({ name: "bad.jsonl", data: text });
    expect(error).toBeInstanceOf(TraceFormatError);
    const line = text.split("\n").length;
    expect(error.message).toMatch(new RegExp(`^bad\\.jsonl:${line}: expected `));
    expect(error.message).toMatch(expected);
  });
});

describe("format detection", () => {
  it("sniffs the format when the name says nothing", async () => {
    for (const name of ["tiny.rep", "tiny.mtrace", "tiny.jsonl"]) {
      const reader = readTrace({ name: "trace.txt", data: readFileSync(fixture(name)) });
      for await (const _ of reader.batches());
      expect(reader.format).toBe(name.split(".")[1]);
    }
  });

  it("rejects something that is no trace", async () => {
    const error = await readError({ name: "notes.txt", data: "hello world\n" });
    expect(error.message).toMatch(/^notes\.txt:1: expected a trace/);
  });

  it("names a missing file", async () => {
    await expect(events(temp.file("missing.rep"))).rejects.toThrow(
      /^cannot read the trace .*missing.rep: no such file$/,
    );
  });
});
