/**
 * Streaming trace writers for the three formats; a name ending in `.gz` is gzipped on the way out.
 * Memory stays flat in the trace's length: text is written in 64 KiB pieces, with back-pressure,
 * and a `.rep` body goes to a temporary file until its header (the counts of ids and ops) is known.
 *
 * @module
 */
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { unlink } from "node:fs/promises";
import type { Writable } from "node:stream";
import { finished, pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import type { TraceEvent } from "@heapkit/contract";
import type { TraceFormat } from "./parsers.js";
import { formatFromName } from "./reader.js";

/** Options of {@link createTraceWriter} and {@link writeTrace}. */
export interface WriteTraceOptions {
  /** The format; by default from the file name (`.rep`, `.mtrace`, `.jsonl`, before any `.gz`). */
  format?: TraceFormat;
}

const FLUSH_CHARS = 1 << 16;

/** A file being written in pieces, gzipped if its name ends in `.gz`. */
class Sink {
  private readonly stream: Writable;
  private readonly done: Promise<void>;
  private pending = "";

  constructor(file: string) {
    const fileStream = createWriteStream(file);
    if (file.toLowerCase().endsWith(".gz")) {
      const gzip = createGzip();
      this.stream = gzip;
      this.done = pipeline(gzip, fileStream);
    } else {
      this.stream = fileStream;
      this.done = finished(fileStream);
    }
    this.done.catch(() => {}); // reported by close()
  }

  write(text: string): Promise<void> | undefined {
    this.pending += text;
    return this.pending.length >= FLUSH_CHARS ? this.flush() : undefined;
  }

  async flush(): Promise<void> {
    if (this.pending === "") return;
    const text = this.pending;
    this.pending = "";
    await this.raw(text);
  }

  async raw(data: string | Uint8Array): Promise<void> {
    if (!this.stream.write(data)) await Promise.race([once(this.stream, "drain"), this.done]);
  }

  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await this.done;
  }
}

function hex(value: number): string {
  return value === 0 ? "0" : `0x${value.toString(16)}`;
}

/** The fake address the mtrace writer gives a block id (distinct for distinct ids, 16-byte aligned). */
function pointerOf(id: number): number {
  return 0x10000 + id * 16;
}

/**
 * Writes a trace event by event. Make one with {@link createTraceWriter}; `await` what
 * {@link TraceWriter.write} returns (it returns a promise only when it had to flush), and call
 * {@link TraceWriter.close} at the end.
 */
export class TraceWriter {
  /** The format written. */
  readonly format: TraceFormat;
  /** Events written so far. */
  events = 0;
  private readonly sink: Sink;
  private readonly bodyFile: string | undefined;
  private readonly liveSizes = new Map<number, number>();
  private liveBytes = 0;
  private peakLiveBytes = 0;
  private ids = 0;

  constructor(
    /** The file written. */
    readonly file: string,
    options: WriteTraceOptions = {},
  ) {
    const format = options.format ?? formatFromName(file);
    if (format === undefined) {
      throw new RangeError(
        `cannot tell the trace format from "${file}": name it .rep, .mtrace or .jsonl (optionally .gz), or pass a format`,
      );
    }
    this.format = format;
    if (format === "rep") {
      this.bodyFile = `${file}.${process.pid}.body.tmp`;
      this.sink = new Sink(this.bodyFile);
    } else {
      this.bodyFile = undefined;
      this.sink = new Sink(file);
      if (format === "mtrace") this.sink.write("= Start\n");
      if (format === "jsonl") this.sink.write('{"format":"heapkit-trace","version":1}\n');
    }
  }

  /** Writes one event. Returns a promise to await when the writer had to flush, else undefined. */
  write(event: TraceEvent): Promise<void> | undefined {
    this.events++;
    if (event.id >= this.ids) this.ids = event.id + 1;
    if (this.format === "rep") this.track(event);
    switch (this.format) {
      case "rep":
        return this.sink.write(
          event.op === "free" ? `f ${event.id}\n` : `${event.op[0]} ${event.id} ${event.size}\n`,
        );
      case "mtrace": {
        const ptr = hex(pointerOf(event.id));
        if (event.op === "alloc") return this.sink.write(`+ ${ptr} ${hex(event.size)}\n`);
        if (event.op === "free") return this.sink.write(`- ${ptr}\n`);
        return this.sink.write(`< ${ptr}\n> ${ptr} ${hex(event.size)}\n`);
      }
      default: {
        const time = event.time === undefined || Number.isNaN(event.time) ? "" : `,"time":${event.time}`;
        return this.sink.write(
          event.op === "free"
            ? `{"op":"free","id":${event.id}${time}}\n`
            : `{"op":"${event.op}","id":${event.id},"size":${event.size}${time}}\n`,
        );
      }
    }
  }

  private track(event: TraceEvent): void {
    const old = this.liveSizes.get(event.id) ?? 0;
    if (event.op === "free") {
      this.liveSizes.delete(event.id);
      this.liveBytes -= old;
    } else {
      this.liveSizes.set(event.id, event.size);
      this.liveBytes += event.size - old;
      if (this.liveBytes > this.peakLiveBytes) this.peakLiveBytes = this.liveBytes;
    }
  }

  /** Finishes the file (for `.rep`: writes the header, then the body). */
  async close(): Promise<void> {
    await this.sink.close();
    if (this.bodyFile === undefined) return;
    const out = new Sink(this.file);
    try {
      // line 1: the peak live bytes, as the heapkit traces do; then ids, ops, weight
      await out.raw(`${this.peakLiveBytes}\n${this.ids}\n${this.events}\n1\n`);
      for await (const chunk of createReadStream(this.bodyFile, { highWaterMark: 1 << 18 })) {
        await out.raw(chunk as Buffer);
      }
      await out.close();
    } finally {
      await unlink(this.bodyFile).catch(() => {});
    }
  }
}

/** Opens a streaming writer for `file`; the format comes from the name unless given. */
export function createTraceWriter(file: string, options?: WriteTraceOptions): TraceWriter {
  return new TraceWriter(file, options);
}

/**
 * Writes events (an array, a generator, or a {@link TraceReader}) to `file` in the format its name
 * says (or `options.format`), gzipped if it ends in `.gz`. Returns the number of events written.
 *
 * @example
 * ```ts
 * await writeTrace(readTrace("program.mtrace.gz"), "program.rep"); // convert mtrace to .rep
 * ```
 */
export async function writeTrace(
  events: Iterable<TraceEvent> | AsyncIterable<TraceEvent>,
  file: string,
  options?: WriteTraceOptions,
): Promise<number> {
  const writer = createTraceWriter(file, options);
  for await (const event of events) {
    const flushing = writer.write(event);
    if (flushing !== undefined) await flushing;
  }
  await writer.close();
  return writer.events;
}
