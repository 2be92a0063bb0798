/**
 * Streaming trace reading: bytes come in chunks from a file (gunzipped on the fly when they start
 * with the gzip magic), are split into lines, and parsed into {@link EventBatch}es. Memory stays flat
 * in the trace's length: one chunk, one batch, and the table of blocks live at the time.
 *
 * @module
 */
import { createReadStream, statSync } from "node:fs";
import { pipeline, Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { type TraceEvent, TraceFormatError } from "@heapkit/contract";
import { BATCH_EVENTS, BatchBuilder, type EventBatch, LiveTable, Op } from "./batch.js";
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

/** An in-memory trace: a name for messages and its bytes or text (gzipped or not). */
export interface TraceData {
  /** The name errors give (like a file name; its extension picks the format). */
  readonly name: string;
  /** The trace's content, or its chunks. */
  readonly data: string | Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
}

/** A trace to read: a file path, or a {@link TraceData}. */
export type TraceSource = string | TraceData;

/** Options of {@link readTrace}. */
export interface ReadTraceOptions {
  /** The format; by default from the name (`.rep`, `.mtrace`, `.jsonl`, before any `.gz`), else sniffed from the first line. */
  format?: TraceFormat;
  /** Skip and count malformed lines instead of throwing `TraceFormatError`. */
  lenient?: boolean;
  /** Events per batch (default 16384). */
  batchSize?: number;
}

/** The format a file name says, if it says one. */
export function formatFromName(name: string): TraceFormat | undefined {
  const base = name.toLowerCase().replace(/\.gz$/, "");
  if (base.endsWith(".rep")) return "rep";
  if (base.endsWith(".mtrace") || base.endsWith(".mtr")) return "mtrace";
  if (base.endsWith(".jsonl") || base.endsWith(".ndjson")) return "jsonl";
  return undefined;
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
const NEWLINE = 10;
/** Bytes read (and gunzipped) at a time. */
const CHUNK_BYTES = 1 << 18;

/**
 * A trace being read. Iterate it for {@link TraceEvent}s, or call {@link TraceReader.batches} for the
 * fast columnar form. {@link TraceReader.summary} fills in as reading goes and is complete at the end.
 * A reader reads its source once.
 */
export class TraceReader implements AsyncIterable<TraceEvent> {
  /** The source's name (the file path, or the {@link TraceData} name). */
  readonly name: string;
  /** What reading found: counts, problems skipped, blocks live at the end. */
  readonly summary: TraceSummary = emptySummary();
  /** Bytes of the source read so far (compressed bytes for a `.gz` file). */
  bytesRead = 0;
  /** The source's size in bytes where known (a file's size), else NaN. */
  readonly totalBytes: number;
  private started = false;

  constructor(
    private readonly source: TraceSource,
    private readonly options: ReadTraceOptions = {},
  ) {
    this.name = typeof source === "string" ? source : source.name;
    if (typeof source === "string") {
      try {
        this.totalBytes = statSync(source).size;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new Error(
          `cannot read the trace ${source}: ${code === "ENOENT" ? "no such file" : (error as Error).message}`,
        );
      }
    } else if (typeof source.data === "string") {
      this.totalBytes = Buffer.byteLength(source.data);
    } else if (source.data instanceof Uint8Array) {
      this.totalBytes = source.data.byteLength;
    } else {
      this.totalBytes = Number.NaN;
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
    const summary = this.summary;
    const out = new BatchBuilder(this.options.batchSize ?? BATCH_EVENTS);
    const live = new LiveTable();
    const context = { out, live, summary, lenient };
    let parser: LineParser | undefined;
    let line = 0;
    let carry: Buffer | null = null;

    const problem = (error: unknown, at: number): void => {
      if (!(error instanceof LineProblem)) throw error;
      if (!lenient) throw new TraceFormatError(this.name, at, `expected ${error.expected}`);
      summary.skippedLines++;
      if (summary.problems.length < MAX_PROBLEMS) {
        summary.problems.push(`${this.name}:${at}: expected ${error.expected}`);
      }
    };
    const parseLine = (bytes: Uint8Array, start: number, end: number) => {
      line++;
      if (parser === undefined) {
        const format =
          this.options.format ?? formatFromName(this.name) ?? this.sniff(bytes, start, end, line);
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
      for await (const chunk of this.chunks()) {
        let start = 0;
        const last = chunk.lastIndexOf(NEWLINE);
        if (last < 0) {
          carry = carry === null ? Buffer.from(chunk) : Buffer.concat([carry, chunk]);
          continue;
        }
        if (carry !== null) {
          const newline = chunk.indexOf(NEWLINE, 0);
          const joined: Buffer = Buffer.concat([carry, chunk.subarray(0, newline)]);
          carry = null;
          parseLine(joined, 0, joined.length);
          start = newline + 1;
        }
        const stop = last + 1;
        while (start < stop) {
          if (parser?.fast !== undefined) {
            start = parser.fast(chunk, start, stop, line + 1);
            line += parser.fastLines ?? 0;
            if (start >= stop) break;
          }
          const newline = chunk.indexOf(NEWLINE, start);
          parseLine(chunk, start, newline);
          start = newline + 1;
        }
        if (stop < chunk.length) carry = Buffer.from(chunk.subarray(stop));
        if (out.full.length > 0) {
          summary.lines = line;
          const ready = out.full.splice(0);
          for (const batch of ready) {
            yield batch;
            if (recycle) out.recycle(batch);
          }
        }
      }
    } catch (error) {
      if (error instanceof TraceFormatError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "Z_BUF_ERROR" || code === "Z_DATA_ERROR" || code === "ERR_STREAM_PREMATURE_CLOSE") {
        const why =
          code === "Z_DATA_ERROR"
            ? `a valid gzip stream (${(error as Error).message})`
            : "more gzip data: the compressed file is truncated";
        const at = line + 1;
        if (!lenient) throw new TraceFormatError(this.name, at, `expected ${why}`);
        summary.skippedLines++;
        if (summary.problems.length < MAX_PROBLEMS)
          summary.problems.push(`${this.name}:${at}: expected ${why}`);
        carry = null; // the partial last line is not trusted
        summary.truncated = true;
      } else {
        throw error;
      }
    }
    if (carry !== null && carry.length > 0) parseLine(carry, 0, carry.length);
    summary.lines = line;
    if (parser === undefined) {
      // no line said anything: an empty trace of a known format, or no trace at all
      const format = this.options.format ?? formatFromName(this.name);
      if (format !== undefined) {
        summary.format = format;
        parser = parserFor(format, context);
      } else if (!lenient) {
        throw new TraceFormatError(this.name, Math.max(line, 1), "expected a trace, the file has no events");
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
    const text = Buffer.from(bytes.buffer, bytes.byteOffset + start, Math.min(end - start, 200)).toString(
      "latin1",
    );
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

  private chunks(): AsyncIterable<Buffer> {
    const source = this.source;
    const counted = (stream: AsyncIterable<Buffer | string>) => {
      const reader = this;
      return (async function* () {
        for await (const chunk of stream) {
          const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
          reader.bytesRead += bytes.length;
          yield bytes;
        }
      })();
    };
    const raw: AsyncIterable<Buffer> =
      typeof source === "string"
        ? counted(createReadStream(source, { highWaterMark: CHUNK_BYTES }))
        : counted(toStream(source.data));
    return gunzipIfNeeded(raw);
  }
}

function toStream(data: TraceData["data"]): Readable {
  if (typeof data === "string") return Readable.from([Buffer.from(data)]);
  if (data instanceof Uint8Array)
    return Readable.from([Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
  return Readable.from(data as AsyncIterable<Uint8Array>);
}

/** Passes chunks through, or through gunzip when the first bytes are the gzip magic. */
async function* gunzipIfNeeded(raw: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const iterator = raw[Symbol.asyncIterator]();
  let first = await iterator.next();
  while (!first.done && first.value.length === 0) first = await iterator.next();
  if (first.done) return;
  const head = first.value;
  const rest = (async function* () {
    yield head;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  })();
  if (!(head.length >= 2 && head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1)) {
    yield* rest;
    return;
  }
  const gunzip = pipeline(Readable.from(rest), createGunzip({ chunkSize: CHUNK_BYTES }), () => {});
  for await (const chunk of gunzip) yield chunk as Buffer;
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
 * Opens a trace for streaming: a file path (`.gz` read transparently) or in-memory data. The format
 * comes from `options.format`, else the name's extension, else the first line. Malformed input throws
 * `TraceFormatError` naming the file, the line and what was expected, unless `options.lenient`.
 *
 * @example
 * ```ts
 * for await (const event of readTrace("gcc-as.rep.gz")) console.log(event.op, event.id);
 * ```
 */
export function readTrace(source: TraceSource, options?: ReadTraceOptions): TraceReader {
  return new TraceReader(source, options);
}
