import { readFileSync } from "node:fs";
import type { TraceEvent } from "@heapkit/contract";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { type TraceFormat, writeTrace } from "../src/node.js";
import { events, fixture, tempDir } from "./helpers.js";

const temp = tempDir();
afterAll(() => temp.remove());

/**
 * Random valid traces: each allocation takes the next id (as mtrace's reader numbers them), frees and
 * reallocs pick a live id. Such traces come back equal from every format.
 */
const traces = fc.array(fc.tuple(fc.nat(2), fc.nat(), fc.nat(1 << 20)), { maxLength: 120 }).map((steps) => {
  const out: TraceEvent[] = [];
  const live: number[] = [];
  let next = 0;
  for (const [kind, pick, size] of steps) {
    if (kind === 0 || live.length === 0) {
      out.push({ op: "alloc", id: next, size });
      live.push(next++);
    } else if (kind === 1) {
      const [id] = live.splice(pick % live.length, 1);
      out.push({ op: "free", id });
    } else {
      out.push({ op: "realloc", id: live[pick % live.length], size });
    }
  }
  return out;
});

let counter = 0;
const formats: [TraceFormat, string][] = [
  ["rep", ".rep"],
  ["mtrace", ".mtrace"],
  ["jsonl", ".jsonl"],
  ["rep", ".rep.gz"],
  ["mtrace", ".mtrace.gz"],
  ["jsonl", ".jsonl.gz"],
];

describe("write then read gives the same events", () => {
  it.each(formats)("%s (%s)", async (_format, extension) => {
    await fc.assert(
      fc.asyncProperty(traces, async (trace) => {
        const file = temp.file(`t${counter++}${extension}`);
        expect(await writeTrace(trace, file)).toBe(trace.length);
        expect(await events(file)).toEqual(trace);
      }),
      { numRuns: 25 },
    );
  });

  it("keeps times in JSON Lines", async () => {
    const trace: TraceEvent[] = [
      { op: "alloc", id: 7, size: 1, time: 0.5 },
      { op: "realloc", id: 7, size: 9, time: 2 },
      { op: "free", id: 7, time: 3 },
    ];
    const file = temp.file("times.jsonl");
    await writeTrace(trace, file);
    expect(await events(file)).toEqual(trace);
  });

  it("converts the hand-written fixtures between formats (read → write → read)", async () => {
    for (const from of ["tiny.rep", "tiny.jsonl"]) {
      const original = (await events(fixture(from))).map(({ time: _time, ...event }) => event as TraceEvent);
      for (const to of [".rep", ".mtrace", ".jsonl"]) {
        const file = temp.file(`${from}${to}`);
        await writeTrace(original, file);
        expect(await events(file)).toEqual(original);
      }
    }
  });

  it("writes a .rep header with the peak live bytes, ids and ops", async () => {
    const file = temp.file("header.rep");
    await writeTrace(await events(fixture("tiny.rep")), file);
    expect(readFileSync(file, "utf8")).toBe(readFileSync(fixture("tiny.rep"), "utf8"));
  });

  it("refuses a name with no format", async () => {
    await expect(writeTrace([], temp.file("trace.txt"))).rejects.toThrow(/cannot tell the trace format/);
  });
});
