/**
 * Line parsers, one per trace format. Each reads one line of bytes (without its newline), checks it
 * completely before it changes any state (so a lenient reader can skip a bad line and go on), and
 * pushes events into a {@link BatchBuilder}. A malformed line throws a {@link LineProblem} saying what
 * was expected; the reader turns it into a `TraceFormatError` naming the file and line.
 *
 * @module
 */
import { type BatchBuilder, IdSlotMap, type LiveTable, NumberMap, Op } from "./batch.js";
import { latin1 } from "./bytes.js";

/** The trace formats heapkit reads and writes. */
export type TraceFormat = "rep" | "mtrace" | "jsonl";

/** What a line should have been (the reader adds the file and line number). */
export class LineProblem extends Error {
  constructor(
    /** What the line should have held. */
    readonly expected: string,
  ) {
    super(expected);
    this.name = "LineProblem";
  }
}

/** The header of a CS:APP `.rep` trace. */
export interface RepHeader {
  /** Line 1: the suggested heap size (the heapkit traces put the peak live bytes there). */
  readonly heapSize: number;
  /** Line 2: how many distinct ids the trace uses (every id is below it). */
  readonly ids: number;
  /** Line 3: how many ops follow. */
  readonly ops: number;
  /** Line 4 where present: the trace's weight in the malloc-lab score. */
  readonly weight?: number;
}

/** How many problems a lenient reader keeps the text of. */
export const MAX_PROBLEMS = 20;

/** What reading a trace found besides its events; filled in while reading. */
export interface TraceSummary {
  /** The trace's format. */
  format: TraceFormat | undefined;
  /** Lines read. */
  lines: number;
  /** Events produced. */
  events: number;
  /** Allocations. */
  allocs: number;
  /** Frees. */
  frees: number;
  /** Reallocs. */
  reallocs: number;
  /** Malformed lines skipped (lenient mode only; strict reading stops at the first). */
  skippedLines: number;
  /** The first few problems found in lenient mode, as `file:line: expected …`. */
  problems: string[];
  /** mtrace: frees of pointers never allocated while tracing (allocated before it started); no event. */
  unknownFrees: number;
  /** mtrace: reallocs of pointers never allocated while tracing; replayed as allocations. */
  unknownReallocs: number;
  /** mtrace: allocations the program saw fail (`+ (nil)`) and failed reallocs (`!` lines); no event. */
  failedAllocations: number;
  /** mtrace: a pointer handed out again while still live (its free was not traced); a free is inserted. */
  implicitFrees: number;
  /** Blocks still live at the end of the trace. */
  liveAtEnd: number;
  /** Their payload bytes. */
  liveBytesAtEnd: number;
  /** The most blocks live at once. */
  peakLiveBlocks: number;
  /** The compressed input ended early (lenient mode; strict reading throws). */
  truncated?: boolean;
  /** The `.rep` header, for `.rep` traces. */
  header?: RepHeader;
}

/** A new, zeroed summary. */
export function emptySummary(): TraceSummary {
  return {
    format: undefined,
    lines: 0,
    events: 0,
    allocs: 0,
    frees: 0,
    reallocs: 0,
    skippedLines: 0,
    problems: [],
    unknownFrees: 0,
    unknownReallocs: 0,
    failedAllocations: 0,
    implicitFrees: 0,
    liveAtEnd: 0,
    liveBytesAtEnd: 0,
    peakLiveBlocks: 0,
  };
}

/** A parser for one format. */
export interface LineParser {
  /** Parses the line `bytes[start, end)`, numbered `line` (1-based). */
  line(bytes: Uint8Array, start: number, end: number, line: number): void;
  /** The input ended after `lines` lines; throws if the trace is incomplete. */
  end(lines: number): void;
  /**
   * A fast path, where the format has one: parses the whole lines of `bytes[start, stop)` (`stop` is
   * just after a newline) that it can, the first numbered `line`, and returns where it stopped (the
   * start of a line it left for {@link LineParser.line}, or `stop`); {@link LineParser.fastLines} says
   * how many lines it read.
   */
  fast?(bytes: Uint8Array, start: number, stop: number, line: number): number;
  /** Lines the last {@link LineParser.fast} call read. */
  fastLines?: number;
}

