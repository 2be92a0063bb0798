import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { BlockInfo, BlockState } from "@heapkit/contract";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readTextFile } from "../src/lib/files.js";
import { ByteClass, classifyCells } from "../src/lib/heap-line.js";
import type { HeapPicture } from "../src/lib/picture.js";
import { shellCommand, shellQuote } from "../src/lib/shell.js";
import { heapMapSvg, MAP_COLOURS } from "../src/lib/svg.js";
import { pickTracedProgram } from "../src/lib/traced-program.js";

/** A block as the generator makes it: its state, header, payload and trailing bytes. */
interface BlockShape {
  state: BlockState;
  header: number;
  payload: number;
  trailer: number;
}

const blockShape = fc.record({
  state: fc.constantFrom<BlockState>("used", "free", "meta", "cached"),
  header: fc.integer({ min: 0, max: 8 }),
  payload: fc.integer({ min: 1, max: 40 }),
  trailer: fc.integer({ min: 0, max: 8 }),
});

/** Lays the blocks out from `start`, returns them and the class of every byte, as the classifier should see it. */
function layOut(start: number, shapes: readonly BlockShape[]): { blocks: BlockInfo[]; bytes: ByteClass[] } {
  const blocks: BlockInfo[] = [];
  const bytes: ByteClass[] = [];
  let offset = start;
  for (const { state, header, payload, trailer } of shapes) {
    const size = header + payload + trailer;
    const carriesPayload = state === "used" || state === "cached";
    blocks.push({
      offset,
      size,
      state,
      ptr: carriesPayload ? offset + header : 0,
      payload: carriesPayload ? payload : 0,
    });
    const whole = state === "free" ? ByteClass.Free : ByteClass.Header;
    const middle = state === "used" ? ByteClass.Used : state === "cached" ? ByteClass.Cached : whole;
    for (let i = 0; i < size; i++)
      bytes.push(carriesPayload && i >= header && i < header + payload ? middle : whole);
    offset += size;
  }
  return { blocks, bytes };
}

describe("classifyCells", () => {
  it("gives each cell the class of its byte when cells and bytes are one to one, or cells are finer", () => {
    fc.assert(
      fc.property(
        fc.array(blockShape, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 4 }),
        (shapes, cellsPerByte) => {
          const start = 64;
          const { blocks, bytes } = layOut(start, shapes);
          const brk = start + bytes.length;
          const cells = classifyCells({ start, brk, end: brk, blocks }, bytes.length * cellsPerByte, {
            markBlockStarts: false,
          });
          for (let cell = 0; cell < cells.length; cell++) {
            expect(cells[cell]).toBe(bytes[Math.floor(cell / cellsPerByte)]);
          }
        },
      ),
    );
  });

  it("gives each cell a class holding the most of its bytes", () => {
    fc.assert(
      fc.property(
        fc.array(blockShape, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 0, max: 100 }),
        (shapes, cellCount, unclaimed) => {
          const start = 16;
          const { blocks, bytes } = layOut(start, shapes);
          const brk = start + bytes.length;
          const end = brk + unclaimed;
          const cells = classifyCells({ start, brk, end, blocks }, cellCount, { markBlockStarts: false });
          const span = end - start;
          for (let cell = 0; cell < cellCount; cell++) {
            // the share of each byte inside the cell, exactly as fractions of a cell
            const counts = [0, 0, 0, 0, 0];
            const from = (cell * span) / cellCount;
            const to = ((cell + 1) * span) / cellCount;
            for (let byte = Math.floor(from); byte < Math.ceil(to); byte++) {
              const overlap = Math.min(to, byte + 1) - Math.max(from, byte);
              counts[byte < bytes.length ? bytes[byte] : ByteClass.Unclaimed] += overlap;
            }
            const most = Math.max(...counts);
            const candidates = counts.flatMap((n, cls) => (Math.abs(n - most) < 1e-9 * span ? [cls] : []));
            expect(candidates).toContain(cells[cell]);
          }
        },
      ),
    );
  });

  it("shows a used block's header in the cell where the block starts, for short maps", () => {
    // a 64-byte payload behind a 4-byte header, drawn in 4 cells of 17 bytes: the header is the smaller part
    const blocks: BlockInfo[] = [{ offset: 0, size: 68, state: "used", ptr: 4, payload: 64 }];
    const input = { start: 0, brk: 68, end: 68, blocks };
    expect([...classifyCells(input, 4)]).toEqual([
      ByteClass.Header,
      ByteClass.Used,
      ByteClass.Used,
      ByteClass.Used,
    ]);
    expect([...classifyCells(input, 4, { markBlockStarts: false })]).toEqual([
      ByteClass.Used,
      ByteClass.Used,
      ByteClass.Used,
      ByteClass.Used,
    ]);
  });
});

