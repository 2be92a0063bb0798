/**
 * Mutated traces of every format, read whole and in random chunks, plain and gzipped (through
 * node:zlib and through DecompressionStream), strict and lenient. Strict reading throws nothing but
 * TraceFormatError, lenient reading never throws, and how the input is cut never changes the
 * outcome. `HEAPKIT_FUZZ_RUNS` raises the number of runs (the root script `fuzz` runs it long).
 */
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { type TraceEvent, TraceFormatError } from "@heapkit/contract";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readTrace as readAnywhere } from "../src/index.js";
import { readTrace, type TraceSummary } from "../src/node.js";
import { fixture } from "./helpers.js";

const runs = Number(process.env.HEAPKIT_FUZZ_RUNS ?? 150);
const seeds = [
  { name: "t.rep", text: readFileSync(fixture("tiny.rep"), "latin1") },
  { name: "t.mtrace", text: readFileSync(fixture("tiny.mtrace"), "latin1") },
  { name: "t.jsonl", text: readFileSync(fixture("tiny.jsonl"), "latin1") },
  { name: "t.rep", text: "150\n3\n7\n1\na 0 100\nr 0 120\na 1 3\nf 0\na 2 0\nf 2\nf 1\n" },
  {
    name: "t.mtrace",
    text: "= Start\n@ ./a:[0x1] + 0x10 0x8\n< 0x10\n> 0x20 0x18\n- 0x20\n- 0x99\n+ (nil) 0x5\n!\n",
  },
  {
    name: "t.jsonl",
    text: '{"format":"heapkit-trace","version":1}\n{"op":"alloc","id":7,"size":3,"time":1.5}\n',
  },
];
/** Bytes a mutation inserts: what the formats are made of, plus anything. */
const pieces = fc.oneof(
  fc.constantFrom(
    "\n",
    " ",
    "\t",
    "\r",
    "a ",
    "f ",
    "r ",
    "+ ",
    "- ",
    "< ",
    "> ",
    "= ",
    "@ x ",
    "!",
    "0x",
    "(nil)",
  ),
  fc.constantFrom(
    '{"op":"alloc","id":',
    '"size":',
    '"free"',
    "}",
    "{",
    "-1",
    "1.5",
    "9007199254740993",
    "99",
  ),
  fc.string({ maxLength: 6 }),
  fc.uint8Array({ maxLength: 4 }).map((bytes) => String.fromCharCode(...bytes)),
);
const mutation = fc.oneof(
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: pieces }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant("duplicate-line" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(text: string, mutations: Mutation[]): string {
  for (const m of mutations) {
    const at = text.length === 0 ? 0 : m.at % (text.length + 1);
    if (m.kind === "insert") text = text.slice(0, at) + m.text + text.slice(at);
    else if (m.kind === "delete") text = text.slice(0, at) + text.slice(at + m.length);
    else if (m.kind === "truncate") text = text.slice(0, at);
    else {
      const lines = text.split("\n");
      const i = m.at % lines.length;
      lines.splice(i, 0, lines[i]);
      text = lines.join("\n");
    }
  }
  return text;
}

type Outcome = { error: string } | { events: TraceEvent[]; summary: TraceSummary };

/** The Node entry's reader (node:zlib) and the main entry's (DecompressionStream). */
const readers = [readTrace, readAnywhere];

async function outcome(
  read: typeof readTrace,
  name: string,
  data: Uint8Array | Uint8Array[],
  lenient: boolean,
  maxLineBytes: number,
): Promise<Outcome> {
  const reader = read({ name, data }, { lenient, maxLineBytes, batchSize: 4 });
  const events: TraceEvent[] = [];
  try {
    for await (const event of reader) events.push(event);
  } catch (error) {
    if (!(error instanceof TraceFormatError)) throw error;
    expect(lenient, `lenient reading threw ${error.message}`).toBe(false);
    expect(error.message.startsWith(`${name}:`)).toBe(true);
    return { error: error.message };
  }
  return { events, summary: reader.summary };
}

function cut(bytes: Uint8Array, sizes: number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = sizes.length === 0 ? bytes.length : sizes[i % sizes.length];
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

describe(`fuzz: mutated traces (${runs} runs)`, () => {
  it(
    "strict throws only TraceFormatError, lenient never throws, chunking never changes the outcome",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...seeds),
          fc.array(mutation, { maxLength: 6 }),
          fc.boolean(),
          fc.option(fc.nat(), { nil: undefined }),
          fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 5 }),
          fc.constantFrom(24, 64, 8192),
          async (seed, mutations, gzip, gzipCut, chunkSizes, maxLineBytes) => {
            const text = mutate(seed.text, mutations);
            let bytes: Uint8Array = Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
            let name = seed.name;
            if (gzip) {
              bytes = gzipSync(bytes);
              if (gzipCut !== undefined) bytes = bytes.subarray(0, gzipCut % (bytes.length + 1));
              name += ".gz";
            }
            for (const read of gzip ? readers : [readTrace]) {
              for (const lenient of [false, true]) {
                const whole = await outcome(read, name, bytes, lenient, maxLineBytes);
                const chunked = await outcome(read, name, cut(bytes, chunkSizes), lenient, maxLineBytes);
                expect(chunked).toEqual(whole);
              }
            }
          },
        ),
        { numRuns: runs },
      );
    },
    600_000 + runs * 50,
  );
});
