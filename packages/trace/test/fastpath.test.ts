import { TraceFormatError } from "@heapkit/contract";
import { createHeap } from "@heapkit/heap";
import { strategyByName } from "@heapkit/strategies";
import { describe, expect, it } from "vitest";
import { IdSlotMap, LiveTable } from "../src/batch.js";
import { ReplayError, readTrace, replay } from "../src/node.js";
import { events, readError } from "./helpers.js";

/** A random valid `.rep` trace, its ops written with the given separators. */
function randomRep(seed: number, ops: number, odd: boolean): string {
  let state = seed;
  const random = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const live: number[] = [];
  let next = 0;
  const lines: string[] = [];
  for (let k = 0; k < ops; k++) {
    const r = random();
    const sep = odd && random() < 0.05 ? (random() < 0.5 ? "\t" : "  ") : " ";
    const end = odd && random() < 0.05 ? "\r" : "";
    if (live.length === 0 || r < 0.45) {
      live.push(next);
      lines.push(`a${sep}${next++} ${Math.floor(random() * 5000)}${end}`);
    } else if (r < 0.55) {
      lines.push(`r ${live[Math.floor(random() * live.length)]}${sep}${Math.floor(random() * 9000)}${end}`);
    } else {
      const at = Math.floor(random() * live.length);
      lines.push(`f ${live[at]}${end}`);
      live[at] = live[live.length - 1];
      live.pop();
    }
    if (odd && random() < 0.01) lines.push("");
  }
  return `0\n${next}\n${ops}\n1\n${lines.join("\n")}\n`;
}