/** Where parsers put what they find. */
export interface ParseContext {
  /** Where events go. */
  readonly out: BatchBuilder;
  /** The blocks live now, by id (or by pointer, for mtrace). */
  readonly live: LiveTable;
  /** Counts and problems. */
  readonly summary: TraceSummary;
  /** Count problems found at the end instead of throwing. */
  readonly lenient: boolean;
  /** Records a problem that lenient reading goes past, as `file:line: expected …`. */
  readonly note: (line: number, expected: string) => void;
}

const SPACE = 32;
const TAB = 9;
const CR = 13;
const MINUS = 45;
const ZERO = 48;
const NINE = 57;

/** Position after the last token parsed (module state keeps the hot parsers free of objects). */
let pos = 0;

function skipSpace(bytes: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = bytes[i];
    if (c !== SPACE && c !== TAB && c !== CR) break;
    i++;
  }
  return i;
}

function isSpace(c: number): boolean {
  return c === SPACE || c === TAB || c === CR;
}

function tokenText(bytes: Uint8Array, i: number, end: number): string {
  let j = i;
  while (j < end && !isSpace(bytes[j])) j++;
  const text = latin1(bytes, i, Math.min(j, i + 40));
  return j - i > 40 ? `${text}…` : text;
}

/** Reads a non-negative decimal integer at `i` (after spaces); sets {@link pos}. */
function decimal(bytes: Uint8Array, i: number, end: number, what: string): number {
  i = skipSpace(bytes, i, end);
  if (i >= end) throw new LineProblem(`${what}: a non-negative integer (the line ends early)`);
  let value = 0;
  const first = i;
  while (i < end) {
    const c = bytes[i];
    if (c < ZERO || c > NINE) break;
    value = value * 10 + (c - ZERO);
    i++;
  }
  if (i === first || (i < end && !isSpace(bytes[i]))) {
    throw new LineProblem(`${what}: a non-negative integer, not "${tokenText(bytes, first, end)}"`);
  }
  if (value > Number.MAX_SAFE_INTEGER) {
    throw new LineProblem(`${what}: an integer no larger than ${Number.MAX_SAFE_INTEGER}`);
  }
  pos = i;
  return value;
}

function expectLineEnd(bytes: Uint8Array, i: number, end: number, after: string): void {
  i = skipSpace(bytes, i, end);
  if (i < end) throw new LineProblem(`the end of the line after ${after}, not "${tokenText(bytes, i, end)}"`);
}

function isBlank(bytes: Uint8Array, start: number, end: number): boolean {
  return skipSpace(bytes, start, end) >= end;
}

// ------------------------------------------------------------------------------------------ .rep

const A = 97;
const NEWLINE = 10;
/** Ids up to this go to the {@link IdSlotMap}; larger ones (allowed up to 2^53) to a hash map. */
const MAX_SMALL_ID = 0x7fffffff;
const F = 102;
const R = 114;
/** The {@link Op} of each byte that starts a `.rep` op line (`a`, `f`, `r`), -1 for any other. */
const REP_KIND = new Int8Array(256).fill(-1);
REP_KIND[A] = Op.Alloc;
REP_KIND[F] = Op.Free;
REP_KIND[R] = Op.Realloc;
const F_ID = '"f id": the id';
const A_ID = '"a id bytes": the id';
const R_ID = '"r id bytes": the id';
const A_SIZE = '"a id bytes": the size in bytes';
const R_SIZE = '"r id bytes": the size in bytes';

