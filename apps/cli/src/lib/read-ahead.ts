/**
 * Where `heapkit replay` reads its trace (`--reader`):
 *
 * - `prefetch`: the file is read, and inflated if gzipped, on libuv's thread pool from the moment the
 *   executable starts, while node loads the rest of the CLI and the heap is made; the replay's thread
 *   parses the text. No thread to start and no more CPU than reading on one thread.
 * - `thread`: a reader thread beside the replay reads, inflates and parses, and hands the replay its
 *   batches through shared memory. It takes gunzip and parsing off the replay's thread, but costs a
 *   thread's start (an empty worker's first message came 72–77 ms after `new Worker` on the 2-core VM
 *   measured) and wins only where a core is free.
 * - `main`: everything on the replay's thread, once the replay starts (as before these options).
 * - `auto` (the default): a thread for a large trace when a core is free beyond V8's own threads, else
 *   `main`; see {@link readerFor}.
 *
 * The executable starts the prefetch or the thread before it loads anything else
 * ({@link startReaderEarly}); the replay takes it ({@link takeEarlyReader}).
 *
 * @module
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import type { PrefetchedTrace, ReadWorker } from "@heapkit/trace/read-thread";
import { UsageError } from "../io.js";
import { isGzip } from "./files.js";

/**
 * Whether a reader thread can run: its script is compiled JavaScript beside `@heapkit/trace`'s, so not when
 * the CLI runs from its TypeScript sources (as `canReadInWorker` of `@heapkit/trace/read-thread`, which is
 * loaded only when a trace is read ahead).
 */
const canReadInWorker = import.meta.url.endsWith(".js");

/** Traces of less text than this are never read in a thread (its start-up costs more than reading them). */
export const READ_THREAD_MIN_BYTES = 1 << 20;

/** `--reader`. */
export type ReaderChoice = "auto" | "thread" | "prefetch" | "main";

/** Where a trace is read, once `auto` is decided. */
export type ReaderMode = Exclude<ReaderChoice, "auto">;

/** The `--reader` values. */
export const READER_CHOICES: readonly ReaderChoice[] = ["auto", "thread", "prefetch", "main"];

/** Parses `--reader`. */
export function parseReader(value: string | undefined): ReaderChoice {
  if (value === undefined) return "auto";
  if ((READER_CHOICES as readonly string[]).includes(value)) return value as ReaderChoice;
  throw new UsageError(`--reader expects ${READER_CHOICES.join(", ")}, got "${value}"`);
}

/** `auto`'s decision for each trace, made once (the load average may move between two questions). */
const decided = new Map<string, ReaderMode>();

/**
 * Where `trace` is read under `choice`. `auto` reads in a thread a trace of at least
 * {@link READ_THREAD_MIN_BYTES} of text when the machine has a core to spare beyond the replay's and
 * V8's own threads (its compiler and GC took about 0.23 s of CPU beside a python-json-10k replay): four or more
 * cores, and a load average over the last minute below their number less two; otherwise on the
 * replay's thread. On the 2-core VM measured, the thread lost even with the machine idle (see the
 * README), so there `auto` is `main`. `thread` falls back to `prefetch` where a reader thread cannot
 * run (the CLI run from its TypeScript sources).
 */
export function readerFor(trace: string, choice: ReaderChoice): ReaderMode {
  if (choice === "main" || choice === "prefetch") return choice;
  if (choice === "thread") return canReadInWorker ? "thread" : "prefetch";
  let mode = decided.get(trace);
  if (mode === undefined) {
    const cores = availableParallelism();
    const spare = cores >= 4 && loadavg()[0] < cores - 2;
    mode = canReadInWorker && spare && textBytes(trace) >= READ_THREAD_MIN_BYTES ? "thread" : "main";
    decided.set(trace, mode);
  }
  return mode;
}

/**
 * About how many bytes of text a trace file holds: its size, or for a gzip file the larger of that
 * and the size its trailer gives (modulo 2^32); 0 for anything that cannot be read (reading on the
 * replay's thread reports it).
 */
export function textBytes(trace: string): number {
  let fd: number | undefined;
  try {
    const stats = statSync(trace);
    if (!stats.isFile()) return 0;
    if (stats.size < 18) return stats.size;
    fd = openSync(trace, "r");
    const head = Buffer.alloc(4);
    readSync(fd, head, 0, 2, 0);
    if (!isGzip(head)) return stats.size;
    readSync(fd, head, 0, 4, stats.size - 4);
    return Math.max(stats.size, head.readUInt32LE(0));
  } catch {
    return 0;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** What was started ahead of the replay. */
export interface EarlyReader {
  /** The trace it reads. */
  trace: string;
  /** A reader thread, reading the trace with `lenient` as given. */
  thread?: ReadWorker;
  /** The file, being read and inflated. */
  prefetched?: PrefetchedTrace;
}

let early: EarlyReader | undefined;

/**
 * Options of `heapkit replay` that take a value (the trace is the one word that is neither an option nor
 * its value): commands/replay.ts's, listed again since this runs before commander loads (a test holds
 * the two lists alike).
 */
export const VALUE_OPTIONS: ReadonlySet<string> = new Set(["-s", "--strategy", "--max-heap", "--reader"]);

/**
 * Starts reading the trace of `heapkit replay ARGS` before the command is parsed (see the module's
 * comment); {@link takeEarlyReader} hands it to the replay. A wrong guess costs nothing but time: the
 * replay checks that what was started reads its trace with its options and reads it itself if not,
 * and neither a thread nor a prefetch left unused keeps the process alive.
 */
export async function startReaderEarly(argv: readonly string[]): Promise<void> {
  const words: string[] = [];
  let choice: string | undefined;
  let lenient = false;
  for (let i = 1; i < argv.length; i++) {
    const word = argv[i];
    if (word === "--") break;
    if (VALUE_OPTIONS.has(word)) {
      if (word === "--reader") choice = argv[i + 1];
      i++;
    } else if (word.startsWith("--reader=")) choice = word.slice("--reader=".length);
    else if (word === "--lenient") lenient = true;
    else if (!word.startsWith("-")) words.push(word);
  }
  if (words.length !== 1 || !(READER_CHOICES as readonly string[]).includes(choice ?? "auto")) return;
  const trace = words[0];
  const mode = readerFor(trace, (choice ?? "auto") as ReaderChoice);
  if (mode === "main") return;
  const { prefetchTrace, startReadWorker } = await import("@heapkit/trace/read-thread");
  if (mode === "thread") early = { trace, thread: startReadWorker({ path: trace, options: { lenient } }) };
  else early = { trace, prefetched: prefetchTrace(trace) };
}

/** What was started early for `trace`, once (undefined if nothing, or something for another trace, which is stopped). */
export function takeEarlyReader(trace: string): EarlyReader | undefined {
  const taken = early;
  early = undefined;
  if (taken !== undefined && taken.trace !== trace) {
    taken.thread?.stop();
    return undefined;
  }
  return taken;
}
