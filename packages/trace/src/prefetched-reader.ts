/**
 * A trace file prefetched by `prefetchTrace` (read and inflated on libuv's thread pool), parsed on the
 * replay's thread as `readTrace(path)` would parse the file: the same events, summary and errors.
 *
 * @module
 */
import type { EventBatch } from "./batch.js";
import { nodeFiles, readTraceWithFiles } from "./node-files.js";
import { emptySummary, type TraceFormat, type TraceSummary } from "./parsers.js";
import type { PrefetchedTrace } from "./read-thread.js";
import { type BatchSource, type ReadTraceOptions, TraceReader } from "./reader.js";

/** The reader of a prefetched trace file. */
export class PrefetchedTraceReader implements BatchSource {
  private inner: TraceReader | undefined;
  private readonly before = emptySummary();

  constructor(
    /** The file. */
    readonly name: string,
    private readonly prefetched: PrefetchedTrace,
    private readonly options: ReadTraceOptions = {},
  ) {}

  /** What reading found so far. */
  get summary(): TraceSummary {
    return this.inner?.summary ?? this.before;
  }

  /** Bytes of text parsed so far. */
  get bytesRead(): number {
    return this.inner?.bytesRead ?? 0;
  }

  /** Bytes of text in all (NaN until the prefetch is done). */
  get totalBytes(): number {
    return this.inner?.totalBytes ?? Number.NaN;
  }

  /** The format, once known. */
  get format(): TraceFormat | undefined {
    return this.inner?.format;
  }

  /** The events in batches, once the prefetch is done. */
  async *batches(options?: { recycle?: boolean }): AsyncGenerator<EventBatch, void, undefined> {
    if (this.inner !== undefined)
      throw new Error(`the trace ${this.name} is being read already: make a new reader`);
    // undefined: the file is too large to prefetch, or could not be read (reading it reports why)
    const bytes = await this.prefetched.bytes;
    this.inner =
      bytes === undefined
        ? readTraceWithFiles(this.name, this.options)
        : new TraceReader({ name: this.name, data: bytes }, this.options, nodeFiles);
    yield* this.inner.batches(options);
  }
}