/** Parses a CS:APP malloc-lab `.rep` trace. */
export class RepParser implements LineParser {
  private headerValues: number[] = [];
  private inOps = false;
  private ops = 0;
  /** Slots of live ids below 2^31 (all of them in practice), and of larger ones. */
  private readonly slots = new IdSlotMap();
  private readonly bigSlots = new NumberMap();
  /** Lines the last {@link RepParser.fast} call read. */
  fastLines = 0;
  /** {@link RepParser.fast} has run its loop once (on a few lines). */
  private warm = false;
  /** The header, once read. */
  header: RepHeader | undefined;

  constructor(private readonly context: ParseContext) {}

  line(bytes: Uint8Array, start: number, end: number, line: number): void {
    start = skipSpace(bytes, start, end);
    if (start >= end) return;
    if (!this.inOps) {
      const first = bytes[start];
      const isOp =
        (first === A || first === F || first === R) && start + 1 < end && isSpace(bytes[start + 1]);
      if (this.headerValues.length < 3 || !isOp) {
        this.headerLine(bytes, start, end);
        return;
      }
      this.inOps = true;
    }
    this.opLine(bytes, start, end, line);
  }

  private headerLine(bytes: Uint8Array, start: number, end: number): void {
    const index = this.headerValues.length;
    const names = ["the suggested heap size", "the number of ids", "the number of ops"];
    if (index === 1 || index === 2) {
      // checked whole before it is kept, so that a lenient reader skipping it still lacks that line
      const value = decimal(bytes, start, end, `header line ${index + 1}, ${names[index]}`);
      expectLineEnd(bytes, pos, end, names[index]);
      this.headerValues.push(value);
    } else {
      // line 1 (heap size) and the lines after line 3 (weight) differ between editions: any number
      const text = latin1(bytes, start, end).trim();
      if (!/^\d+(\.\d+)?$/.test(text)) {
        throw new LineProblem(
          index === 0
            ? `header line 1, the suggested heap size: a number, not "${text.slice(0, 40)}"`
            : `an op ("a id bytes", "r id bytes" or "f id") or a header number, not "${text.slice(0, 40)}"`,
        );
      }
      this.headerValues.push(Number(text));
    }
    if (this.headerValues.length >= 3) {
      const [heapSize, ids, ops, weight] = this.headerValues;
      this.header = weight === undefined ? { heapSize, ids, ops } : { heapSize, ids, ops, weight };
      this.context.summary.header = this.header;
      // every live id is below the header's count: the tables of slots are made to size once
      this.slots.reserve(ids);
      this.context.live.reserve(ids);
    }
  }

  private slotOf(id: number): number {
    return id <= MAX_SMALL_ID ? this.slots.get(id) : this.bigSlots.get(id);
  }

  private opLine(bytes: Uint8Array, start: number, end: number, line: number): void {
    const context = this.context;
    const live = context.live;
    const op = bytes[start];
    if ((op !== A && op !== F && op !== R) || start + 1 >= end || !isSpace(bytes[start + 1])) {
      throw new LineProblem(
        `an op "a id bytes", "r id bytes" or "f id", not "${tokenText(bytes, start, end)}"`,
      );
    }
    const id = decimal(bytes, start + 1, end, op === F ? F_ID : op === A ? A_ID : R_ID);
    const ids = (this.header as RepHeader).ids;
    if (id >= ids) throw new LineProblem(`an id below ${ids} (the header's number of ids), not ${id}`);
    const summary = context.summary;
    if (op === F) {
      expectLineEnd(bytes, pos, end, "f id");
      const slot = this.slotOf(id);
      if (slot < 0)
        throw new LineProblem(`a live id to free: id ${id} is not live (freed twice, or never allocated)`);
      if (id <= MAX_SMALL_ID) this.slots.delete(id);
      else this.bigSlots.delete(id);
      live.release(slot);
      context.out.push(Op.Free, id, slot, 0, line);
      summary.frees++;
    } else {
      const size = decimal(bytes, pos, end, op === A ? A_SIZE : R_SIZE);
      expectLineEnd(bytes, pos, end, "the size");
      let slot = this.slotOf(id);
      if (op === A) {
        if (slot >= 0) throw new LineProblem(`an id that is not live to allocate: id ${id} is still live`);
        slot = live.takeUnnamed(size);
        if (id <= MAX_SMALL_ID) this.slots.set(id, slot);
        else this.bigSlots.set(id, slot);
        if (live.count > summary.peakLiveBlocks) summary.peakLiveBlocks = live.count;
        context.out.push(Op.Alloc, id, slot, size, line);
        summary.allocs++;
      } else {
        if (slot < 0) throw new LineProblem(`a live id to realloc: id ${id} is not live`);
        live.resize(slot, size);
        context.out.push(Op.Realloc, id, slot, size, line);
        summary.reallocs++;
      }
    }
    this.ops++;
    summary.events++;
  }