describe("the SVG heap map", () => {
  const picture = (cells: number[]): HeapPicture => ({
    op: 1,
    base: 0,
    brk: cells.length * 8,
    cells: Uint8Array.from(cells),
    liveBlocks: 1,
    liveBytes: 8,
    freeBlocks: 1,
    freeBytes: 8,
    overheadBytes: 0,
    largestFreeBlock: 8,
  });

  it("gives cached blocks their own colour and legend entry, only where there are some", () => {
    const cached = heapMapSvg(picture([ByteClass.Used, ByteClass.Cached, ByteClass.Free]), {
      columns: 3,
      title: "t",
    });
    expect(cached).toContain(`fill="${MAP_COLOURS.cached}"`);
    expect(cached).toContain("cached (freed, in a front cache)");
    const plain = heapMapSvg(picture([ByteClass.Used, ByteClass.Free, ByteClass.Header]), {
      columns: 3,
      title: "t",
    });
    expect(plain).not.toContain(MAP_COLOURS.cached);
    expect(plain).not.toContain("cached");
  });
});

describe("shellQuote", () => {
  it("leaves plain words alone and quotes the rest", () => {
    expect(shellCommand(["python3", "-c", "import json; print(1)"])).toBe(
      "python3 -c 'import json; print(1)'",
    );
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote("")).toBe("''");
    expect(shellQuote("/usr/bin/ls")).toBe("/usr/bin/ls");
  });

  it("gives back the same arguments when a POSIX shell reads the quoted command", () => {
    const shell = spawnSync("sh", ["-c", "true"]).status === 0;
    if (!shell) return;
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: "grapheme-ascii", maxLength: 12 }), { maxLength: 5 }),
        (args) => {
          const printed = spawnSync("sh", ["-c", `printf '%s\\0' ${shellCommand(args)} END`], {
            encoding: "utf8",
          });
          expect(printed.stdout.split("\0").slice(0, -2)).toEqual(args);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("pickTracedProgram", () => {
  const command = ["python3", "-c", "print(1)"];

  it("takes the process whose arguments are the command's, under the same name", () => {
    const picked = pickTracedProgram(command, [
      { pid: 10, argv: ["bash", "pyenv-root/shims/python3", "-c", "print(1)"], allocs: 900 },
      {
        pid: 11,
        argv: ["bash", "pyenv-root/libexec/pyenv", "exec", "python3", "-c", "print(1)"],
        allocs: 5000,
      },
      { pid: 12, argv: ["head", "-1"], allocs: 3 },
      { pid: 10, argv: ["pyenv-root/versions/3.11.9/bin/python3", "-c", "print(1)"], allocs: 2000 },
    ]);
    expect(picked).toEqual({ pid: 10, reason: "its arguments and name" });
  });

  it("accepts another name with the same arguments (python3 run as python3.11)", () => {
    const picked = pickTracedProgram(command, [
      { pid: 3, argv: ["sh", "/shims/python3", "-c", "print(1)"], allocs: 50 },
      { pid: 4, argv: ["/usr/bin/python3.11", "-c", "print(1)"], allocs: 40 },
    ]);
    expect(picked).toEqual({ pid: 4, reason: "its arguments" });
  });

  it("among equal matches, and when none matches, takes the process that allocated the most", () => {
    const picked = pickTracedProgram(
      ["make"],
      [
        { pid: 7, argv: ["make"], allocs: 10 },
        { pid: 8, argv: ["make"], allocs: 30 },
        { pid: 9, argv: ["cc", "-c", "x.c"], allocs: 900 },
      ],
    );
    expect(picked).toEqual({ pid: 8, reason: "its arguments and name" });
    expect(
      pickTracedProgram(
        ["x", "y"],
        [
          { pid: 1, argv: [], allocs: 1 },
          { pid: 2, argv: ["z"], allocs: 5 },
        ],
      ),
    ).toEqual({
      pid: 2,
      reason: "most allocations",
    });
  });

  it("has nothing to pick from no process, and one process is the program", () => {
    expect(pickTracedProgram(command, [])).toBeUndefined();
    expect(pickTracedProgram(command, [{ pid: 5, argv: [], allocs: 0 }])).toEqual({
      pid: 5,
      reason: "the only process",
    });
  });
});

describe("readTextFile", () => {
  it("names the file when a gzip file is cut short", () => {
    const dir = mkdtempSync(join(tmpdir(), "heapkit-files-"));
    const file = join(dir, "cut.jsonl.gz");
    writeFileSync(file, gzipSync(Buffer.from('{"op":"new"}\n'.repeat(100))).subarray(0, 20));
    expect(() => readTextFile(file)).toThrow(`${file}: not a whole gzip file`);
    writeFileSync(file, gzipSync(Buffer.from("whole\n")));
    expect(readTextFile(file)).toBe("whole\n");
  });
});
