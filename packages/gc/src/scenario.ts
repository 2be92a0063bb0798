/**
 * The CPython 3.11 gc oracle's scenarios: reading them and replaying them on any plan.
 *
 * A scenario is JSON Lines: a `meta` line, then ops on plain lists held by a fixed array of root
 * slots — `new` (`roots[s] = [M]`), `ref` (`A.append(B)`), `unref` (`del A[k]`), `drop`
 * (`roots[s] = None`), `collect` (`gc.collect()`) — then an `end` line. Each op line may carry
 * CPython's state after it (`count`, `gens`, `fl`, `ll`, `gc`); replay never reads those fields, it
 * computes them, so a file with them stripped replays the same.
 *
 * @module
 */
import { type Allocator, type Ptr, TraceFormatError } from "@heapkit/contract";
import type { GenerationsCapability } from "./capabilities.js";
import type { ManagedHeap, PlanName, RootArray } from "./managed.js";
import { createPlan } from "./plans/create-plan.js";
import { CPYTHON_LIST_FREELIST } from "./plans/refcount-cycles.js";
import type { ObjectType } from "./types.js";

/** The first line of a scenario. */
export interface ScenarioMeta {
  /** `meta`. */
  op: "meta";
  /** The family (`disabled`, `auto`, `auto_small`). */
  family?: string;
  /** Index in the family. */
  index?: number;
  /** Number of root slots. */
  roots: number;
  /** Whether automatic collection is enabled. */
  gc_enabled: boolean;
  /** The thresholds. */
  thresholds: [number, number, number];
  /** The generator's profile (`churn`, `grow`, `grow_max`, `cycles`). */
  profile?: string;
  /** The list free-list capacity CPython had. */
  list_freelist_max?: number;
  /** Other fields are kept as they are. */
  [key: string]: unknown;
}

/** One op of a scenario. */
export type ScenarioOp =
  | { op: "new"; id: number; root: number }
  | { op: "ref"; from: number; to: number }
  | { op: "unref"; from: number; to: number; index: number }
  | { op: "drop"; root: number }
  | { op: "collect"; expect?: number };

/** CPython's state after an op, as recorded (all optional: a stripped file has none). */
export interface RecordedState {
  /** `gc.get_count()`. */
  count?: [number, number, number];
  /** Tracked objects per generation. */
  gens?: [number, number, number];
  /** Lists on the free list. */
  fl?: number;
  /** `[long_lived_pending, long_lived_total]`. */
  ll?: [number, number];
  /** Collections during the op: `[generation, unreachable found]`. */
  gc?: [number, number][];
  /** For `collect`: `gc.collect()`'s return value. */
  expect?: number;
}

/** An op with its 1-based line number and what CPython recorded after it. */
export interface ScenarioStep {
  /** 1-based line number in the file (the meta line is line 1). */
  line: number;
  /** The op. */
  op: ScenarioOp;
  /** What CPython recorded (fields absent in a stripped file). */
  recorded: RecordedState;
}

/** A scenario: its meta line, its ops, and the `end` line's figures (known once the ops were read). */
export interface Scenario {
  /** The meta line. */
  readonly meta: ScenarioMeta;
  /** The ops, in order (an array, or read lazily by a {@link ScenarioReader}). */
  readonly steps: Iterable<ScenarioStep>;
  /** The `end` line's figures, if present (for a reader: after its steps were read). */
  readonly end?: { alive: number; reachable: number };
}

function fail(file: string, line: number, what: string): never {
  throw new TraceFormatError(file, line, what);
}

function int(value: unknown, file: string, line: number, field: string, min = 0): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    fail(file, line, `expected "${field}" to be a whole number ≥ ${min}`);
  }
  return value;
}

/**
 * Reads a scenario lazily: the meta line at once, each op when the steps are iterated (once), so a
 * replay holds one op at a time. Bad input throws `TraceFormatError` naming the line.
 */
export class ScenarioReader implements Scenario {
  /** The meta line. */
  readonly meta: ScenarioMeta;
  /** The `end` line's figures, once the steps have been read. */
  end?: { alive: number; reachable: number };
  private readonly text: string;
  private readonly file: string;
  private pos = 0;
  private lineNo = 0;
  private used = false;