  /**
   * The fast path: whole lines `a ID SIZE`, `r ID SIZE`, `f ID` with single spaces (and an optional
   * CR), checked and written straight into the batch's columns. It stops at a full batch (the reader
   * starts the next and calls again) and at anything else — a blank line, tabs, an error — at that
   * line's start, for {@link RepParser.line} to read (and to report).
   */
  fast(bytes: Uint8Array, start: number, stop: number, line: number): number {
    this.fastLines = 0;
    if (!this.inOps) return start;
    // the first call reads a few lines only: V8 compiles the loop while it runs (on-stack
    // replacement), and code after the loop that has never run would deoptimize at its first exit
    const end = this.warm ? stop : Math.min(stop, start + 1024);
    this.warm = true;
    const context = this.context;
    const out = context.out;
    const live = context.live;
    const slots = this.slots;
    const summary = context.summary;
    const maxId = (this.header as RepHeader).ids;
    const capacity = out.capacity;
    const batch = out.current;
    const opCol = batch.op;
    const idCol = batch.id;
    const slotCol = batch.slot;
    const sizeCol = batch.size;
    const lineCol = batch.line;
    let peakBlocks = summary.peakLiveBlocks;
    let allocs = 0;
    let frees = 0;
    let done = start;
    let at = line;
    const first = batch.length;
    let n = first;
    // every exit of the loop is its condition or a break, so V8's optimized code meets no path it
    // has not seen run
    while (n < capacity && done < end) {
      let p = done;
      // a table read rather than three compares: a realloc, rare, is not a branch V8 may not have seen
      const kind = REP_KIND[bytes[p]];
      if (kind < 0 || bytes[p + 1] !== SPACE) break;
      p += 2;
      let d = bytes[p] - ZERO;
      if (d < 0 || d > 9) break;
      const idStart = p;
      let id = 0;
      do {
        id = id * 10 + d;
        d = bytes[++p] - ZERO;
      } while (d >= 0 && d <= 9);
      if (p - idStart > 9) break;
      let size = 0;
      if (kind !== Op.Free) {
        if (bytes[p] !== SPACE) break;
        d = bytes[++p] - ZERO;
        if (d < 0 || d > 9) break;
        const sizeStart = p;
        do {
          size = size * 10 + d;
          d = bytes[++p] - ZERO;
        } while (d >= 0 && d <= 9);
        if (p - sizeStart > 15) break;
      }
      if (bytes[p] === CR) p++;
      if (bytes[p] !== NEWLINE || id >= maxId) break;
      let slot = slots.get(id);
      // one check for every op (an alloc needs an id that is not live, a free or realloc a live one),
      // and a realloc shares the alloc's code: a branch of its own would be compiled before the first
      // realloc had run, and deoptimize there
      const isAlloc = kind === Op.Alloc;
      if (isAlloc === slot >= 0) break;
      if (kind === Op.Free) {
        slots.delete(id);
        live.release(slot);
        frees++;
      } else {
        if (isAlloc) {
          slot = live.takeUnnamed(0);
          slots.set(id, slot);
          if (live.count > peakBlocks) peakBlocks = live.count;
          allocs++;
        }
        live.resize(slot, size);
      }
      opCol[n] = kind;
      idCol[n] = id;
      slotCol[n] = slot;
      sizeCol[n] = size;
      lineCol[n] = at++; // (the time column stays NaN: batches are made so, and a .rep has no times)
      done = p + 1;
      n++;
    }
    batch.length = n;
    const events = n - first;
    this.fastLines = events;
    this.ops += events;
    out.events += events;
    summary.events += events;
    summary.allocs += allocs;
    summary.frees += frees;
    summary.reallocs += events - allocs - frees;
    summary.peakLiveBlocks = peakBlocks;
    return done;
  }

