/**
 * The state behind the playground and the heap pictures: a real heap of a real strategy (from
 * `@heapkit/heap` and `@heapkit/strategies`, bundled from source), a log, and a trace cursor.
 * No Vue in here: the components re-read `blocks()` and `stats()` after every operation.
 */
import {
  type BlockInfo,
  HeapError,
  type HeapStats,
  InvalidSizeError,
  OutOfMemoryError,
} from "@heapkit/contract";
import { createHeap, type Heap, memoryBytesFor } from "@heapkit/heap";
import { strategyByName } from "@heapkit/strategies";

/** One trace event, compact: `["a", id, size]`, `["f", id]` or `["r", id, size]`. */
export type TraceOp =
  | readonly ["a", number, number]
  | readonly ["f", number]
  | readonly ["r", number, number];

/** A small trace shipped with the playground. */
export interface BuiltinTrace {
  readonly name: string;
  readonly title: string;
  readonly about: string;
  /** The heap size (bytes for blocks) the trace is meant for. */
  readonly heapBytes: number;
  readonly ops: readonly TraceOp[];
}

/** One line of the operation log. */
export interface LogLine {
  readonly n: number;
  readonly text: string;
  readonly error: boolean;
}

/** What the heap map draws. */
export interface HeapPictureData {
  readonly base: number;
  readonly brk: number;
  readonly limit: number;
  readonly blocks: readonly BlockInfo[];
}

/** First byte of the heap (offset 0 stays the null pointer). */
export const HEAP_BASE = 16;

/** Bytes a strategy's own metadata takes in an empty heap (tables, list heads, the epilogue). */
export function metadataBytes(strategy: string): number {
  const probe = createHeap({ strategy: strategyByName(strategy), size: 1 << 16, maxSize: 1 << 22 });
  return probe.stats().heapSize;
}

/**
 * A heap whose blocks may use `heapBytes` bytes beyond the strategy's own metadata, so that the
 * same size means the same room for every strategy (as `heapkit demo` does).
 */
export function makeHeap(strategy: string, heapBytes: number): Heap {
  const size = memoryBytesFor(metadataBytes(strategy) + heapBytes, { base: HEAP_BASE, cache: false });
  return createHeap({
    strategy: strategyByName(strategy),
    size,
    maxSize: size,
    base: HEAP_BASE,
    cache: false,
  });
}

/** The map data of a heap now. */
export function pictureOf(heap: Heap): HeapPictureData {
  return { base: heap.regionBase, brk: heap.brk, limit: heap.limit, blocks: [...heap.blocks()] };
}