  constructor(text: string, file = "scenario") {
    this.text = text;
    this.file = file;
    const first = this.nextLine();
    if (first === null) fail(file, 1, 'expected a {"op":"meta",…} line');
    const [line, obj] = first;
    if (obj.op !== "meta") fail(file, line, 'expected the first line to be {"op":"meta",…}');
    const roots = int(obj.roots, file, line, "roots", 1);
    const thresholds = Array.isArray(obj.thresholds) ? obj.thresholds : [700, 10, 10];
    if (thresholds.length !== 3) fail(file, line, 'expected "thresholds" to hold 3 numbers');
    for (const t of thresholds) int(t, file, line, "thresholds");
    this.meta = {
      ...obj,
      op: "meta",
      roots,
      gc_enabled: obj.gc_enabled !== false,
      thresholds: [thresholds[0], thresholds[1], thresholds[2]],
    } as ScenarioMeta;
  }

  /** The ops (they can be read once). */
  get steps(): Iterable<ScenarioStep> {
    return { [Symbol.iterator]: () => this.read() };
  }

  private nextLine(): [number, Record<string, unknown>] | null {
    const text = this.text;
    while (this.pos < text.length) {
      let eol = text.indexOf("\n", this.pos);
      if (eol < 0) eol = text.length;
      const from = this.pos;
      this.pos = eol + 1;
      this.lineNo++;
      const raw = text.slice(from, eol);
      if (raw.trim() === "") continue;
      let obj: unknown;
      try {
        obj = JSON.parse(raw);
      } catch {
        fail(this.file, this.lineNo, "expected a JSON object");
      }
      if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
        fail(this.file, this.lineNo, "expected a JSON object");
      }
      return [this.lineNo, obj as Record<string, unknown>];
    }
    return null;
  }

  private *read(): Generator<ScenarioStep> {
    if (this.used) throw new Error(`${this.file}: a scenario reader's steps can be read once`);
    this.used = true;
    const file = this.file;
    const roots = this.meta.roots;
    let ids = 0;
    for (let next = this.nextLine(); next !== null; next = this.nextLine()) {
      const [line, obj] = next;
      const op = obj.op;
      let parsed: ScenarioOp;
      switch (op) {
        case "new": {
          const id = int(obj.id, file, line, "id");
          if (id !== ids) fail(file, line, `expected object id ${ids} (ids count up from 0)`);
          ids++;
          parsed = { op, id, root: int(obj.root, file, line, "root") };
          if (parsed.root >= roots) fail(file, line, `expected "root" below ${roots}`);
          break;
        }
        case "ref":
          parsed = { op, from: int(obj.from, file, line, "from"), to: int(obj.to, file, line, "to") };
          if (parsed.from >= ids || parsed.to >= ids)
            fail(file, line, "expected ids of objects already made");
          break;
        case "unref":
          parsed = {
            op,
            from: int(obj.from, file, line, "from"),
            to: int(obj.to, file, line, "to"),
            index: int(obj.index ?? 0, file, line, "index"),
          };
          if (parsed.from >= ids || parsed.to >= ids)
            fail(file, line, "expected ids of objects already made");
          break;
        case "drop":
          parsed = { op, root: int(obj.root, file, line, "root") };
          if (parsed.root >= roots) fail(file, line, `expected "root" below ${roots}`);
          break;
        case "collect":
          parsed = { op };
          break;
        case "end":
          this.end = {
            alive: int(obj.alive, file, line, "alive"),
            reachable: int(obj.reachable, file, line, "reachable"),
          };
          continue;
        default:
          fail(file, line, 'expected "op" to be one of new, ref, unref, drop, collect, end');
      }
      const recorded: RecordedState = {};
      if (obj.count !== undefined) recorded.count = obj.count as RecordedState["count"];
      if (obj.gens !== undefined) recorded.gens = obj.gens as RecordedState["gens"];
      if (obj.fl !== undefined) recorded.fl = obj.fl as number;
      if (obj.ll !== undefined) recorded.ll = obj.ll as RecordedState["ll"];
      if (obj.gc !== undefined) recorded.gc = obj.gc as RecordedState["gc"];
      if (obj.expect !== undefined) recorded.expect = obj.expect as number;
      yield { line, op: parsed, recorded };
    }
  }
}