  end(lines: number): void {
    if (this.header === undefined) {
      throw new LineProblem(
        `a .rep header (heap size, number of ids, number of ops on lines 1–3); the file ends after ${lines} lines`,
      );
    }
    const summary = this.context.summary;
    if (this.ops !== this.header.ops && summary.skippedLines === 0) {
      const problem = `${this.header.ops} ops, as line 3 of the header says; the file holds ${this.ops} (truncated?)`;
      if (!this.context.lenient) throw new LineProblem(problem);
      this.context.note(Math.max(lines, 1), problem);
    }
  }
}

// ------------------------------------------------------------------------------------------ mtrace

const AT = 64;
const EQUALS = 61;
const PLUS = 43;
const LESS = 60;
const GREATER = 62;
const BANG = 33;
const LPAREN = 40;
const X = 120;

/** Reads a hexadecimal number (`0x…`, or `0` as glibc's `%#lx` prints zero); sets {@link pos}. -1 for `(nil)`. */
function hex(bytes: Uint8Array, i: number, end: number, what: string): number {
  i = skipSpace(bytes, i, end);
  if (i >= end) throw new LineProblem(`${what}: a hexadecimal number (the line ends early)`);
  const first = i;
  if (bytes[i] === LPAREN) {
    if (
      end - i >= 5 &&
      bytes[i + 1] === 110 &&
      bytes[i + 2] === 105 &&
      bytes[i + 3] === 108 &&
      bytes[i + 4] === 41
    ) {
      pos = i + 5;
      return -1;
    }
  }
  if (bytes[i] === ZERO && i + 1 < end && (bytes[i + 1] === X || bytes[i + 1] === 88)) i += 2;
  const digits = i;
  let value = 0;
  while (i < end) {
    const c = bytes[i];
    let d: number;
    if (c >= ZERO && c <= NINE) d = c - ZERO;
    else if (c >= 97 && c <= 102) d = c - 87;
    else if (c >= 65 && c <= 70) d = c - 55;
    else break;
    value = value * 16 + d;
    i++;
  }
  if (i === digits || (i < end && !isSpace(bytes[i]))) {
    throw new LineProblem(`${what}: a hexadecimal number like 0x1f40, not "${tokenText(bytes, first, end)}"`);
  }
  if (value > Number.MAX_SAFE_INTEGER) throw new LineProblem(`${what}: a number below 2^53`);
  pos = i;
  return value;
}

const MTRACE_OPS =
  "an mtrace line: '+ PTR SIZE', '- PTR', '< PTR' then '> PTR SIZE', '! …' or '= Start', each after an optional '@ caller'";

/**
 * Parses glibc `mtrace` output. Pointers are mapped to ids (each allocation gets the next id; a
 * realloc keeps its block's id); frees of pointers that were never allocated while tracing are
 * counted, not fatal.
 */
export class MtraceParser implements LineParser {
  private nextId = 0;
  /** Pointer and line of a `<` waiting for its `>`; -1 when none. */
  private pendingPtr = -1;
  private pendingLine = 0;

  constructor(private readonly context: ParseContext) {}