function describe(error: unknown): string {
  if (error instanceof HeapError) return `${error.name} [${error.code}]: ${error.message}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** A playground session: one heap, a log, and perhaps a trace being replayed. */
export class Session {
  heap: Heap;
  readonly log: LogLine[] = [];
  /** Live blocks by the id the user or the trace gave them. */
  readonly live = new Map<number, { ptr: number; size: number }>();
  trace: BuiltinTrace | null = null;
  /** Index of the next trace op. */
  cursor = 0;
  /**
   * Allocations refused since the last reset: a malloc that threw, or a realloc that found no room or
   * asked beyond the heap's limit. The heap's own count leaves out sizes beyond its limit, which are
   * the playground's most common refusal.
   */
  failedAllocations = 0;
  private opCount = 0;
  private nextId = 1;

  constructor(
    public strategy: string,
    public heapBytes: number,
  ) {
    this.heap = makeHeap(strategy, heapBytes);
  }

  /** Starts again with an empty heap (and rewinds the trace). */
  reset(strategy = this.strategy, heapBytes = this.heapBytes): void {
    this.strategy = strategy;
    this.heapBytes = heapBytes;
    this.heap = makeHeap(strategy, heapBytes);
    this.live.clear();
    this.log.length = 0;
    this.cursor = 0;
    this.failedAllocations = 0;
    this.opCount = 0;
    this.nextId = 1;
  }

  /** Loads a trace: a fresh heap of the trace's size, cursor at its start. */
  load(trace: BuiltinTrace): void {
    this.trace = trace;
    this.reset(this.strategy, trace.heapBytes);
    this.say(`loaded trace ${trace.name}: ${trace.ops.length} events (${trace.about})`, false);
  }

  unload(): void {
    this.trace = null;
    this.cursor = 0;
  }

  stats(): HeapStats {
    return this.heap.stats();
  }

  picture(): HeapPictureData {
    return pictureOf(this.heap);
  }

  /** malloc(size) from the user; returns the pointer or 0 if it failed (the log says why). */
  malloc(size: number): number {
    const id = this.freshId();
    return this.alloc(id, size) ? (this.live.get(id)?.ptr ?? 0) : 0;
  }

  /** free(ptr) from the user; any pointer may be typed, and a bad one is logged with its error. */
  free(ptr: number): boolean {
    try {
      this.heap.free(ptr);
    } catch (error) {
      this.say(`free(${ptr}) → ${describe(error)}`, true);
      return false;
    }
    for (const [id, block] of this.live) {
      if (block.ptr === ptr) {
        this.live.delete(id);
        break;
      }
    }
    this.say(`free(${ptr})`, false);
    return true;
  }

  /** realloc(ptr, size) from the user. */
  realloc(ptr: number, size: number): number {
    const entry = [...this.live].find(([, block]) => block.ptr === ptr);
    try {
      const moved = this.heap.realloc(ptr, size);
      if (entry !== undefined) {
        if (moved === 0) this.live.delete(entry[0]);
        else this.live.set(entry[0], { ptr: moved, size });
      }
      this.say(`realloc(${ptr}, ${size}) → ${moved}${moved !== ptr && moved !== 0 ? " (moved)" : ""}`, false);
      return moved;
    } catch (error) {
      if (error instanceof OutOfMemoryError || error instanceof InvalidSizeError) this.failedAllocations++;
      this.say(`realloc(${ptr}, ${size}) → ${describe(error)}`, true);
      return 0;
    }
  }

  /**
   * Runs one typed command: `malloc 100`, `m 100`, `free 52`, `f 52`, `realloc 52 200`, `r 52 200`.
   * Returns false (and logs why) if the command cannot be read.
   */
  command(line: string): boolean {
    const words = line
      .trim()
      .toLowerCase()
      .split(/[\s,()]+/)
      .filter(Boolean);
    const [verb, a, b] = words;
    const num = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : Number.NaN);
    if ((verb === "malloc" || verb === "m") && words.length === 2 && !Number.isNaN(num(a))) {
      this.malloc(num(a));
      return true;
    }
    if ((verb === "free" || verb === "f") && words.length === 2 && !Number.isNaN(num(a))) {
      this.free(num(a));
      return true;
    }
    if (
      (verb === "realloc" || verb === "r") &&
      words.length === 3 &&
      !Number.isNaN(num(a)) &&
      !Number.isNaN(num(b))
    ) {
      this.realloc(num(a), num(b));
      return true;
    }
    this.say(`cannot read "${line.trim()}": type malloc SIZE, free PTR or realloc PTR SIZE`, true);
    return false;
  }

  /** True if the loaded trace has events left. */
  get canStep(): boolean {
    return this.trace !== null && this.cursor < this.trace.ops.length;
  }

  /** The next trace event as text, or "" at the end. */
  get nextOp(): string {
    if (this.trace === null || this.cursor >= this.trace.ops.length) return "";
    return opText(this.trace.ops[this.cursor]);
  }

  /** Replays the next event of the trace; a failed allocation is logged and replay goes on. */
  step(): boolean {
    if (this.trace === null || this.cursor >= this.trace.ops.length) return false;
    const op = this.trace.ops[this.cursor++];
    if (op[0] === "a") {
      this.alloc(op[1], op[2]);
    } else if (op[0] === "f") {
      const block = this.live.get(op[1]);
      if (block === undefined) this.say(`free #${op[1]}: skipped (its allocation failed)`, false);
      else this.free(block.ptr);
    } else {
      const block = this.live.get(op[1]);
      if (block === undefined) this.alloc(op[1], op[2]);
      else this.realloc(block.ptr, op[2]);
    }
    return true;
  }

  private freshId(): number {
    while (this.live.has(this.nextId)) this.nextId++;
    return this.nextId++;
  }

  private alloc(id: number, size: number): boolean {
    try {
      const ptr = this.heap.malloc(size);
      this.live.set(id, { ptr, size });
      this.say(`malloc(${size}) → ${ptr}`, false);
      return true;
    } catch (error) {
      this.failedAllocations++;
      this.say(`malloc(${size}) → ${describe(error)}`, true);
      return false;
    }
  }

  private say(text: string, error: boolean): void {
    this.log.push({ n: ++this.opCount, text, error });
    if (this.log.length > 200) this.log.splice(0, this.log.length - 200);
  }
}

/** A trace event as text. */
export function opText(op: TraceOp): string {
  if (op[0] === "a") return `malloc(${op[2]}) as #${op[1]}`;
  if (op[0] === "f") return `free #${op[1]}`;
  return `realloc #${op[1]} to ${op[2]}`;
}

/**
 * Runs a short script on a fresh heap and returns a picture after each step, for the guides.
 * Ops: `m64` mallocs 64 bytes (blocks are numbered 1, 2, … in malloc order), `f2` frees block 2,
 * `r2:128` reallocs block 2 to 128 bytes. A failing malloc is recorded, not thrown.
 */
export function runScript(
  strategy: string,
  heapBytes: number,
  steps: readonly (readonly [label: string, ops: string])[],
): { label: string; picture: HeapPictureData; stats: HeapStats; notes: string[] }[] {
  const heap = makeHeap(strategy, heapBytes);
  const ptrs: number[] = [];
  return steps.map(([label, script]) => {
    const notes: string[] = [];
    for (const op of script.split(/\s+/).filter(Boolean)) {
      const kind = op[0];
      if (kind === "m") {
        const size = Number(op.slice(1));
        try {
          const ptr = heap.malloc(size);
          ptrs.push(ptr);
          notes.push(`#${ptrs.length} = malloc(${size}) → ${ptr}`);
        } catch (error) {
          ptrs.push(0);
          notes.push(`malloc(${size}) → ${(error as HeapError).code ?? "error"}`);
        }
      } else if (kind === "f") {
        const n = Number(op.slice(1));
        heap.free(ptrs[n - 1]);
        notes.push(`free #${n} (${ptrs[n - 1]})`);
      } else if (kind === "r") {
        const [n, size] = op.slice(1).split(":").map(Number);
        const moved = heap.realloc(ptrs[n - 1], size);
        notes.push(`realloc #${n} to ${size} → ${moved}`);
        ptrs[n - 1] = moved;
      } else {
        throw new Error(`runScript: cannot read op "${op}"`);
      }
    }
    return { label, picture: pictureOf(heap), stats: heap.stats(), notes };
  });
}