/** Parses a whole scenario (JSON Lines) into memory; throws `TraceFormatError` naming the line on bad input. */
export function parseScenario(text: string, file = "scenario"): Scenario {
  const reader = new ScenarioReader(text, file);
  const steps = [...reader.steps];
  return { meta: reader.meta, steps, end: reader.end };
}

/** A collection seen during replay. */
export interface ReplayCollection {
  /** The op's line. */
  line: number;
  /** True for an automatic collection (triggered by an allocation). */
  auto: boolean;
  /** The generation collected. */
  generation: number;
  /** Unreachable objects found (what `gc.collect()` returns). */
  found: number;
}

/** The collector's state after an op (refcount+cycles plan). */
export interface ReplayState {
  /** `gc.get_count()`. */
  count: [number, number, number];
  /** Tracked objects per generation. */
  gens: [number, number, number];
  /** Lists on the free list. */
  fl: number;
  /** `[long_lived_pending, long_lived_total]`. */
  ll: [number, number];
  /** Collections during the op. */
  gc: [number, number][];
}

/** Options of {@link replayScenario}. */
export interface ReplayOptions {
  /** The allocator the objects live in. */
  allocator: Allocator;
  /** The plan (default `refcount+cycles`, with the `cpython` profile). */
  plan?: PlanName;
  /** Called after every op with its step and (refcount+cycles only) the collector's state. */
  onStep?: (step: ScenarioStep, state: ReplayState | null) => void;
  /** Run a full collection after the last op (tracing plans always do; default false). */
  finalCollect?: boolean;
  /** Check object arguments (default false: the scenario is trusted, replay runs faster). */
  checked?: boolean;
}

/** What a replay found. */
export interface ReplayResult {
  /** Every collection, explicit and automatic, in order. */
  collections: ReplayCollection[];
  /** Scenario objects still alive at the end (reachable + uncollected garbage). */
  alive: number;
  /** Those reachable from the roots. */
  reachable: number;
  /** Ids of the objects alive at the end, ascending. */
  aliveIds: number[];
  /** Ids of the objects reachable from the roots at the end, ascending. */
  reachableIds: number[];
  /** The heap the scenario ran in (for inspection). */
  heap: ManagedHeap;
}

/**
 * Replays a scenario on a plan. With `refcount+cycles` (the `cpython` profile) it reproduces CPython's
 * counts, generation sizes, free list, long-lived figures and every collection; the tracing plans run
 * the same ops (their `collect` ops are full collections) so their surviving set can be compared.
 */
export function replayScenario(scenario: Scenario, options: ReplayOptions): ReplayResult {
  const replay = new Replay(scenario.meta, options);
  for (const step of scenario.steps) {
    replay.apply(step);
    options.onStep?.(step, replay.state());
  }
  if (options.finalCollect || replay.generations === null) replay.finalCollect();
  return replay.result();
}

/** One replay: the plan, the scenario's list type and roots, each object's address by id, the collections seen. */
class Replay {
  readonly heap: ManagedHeap;
  /** The plan's generations, or null for a tracing plan (whose collections are counted by the replay). */
  readonly generations: GenerationsCapability | null;
  private readonly listType: ObjectType;
  private readonly roots: RootArray;
  private ptrOf = new Int32Array(1024);
  private readonly collections: ReplayCollection[] = [];
  private line = 0;
  private explicit = false;
  private during: [number, number][] = [];
  private movedSoFar = 0;

