/**
 * Streaming trace reading: bytes come in chunks (gunzipped on the fly when they start with the gzip
 * magic), are split into lines, and parsed into {@link EventBatch}es. Memory stays flat in the trace's
 * length: one chunk, one batch, one line of at most `maxLineBytes`, and the table of blocks live at the
 * time. This module imports no Node-only module: named files come through a {@link TraceFiles} that
 * `@heapkit/trace/node` supplies.
 *
 * @module
 */
import { InvalidSizeError, type TraceEvent, TraceFormatError } from "@heapkit/contract";
import { BATCH_EVENTS, BatchBuilder, type EventBatch, LiveTable, Op } from "./batch.js";
import {
  chunksOf,
  GzipProblem,
  gunzipIfNeeded,
  latin1,
  type TraceData,
  type TraceFiles,
  webGunzip,
  wholeBytes,
} from "./bytes.js";
import {
  emptySummary,
  type LineParser,
  LineProblem,
  MAX_PROBLEMS,
  parserFor,
  sniffFormat,
  type TraceFormat,
  type TraceSummary,
} from "./parsers.js";

export type { TraceData } from "./bytes.js";

/** A trace to read: a file path (with `@heapkit/trace/node`), or a {@link TraceData}. */
export type TraceSource = string | TraceData;

/** The longest line a reader takes by default, in bytes (a real trace's lines are under 200). */
export const MAX_LINE_BYTES = 8192;

/** Options of {@link readTrace}. */
export interface ReadTraceOptions {
  /** The format; by default from the name (`.rep`, `.mtrace`, `.jsonl`, before any `.gz`), else sniffed from the first line. */
  format?: TraceFormat;
  /** Skip and count malformed lines instead of throwing `TraceFormatError`. */
  lenient?: boolean;
  /** Events per batch (default 16384). */
  batchSize?: number;
  /**
   * The longest line taken, in bytes without its newline (default {@link MAX_LINE_BYTES}). A longer
   * line is a `TraceFormatError` at its line (lenient reading skips it), so input without newlines —
   * a gzip bomb of zeros — costs bounded memory.
   */
  maxLineBytes?: number;
}

/**
 * A reader as the replay sees it: a name, what reading found so far, how far it got, and the events
 * in batches. {@link TraceReader} is one; `@heapkit/trace/node` has one that reads in a worker thread.
 */
export interface BatchSource {
  /** The source's name (a file path, or a {@link TraceData} name). */
  readonly name: string;
  /** What reading found; complete once the batches are done. */
  readonly summary: TraceSummary;
  /** Bytes of the source read so far. */
  readonly bytesRead: number;
  /** The source's size in bytes where known, else NaN. */
  readonly totalBytes: number;
  /** The format, once known. */
  readonly format: TraceFormat | undefined;
  /** The events in batches; with `recycle`, a batch may be refilled once the next is asked for. */
  batches(options?: { recycle?: boolean }): AsyncIterable<EventBatch>;
}

/**
 * How far reading has got, from 0 to 1: for a `.rep`, the events read over the ops its header
 * announces; otherwise the bytes of the source read over its size (NaN if unknown). A gzipped file may
 * be read (and inflated) whole before its first event, which its bytes alone would call finished.
 */
export function fractionRead(source: BatchSource, eventsRead: number): number {
  const ops = source.summary.header?.ops;
  return ops !== undefined && ops > 0 ? Math.min(1, eventsRead / ops) : source.bytesRead / source.totalBytes;
}

/** The format a file name says, if it says one. */
export function formatFromName(name: string): TraceFormat | undefined {
  const base = name.toLowerCase().replace(/\.gz$/, "");
  if (base.endsWith(".rep")) return "rep";
  if (base.endsWith(".mtrace") || base.endsWith(".mtr")) return "mtrace";
  if (base.endsWith(".jsonl") || base.endsWith(".ndjson")) return "jsonl";
  return undefined;
}

const NEWLINE = 10;
/** Bytes handed to the line splitter at a time, at most (a large in-memory input is cut into views). */
const CHUNK_BYTES = 1 << 18;

/** Reading without file access: a path is refused with a message saying where file reading lives. */
const inMemoryOnly: TraceFiles = {
  open(path) {
    throw new Error(
      `cannot read the trace ${path}: file paths are read through "@heapkit/trace/node"; here, pass { name, data }`,
    );
  },
  gunzip: webGunzip,
};

/**
 * A trace being read. Iterate it for {@link TraceEvent}s, or call {@link TraceReader.batches} for the
 * fast columnar form. {@link TraceReader.summary} fills in as reading goes and is complete at the end.
 * A reader reads its source once.
 */
export class TraceReader implements AsyncIterable<TraceEvent>, BatchSource {
  /** The source's name (the file path, or the {@link TraceData} name). */
  readonly name: string;
  /** What reading found: counts, problems skipped, blocks live at the end. */
  readonly summary: TraceSummary = emptySummary();
  /** Bytes of the source read so far (compressed bytes for gzipped input). */
  bytesRead = 0;
  /** The source's size in bytes where known (a file's size, in-memory data), else NaN. */
  readonly totalBytes: number;
  private started = false;
  private readonly raw: AsyncIterable<Uint8Array>;