  line(bytes: Uint8Array, start: number, end: number, line: number): void {
    let i = skipSpace(bytes, start, end);
    if (i >= end) return;
    if (bytes[i] === EQUALS) {
      if (this.pendingPtr >= 0) this.unfinished();
      return;
    }
    if (bytes[i] === AT) {
      // the caller: "@ file:(sym+off)[0xaddr]" or "@ [0xaddr]"; one token
      i = skipSpace(bytes, i + 1, end);
      while (i < end && !isSpace(bytes[i])) i++;
      i = skipSpace(bytes, i, end);
      if (i >= end) throw new LineProblem(`${MTRACE_OPS}; the line has a caller and no op`);
    }
    const op = bytes[i];
    if (i + 1 < end && !isSpace(bytes[i + 1]))
      throw new LineProblem(`${MTRACE_OPS}, not "${tokenText(bytes, i, end)}"`);
    const context = this.context;
    const summary = context.summary;
    const live = context.live;
    if (this.pendingPtr >= 0 && op !== GREATER) this.unfinished();
    switch (op) {
      case PLUS: {
        const ptr = hex(bytes, i + 1, end, "'+ PTR SIZE': the pointer");
        const size = hex(bytes, pos, end, "'+ PTR SIZE': the size");
        if (size < 0) throw new LineProblem("'+ PTR SIZE': a size, not (nil)");
        expectLineEnd(bytes, pos, end, "'+ PTR SIZE'");
        if (ptr <= 0) {
          summary.failedAllocations++;
          return;
        }
        const old = live.get(ptr);
        if (old >= 0) {
          summary.implicitFrees++;
          this.free(ptr, old, line);
        }
        this.alloc(ptr, size, line);
        return;
      }
      case MINUS: {
        const ptr = hex(bytes, i + 1, end, "'- PTR': the pointer");
        expectLineEnd(bytes, pos, end, "'- PTR'");
        const slot = ptr > 0 ? live.get(ptr) : -1;
        if (slot < 0) {
          summary.unknownFrees++;
          return;
        }
        this.free(ptr, slot, line);
        return;
      }
      case LESS: {
        const ptr = hex(bytes, i + 1, end, "'< PTR': the pointer");
        expectLineEnd(bytes, pos, end, "'< PTR'");
        this.pendingPtr = Math.max(ptr, 0);
        this.pendingLine = line;
        return;
      }
      case GREATER: {
        if (this.pendingPtr < 0)
          throw new LineProblem("a '< PTR' line before '> PTR SIZE' (a realloc's two lines)");
        const ptr = hex(bytes, i + 1, end, "'> PTR SIZE': the pointer");
        const size = hex(bytes, pos, end, "'> PTR SIZE': the size");
        if (size < 0 || ptr <= 0) throw new LineProblem("'> PTR SIZE': a pointer and a size, not (nil)");
        expectLineEnd(bytes, pos, end, "'> PTR SIZE'");
        const from = this.pendingPtr;
        this.pendingPtr = -1;
        const slot = from > 0 ? live.get(from) : -1;
        if (slot < 0) {
          summary.unknownReallocs++;
          this.alloc(ptr, size, line);
          return;
        }
        if (ptr !== from) {
          const other = live.get(ptr);
          if (other >= 0) {
            summary.implicitFrees++;
            this.free(ptr, other, line);
          }
        }
        live.rekey(from, ptr, slot, size);
        context.out.push(Op.Realloc, live.ids[slot], slot, size, line);
        summary.reallocs++;
        summary.events++;
        return;
      }
      case BANG:
        // a failed realloc: the old block stays as it was
        summary.failedAllocations++;
        return;
      default:
        throw new LineProblem(`${MTRACE_OPS}, not "${tokenText(bytes, i, end)}"`);
    }
  }

  /** A `<` line had no `>` after it: an error, or in lenient mode a counted problem (the line at hand is still read). */
  private unfinished(): void {
    const line = this.pendingLine;
    this.pendingPtr = -1;
    const problem = `a '> PTR SIZE' line completing the realloc begun by '< PTR' on line ${line}`;
    if (!this.context.lenient) throw new LineProblem(problem);
    this.context.summary.skippedLines++;
    this.context.note(line, problem);
  }