  constructor(meta: ScenarioMeta, options: ReplayOptions) {
    this.heap = createPlan(options.plan ?? "refcount+cycles", options.allocator, {
      profile: "cpython",
      thresholds: meta.thresholds,
      enabled: meta.gc_enabled,
      checked: options.checked ?? false,
    });
    this.generations = this.heap.capabilities.generations;
    // a scenario list: a list of references and 4 raw bytes for its id (so a moving plan can find it);
    // its free list is CPython's (a plan that keeps no free lists ignores it)
    this.listType = this.heap.defineType({
      name: "list",
      refs: "list",
      bytes: 4,
      freeList: meta.list_freelist_max ?? CPYTHON_LIST_FREELIST,
    });
    this.roots = this.heap.roots(meta.roots);
    this.generations?.callbacks.push((phase, info) => {
      if (phase !== "stop") return;
      const found = info.collected + info.uncollectable;
      this.collections.push({ line: this.line, auto: !this.explicit, generation: info.generation, found });
      this.during.push([info.generation, found]);
    });
  }

  /** Runs one op. */
  apply(step: ScenarioStep): void {
    const heap = this.heap;
    const op = step.op;
    this.line = step.line;
    this.during = [];
    switch (op.op) {
      case "new":
        this.create(op.id, op.root);
        break;
      case "ref":
        heap.append(this.ptrOf[op.from], this.ptrOf[op.to]);
        break;
      case "unref": {
        const from = this.ptrOf[op.from];
        const k = heap.indexOf(from, this.ptrOf[op.to]);
        if (k < 0) {
          throw new TraceFormatError(
            "scenario",
            step.line,
            `object ${op.from} does not refer to object ${op.to}`,
          );
        }
        heap.removeAt(from, k);
        break;
      }
      case "drop":
        this.roots.set(op.root, 0);
        break;
      case "collect":
        this.explicitCollect();
        break;
    }
  }

  /** `roots[root] = [M]` with M's id in its bytes. */
  private create(id: number, root: number): void {
    const heap = this.heap;
    const p = heap.allocate(this.listType);
    heap.allocator.memory.i32[(p + this.listType.bytesOffset) >> 2] = id;
    if (id >= this.ptrOf.length) {
      const larger = new Int32Array(this.ptrOf.length * 2);
      larger.set(this.ptrOf);
      this.ptrOf = larger;
    }
    this.ptrOf[id] = p;
    this.roots.set(root, p);
    heap.releaseRef(p);
  }

  /** `gc.collect()`: a plan with generations reports it through its callbacks; a tracing plan is counted here. */
  private explicitCollect(): void {
    this.explicit = true;
    if (this.generations !== null) {
      this.heap.collect(2);
    } else {
      const found = this.heap.collect();
      this.collections.push({ line: this.line, auto: false, generation: 2, found });
      this.relocate();
    }
    this.explicit = false;
  }

  /** After a compaction every object may have moved: finds each again by the id in its bytes. */
  private relocate(): void {
    const compaction = this.heap.capabilities.compaction;
    if (compaction === null || compaction.movedObjects() === this.movedSoFar) return;
    this.movedSoFar = compaction.movedObjects();
    for (const p of this.heap.allObjects()) this.ptrOf[this.idOf(p)] = p;
  }

  /** The collector's state now, for a plan with generations. */
  state(): ReplayState | null {
    const generations = this.generations;
    if (generations === null) return null;
    return {
      count: generations.getCount(),
      gens: generations.generationSizes(),
      fl: generations.freeListLength(this.listType),
      ll: generations.longLived(),
      gc: this.during,
    };
  }

  /** The full collection after the last op. */
  finalCollect(): void {
    this.line = 0;
    this.explicit = true;
    this.heap.collect();
  }

  /** What is alive and reachable at the end. */
  result(): ReplayResult {
    const heap = this.heap;
    const reachableIds = heap
      .reachableObjects()
      .map((p) => this.idOf(p))
      .sort((a, b) => a - b);
    const aliveIds = heap
      .allObjects()
      .filter((p) => heap.typeOf(p) === this.listType)
      .map((p) => this.idOf(p))
      .sort((a, b) => a - b);
    const collections = this.collections;
    return {
      collections,
      alive: aliveIds.length,
      reachable: reachableIds.length,
      aliveIds,
      reachableIds,
      heap,
    };
  }

  /** The scenario id an object carries in its raw bytes. */
  private idOf(p: Ptr): number {
    return this.heap.allocator.memory.i32[(p + this.listType.bytesOffset) >> 2];
  }
}