  /**
   * Opens `source`; `files` says how to open a path and gunzip (by default: no paths, gunzip through
   * `DecompressionStream`).
   */
  constructor(
    source: TraceSource,
    private readonly options: ReadTraceOptions = {},
    private readonly files: TraceFiles = inMemoryOnly,
  ) {
    const maxLine = options.maxLineBytes;
    if (maxLine !== undefined && !(Number.isSafeInteger(maxLine) && maxLine > 0)) {
      throw new InvalidSizeError(
        "readTrace",
        "maxLineBytes",
        maxLine,
        Number.MAX_SAFE_INTEGER,
        "expected a positive integer",
      );
    }
    if (typeof source === "string") {
      this.name = source;
      const file = files.open(source);
      this.totalBytes = file.totalBytes;
      this.raw = file.chunks;
    } else {
      this.name = source.name;
      const whole = wholeBytes(source.data);
      this.totalBytes = whole === undefined ? Number.NaN : whole.length;
      this.raw = chunksOf(whole ?? source.data);
    }
  }

  /** The format, once known (after the first chunk). */
  get format(): TraceFormat | undefined {
    return this.summary.format;
  }

  /**
   * The events in batches. Each batch is a fresh object that the caller may keep — unless
   * `recycle` is set: then a batch is filled again once the caller asks for the next one (what the
   * replay does; it saves allocating and collecting the columns).
   */
  async *batches(options: { recycle?: boolean } = {}): AsyncGenerator<EventBatch, void, undefined> {
    if (this.started) throw new Error(`the trace ${this.name} is being read already: make a new reader`);
    this.started = true;
    const recycle = options.recycle === true;
    const { lenient = false } = this.options;
    const maxLine = this.options.maxLineBytes ?? MAX_LINE_BYTES;
    const name = this.name;
    const summary = this.summary;
    const out = new BatchBuilder(this.options.batchSize ?? BATCH_EVENTS);
    const live = new LiveTable();
    const note = (at: number, expected: string): void => {
      if (summary.problems.length < MAX_PROBLEMS)
        summary.problems.push(`${name}:${at}: expected ${expected}`);
    };
    const context = { out, live, summary, lenient, note };
    let parser: LineParser | undefined;
    let line = 0;
    /** The start of a line that did not end in its chunk (at most maxLine bytes). */
    let carry = new Uint8Array(Math.min(maxLine, 4096));
    let carried = 0;
    /** A line longer than the limit is being skipped (lenient) up to its newline. */
    let skipping = false;

    const problem = (error: unknown, at: number): void => {
      if (!(error instanceof LineProblem)) throw error;
      if (!lenient) throw new TraceFormatError(name, at, `expected ${error.expected}`);
      summary.skippedLines++;
      note(at, error.expected);
    };
    const tooLong = (): void => {
      const at = line + 1;
      const expected = `a line of at most ${maxLine} bytes (the maxLineBytes option); this one is longer`;
      if (!lenient) throw new TraceFormatError(name, at, `expected ${expected}`);
      summary.skippedLines++;
      note(at, expected);
      carried = 0;
      skipping = true;
    };
    const carryOn = (bytes: Uint8Array, start: number, end: number): void => {
      const length = carried + end - start;
      if (length > maxLine) {
        tooLong();
        return;
      }
      if (length > carry.length) {
        const larger = new Uint8Array(Math.min(maxLine, Math.max(length, carry.length * 2)));
        larger.set(carry.subarray(0, carried));
        carry = larger;
      }
      carry.set(bytes.subarray(start, end), carried);
      carried = length;
    };
    const parseLine = (bytes: Uint8Array, start: number, end: number) => {
      line++;
      if (parser === undefined) {
        const format = this.options.format ?? formatFromName(name) ?? this.sniff(bytes, start, end, line);
        if (format === undefined) return; // a blank first line
        summary.format = format;
        parser = parserFor(format, context);
      }
      try {
        parser.line(bytes, start, end, line);
      } catch (error) {
        problem(error, line);
      }
    };

    try {
      for await (const whole of this.chunks()) {
        for (let offset = 0; offset < whole.length; offset += CHUNK_BYTES) {
          const chunk = whole.length > CHUNK_BYTES ? whole.subarray(offset, offset + CHUNK_BYTES) : whole;
          let start = 0;
          if (skipping || carried > 0) {
            const newline = chunk.indexOf(NEWLINE);
            if (newline < 0) {
              if (!skipping) carryOn(chunk, 0, chunk.length);
              continue;
            }
            start = newline + 1;
            if (skipping) {
              skipping = false;
              line++;
            } else {
              carryOn(chunk, 0, newline);
              if (skipping) {
                skipping = false;
                line++;
              } else {
                const length = carried;
                carried = 0;
                parseLine(carry, 0, length);
              }
            }
          }
          const last = chunk.lastIndexOf(NEWLINE);
          const stop = last + 1;
          while (start < stop) {
            if (parser?.fast !== undefined) {
              start = parser.fast(chunk, start, stop, line + 1);
              line += parser.fastLines ?? 0;
              // a batch is never left full: the line parsers write into it without looking
              if (out.current.length === out.capacity) out.next();
              if (start >= stop) break;
              // it stopped at a full batch or after its first few lines: on with it
              if (parser.fastLines !== 0) continue;
            }
            const newline = chunk.indexOf(NEWLINE, start);
            if (newline - start > maxLine) {
              tooLong();
              skipping = false;
              line++;
            } else {
              parseLine(chunk, start, newline);
            }
            start = newline + 1;
          }
          if (start < chunk.length) carryOn(chunk, start, chunk.length);
          if (out.full.length > 0) {
            summary.lines = line;
            const ready = out.full.splice(0);
            for (const batch of ready) {
              yield batch;
              if (recycle) out.recycle(batch);
            }
          }
        }
      }
    } catch (error) {
      if (!(error instanceof GzipProblem)) throw error;
      const at = line + 1;
      const expected = error.truncated
        ? "more gzip data: the compressed file is truncated"
        : `a valid gzip stream (${error.message})`;
      if (!lenient) throw new TraceFormatError(name, at, `expected ${expected}`);
      summary.skippedLines++;
      note(at, expected);
      carried = 0; // the partial last line is not trusted
      skipping = false;
      summary.truncated = true;
    }
    if (skipping) line++;
    else if (carried > 0) parseLine(carry, 0, carried);
    summary.lines = line;
    if (parser === undefined) {
      // no line said anything: an empty trace of a known format, or no trace at all
      const format = this.options.format ?? formatFromName(name);
      if (format !== undefined) {
        summary.format = format;
        parser = parserFor(format, context);
      } else if (!lenient) {
        throw new TraceFormatError(name, Math.max(line, 1), "expected a trace, the file has no events");
      }
    }
    if (parser !== undefined) {
      try {
        parser.end(line);
      } catch (error) {
        problem(error, Math.max(line, 1));
      }
    }
    out.flush();
    summary.liveAtEnd = live.size;
    summary.liveBytesAtEnd = live.liveBytes;
    for (const batch of out.full.splice(0)) yield batch;
  }