  private alloc(ptr: number, size: number, line: number): void {
    const { live, summary, out } = this.context;
    const id = this.nextId++;
    const slot = live.add(ptr, id, size);
    if (live.size > summary.peakLiveBlocks) summary.peakLiveBlocks = live.size;
    out.push(Op.Alloc, id, slot, size, line);
    summary.allocs++;
    summary.events++;
  }

  private free(ptr: number, slot: number, line: number): void {
    const { live, summary, out } = this.context;
    const id = live.ids[slot];
    live.remove(ptr, slot);
    out.push(Op.Free, id, slot, 0, line);
    summary.frees++;
    summary.events++;
  }

  end(): void {
    if (this.pendingPtr >= 0) this.unfinished();
  }
}

// ------------------------------------------------------------------------------------------ JSON Lines

const decoder = new TextDecoder("utf-8", { fatal: false });

function nonNegativeInteger(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new LineProblem(
      value === undefined
        ? `${what}: a non-negative integer (the field is missing)`
        : `${what}: a non-negative integer, not ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Parses heapkit JSON Lines: one `{"op":"alloc"|"free"|"realloc","id":…,"size":…,"time"?:…}` a line. */
export class JsonlParser implements LineParser {
  constructor(private readonly context: ParseContext) {}

  line(bytes: Uint8Array, start: number, end: number, line: number): void {
    if (isBlank(bytes, start, end)) return;
    let value: unknown;
    try {
      value = JSON.parse(decoder.decode(bytes.subarray(start, end)));
    } catch {
      throw new LineProblem('a JSON object like {"op":"alloc","id":1,"size":24}; the line is not valid JSON');
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new LineProblem('a JSON object like {"op":"alloc","id":1,"size":24}');
    }
    const event = value as Record<string, unknown>;
    if (event.op === undefined && event.format === "heapkit-trace") return; // the optional header line
    const { live, summary, out } = this.context;
    const id = nonNegativeInteger(event.id, '"id"');
    const time = event.time === undefined ? Number.NaN : event.time;
    if (typeof time !== "number")
      throw new LineProblem(`"time": a number, not ${JSON.stringify(event.time)}`);
    let slot = live.get(id);
    switch (event.op) {
      case "alloc": {
        const size = nonNegativeInteger(event.size, '"size"');
        if (slot >= 0) throw new LineProblem(`an id that is not live to allocate: id ${id} is still live`);
        slot = live.add(id, id, size);
        if (live.size > summary.peakLiveBlocks) summary.peakLiveBlocks = live.size;
        out.push(Op.Alloc, id, slot, size, line, time);
        summary.allocs++;
        break;
      }
      case "realloc": {
        const size = nonNegativeInteger(event.size, '"size"');
        if (slot < 0) throw new LineProblem(`a live id to realloc: id ${id} is not live`);
        live.rekey(id, id, slot, size);
        out.push(Op.Realloc, id, slot, size, line, time);
        summary.reallocs++;
        break;
      }
      case "free":
        if (slot < 0)
          throw new LineProblem(`a live id to free: id ${id} is not live (freed twice, or never allocated)`);
        live.remove(id, slot);
        out.push(Op.Free, id, slot, 0, line, time);
        summary.frees++;
        break;
      default:
        throw new LineProblem(`"op": "alloc", "free" or "realloc", not ${JSON.stringify(event.op)}`);
    }
    summary.events++;
  }

  end(): void {}
}

/** Makes the parser for a format. */
export function parserFor(format: TraceFormat, context: ParseContext): LineParser {
  return format === "rep"
    ? new RepParser(context)
    : format === "mtrace"
      ? new MtraceParser(context)
      : new JsonlParser(context);
}

/** Guesses a format from the first non-blank line; undefined if it looks like none. */
export function sniffFormat(firstLine: string): TraceFormat | undefined {
  const line = firstLine.trim();
  if (line.startsWith("{")) return "jsonl";
  if (/^(=|@|[-+<>!]\s)/.test(line)) return "mtrace";
  if (/^\d+(\.\d+)?$/.test(line)) return "rep";
  return undefined;
}