/** The bytes of `text` in chunks of `size`. */
function* chunked(text: string, size: number): Generator<Uint8Array> {
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

describe("the .rep fast path", () => {
  it("reads what the line-by-line path reads, whatever the chunks and separators", async () => {
    for (const odd of [false, true]) {
      const text = randomRep(odd ? 7 : 3, 5000, odd);
      const whole = await events({ name: "r.rep", data: text });
      expect(whole).toHaveLength(5000);
      for (const size of [1, 7, 64, 4096]) {
        expect(await events({ name: "r.rep", data: chunked(text, size) })).toEqual(whole);
      }
    }
  });

  it("numbers lines and slots as the line-by-line path does", async () => {
    const text = randomRep(11, 3000, true);
    const rows = async (data: string | Iterable<Uint8Array>) => {
      const out: number[] = [];
      for await (const batch of readTrace({ name: "r.rep", data }, { batchSize: 100 }).batches()) {
        for (let i = 0; i < batch.length; i++) out.push(batch.line[i], batch.slot[i], batch.op[i]);
      }
      return out;
    };
    expect(await rows(chunked(text, 5))).toEqual(await rows(text));
  });

  it("names the line of an error deep in a run of good lines", async () => {
    const good = randomRep(5, 2000, false).trimEnd().split("\n");
    for (const [bad, expected] of [
      ["a 1 -5", /the size in bytes: a non-negative integer, not "-5"/],
      ["f 999999", /an id below/],
      ["f 1 2", /the end of the line after f id, not "2"/],
      ["q 1 2", /expected an op/],
    ] as const) {
      const lines = [...good];
      lines.splice(1500, 0, bad);
      const text = `${lines.join("\n")}\n`;
      for (const data of [text, chunked(text, 33)]) {
        const error = await readError({ name: "deep.rep", data });
        expect(error).toBeInstanceOf(TraceFormatError);
        expect((error as TraceFormatError).line).toBe(1501);
        expect(error.message).toMatch(expected);
      }
    }
  });

  it("takes ids up to 2^53 (beyond the paged table) through the hash map", async () => {
    const big = 2 ** 40 + 3;
    const text = `0\n${2 ** 41}\n4\n1\na ${big} 8\na 5 9\nf ${big}\nf 5\n`;
    expect(await events({ name: "big.rep", data: text })).toEqual([
      { op: "alloc", id: big, size: 8 },
      { op: "alloc", id: 5, size: 9 },
      { op: "free", id: big },
      { op: "free", id: 5 },
    ]);
  });
});

describe("IdSlotMap", () => {
  it("maps ids to slots across pages and gives a page back when its last id goes", () => {
    const map = new IdSlotMap();
    for (let id = 0; id < 100_000; id += 7) map.set(id, id & 0xffff);
    for (let id = 0; id < 100_000; id++) expect(map.get(id)).toBe(id % 7 === 0 ? id & 0xffff : -1);
    for (let id = 0; id < 100_000; id += 7) map.delete(id);
    expect(map.get(0)).toBe(-1);
    expect(map.get(2 ** 31 - 1)).toBe(-1);
    map.set(5_000_000, 3); // reuses a page from the pool
    expect(map.get(5_000_000)).toBe(3);
    expect(map.get(5_000_001)).toBe(-1);
  });

  // pages given back go on a stack of free pages, taken again before fresh ones: a model check over many
  // pages, given back and taken again, with the pool reserved ahead and grown as it goes
  it.each([0, 60_000])("agrees with a Map over random sets and deletes (reserved for %i ids)", (reserved) => {
    const map = new IdSlotMap();
    if (reserved > 0) map.reserve(reserved);
    const model = new Map<number, number>();
    let seed = 12345;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    let next = 0;
    for (let step = 0; step < 40_000; step++) {
      if (model.size > 0 && random(3) === 0) {
        // frees mostly of old ids, as a program's long-lived blocks go, so whole pages empty
        const keys = [...model.keys()];
        const id = keys[random(Math.min(keys.length, 64))];
        map.delete(id);
        model.delete(id);
      } else {
        const id = next < 60_000 && random(4) !== 0 ? next++ : 60_000 + random(20_000);
        if (model.has(id)) continue;
        const slot = random(1 << 20);
        map.set(id, slot);
        model.set(id, slot);
      }
    }
    for (let id = 0; id < 80_000; id++) expect(map.get(id)).toBe(model.get(id) ?? -1);
  });
});

describe("tables made to size ahead", () => {
  it("IdSlotMap: ids inside a reservation and past it, pages given back and taken again", () => {
    const map = new IdSlotMap();
    map.reserve(1000);
    const ids = [0, 255, 256, 999, 1000, 70_000, 2 ** 31 - 1];
    for (const [slot, id] of ids.entries()) map.set(id, slot);
    for (const [slot, id] of ids.entries()) expect(map.get(id)).toBe(slot);
    for (const id of [1, 254, 257, 998, 1001, 69_999, 2 ** 31 - 2]) expect(map.get(id)).toBe(-1);
    for (const id of ids) map.delete(id);
    for (const id of ids) expect(map.get(id)).toBe(-1);
    map.set(512, 0); // a page that was given back, taken again: its other ids are not live
    expect(map.get(512)).toBe(0);
    expect(map.get(513)).toBe(-1);
  });

  it("LiveTable: slots reused after frees and counted past a reservation", () => {
    const live = new LiveTable();
    live.reserve(4);
    const slots = [10, 20, 30, 40, 50, 60].map((size) => live.takeUnnamed(size));
    expect(slots).toEqual([0, 1, 2, 3, 4, 5]);
    live.release(1);
    live.release(4);
    expect(live.takeUnnamed(7)).toBe(4);
    expect(live.take(99, 8)).toBe(1);
    expect(live.ids[1]).toBe(99);
    expect(live.size).toBe(6);
    expect(live.liveBytes).toBe(10 + 8 + 30 + 40 + 7 + 60);
    expect(live.slotCount).toBe(6);
  });
});

describe("payload checks with words", () => {
  it("catches a scribble on the last byte of a block whose end is not word-aligned", async () => {
    const heap = createHeap({ strategy: strategyByName("first-fit"), size: 1 << 16, maxSize: 1 << 20 });
    let first = 0;
    const scribbler = Object.create(heap, {
      tryMalloc: {
        value(size: number) {
          const ptr = heap.tryMalloc(size);
          if (first === 0) first = ptr;
          else heap.memory.u8[first + 12] ^= 0xff; // block 0 holds 13 bytes: its last one
          return ptr;
        },
      },
    });
    const error = await replay({ name: "s.rep", data: "0\n2\n3\n1\na 0 13\na 1 8\nf 0\n" }, scribbler).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(ReplayError);
    expect(error.message).toMatch(
      /^s\.rep:7: free of id 0: the payload at \d+ was overwritten \(its last bytes/,
    );
  });
});