  /** The events one by one (slower than {@link TraceReader.batches}; for tools and tests). */
  async *[Symbol.asyncIterator](): AsyncGenerator<TraceEvent, void, undefined> {
    for await (const batch of this.batches()) {
      for (let i = 0; i < batch.length; i++) yield eventAt(batch, i);
    }
  }

  private sniff(bytes: Uint8Array, start: number, end: number, line: number): TraceFormat | undefined {
    const text = latin1(bytes, start, Math.min(end, start + 200));
    if (text.trim() === "") return undefined;
    const format = sniffFormat(text);
    if (format === undefined) {
      throw new TraceFormatError(
        this.name,
        line,
        "expected a trace: a .rep header number, an mtrace line ('= Start', '@ …', '+ 0x…') or a JSON object",
      );
    }
    return format;
  }

  private chunks(): AsyncIterable<Uint8Array> {
    const reader = this;
    const raw = this.raw;
    const counted = (async function* () {
      for await (const chunk of raw) {
        reader.bytesRead += chunk.length;
        yield chunk;
      }
    })();
    return gunzipIfNeeded(counted, this.files.gunzip);
  }
}

/** The event at row `i` of a batch, as an object. */
export function eventAt(batch: EventBatch, i: number): TraceEvent {
  const id = batch.id[i];
  const time = batch.time[i];
  const op = batch.op[i];
  const hasTime = !Number.isNaN(time);
  if (op === Op.Free) return hasTime ? { op: "free", id, time } : { op: "free", id };
  const kind = op === Op.Alloc ? "alloc" : "realloc";
  const size = batch.size[i];
  return hasTime ? { op: kind, id, size, time } : { op: kind, id, size };
}

/**
 * Opens a trace for streaming: in-memory text or bytes, chunks, or a `ReadableStream` (gzipped input is
 * gunzipped through `DecompressionStream`). A file path needs the Node entry, `@heapkit/trace/node`.
 * The format comes from `options.format`, else the name's extension, else the first line. Malformed
 * input throws `TraceFormatError` naming the source, the line and what was expected, unless
 * `options.lenient`.
 *
 * @example
 * ```ts
 * const response = await fetch("gcc-as.rep.gz");
 * for await (const event of readTrace({ name: "gcc-as.rep.gz", data: response.body! })) console.log(event.op);
 * ```
 */
export function readTrace(source: TraceSource, options?: ReadTraceOptions): TraceReader {
  return new TraceReader(source, options);
}
