/**
 * The worker side of the shared-heap tests, bundled by esbuild at test time (see bundle.ts).
 * `workerData.scenario` picks what it does:
 * - `stress`: random malloc/calloc/memalign/realloc/free over one shared heap, every payload
 *   patterned and verified before it is freed, a quarter of the frees handed to the next worker
 *   through a {@link HandoffRing}, a barrier and a report to the test thread at quiescent points.
 * - `grow`: waits for every worker, then allocates until it holds `count` blocks, so that the
 *   heap grows while all of them allocate; reports its blocks, verifies, frees when told.
 * - `rpc`: attaches and runs the calls the test thread posts, answering each with its result or
 *   its error's name, code and fields.
 */
import { parentPort, threadId, workerData } from "node:worker_threads";
import type { AllocatorEngine, Strategy } from "@heapkit/contract";
import { attachHeap } from "../../src/index.js";
import {
  Barrier,
  fillPattern,
  findPatternMismatch,
  Gate,
  type HandedBlock,
  HandoffRing,
  randomSize,
  seededRandom,
} from "./protocol.js";
import { strategyByName, strategyFromDescriptor } from "./registry.js";

type SharedHeap = ReturnType<typeof attachHeap>;
type HeapMemory = SharedArrayBuffer | WebAssembly.Memory;

/** What every scenario gets. */
interface CommonData {
  memory: HeapMemory;
  strategy: string;
  lockTimeout: number;
}

export interface StressData extends CommonData {
  scenario: "stress";
  index: number;
  workers: number;
  seed: number;
  ops: number;
  phases: number;
  maxHeld: number;
  /** Ring `k` is worker `k`'s inbox; worker `i` hands blocks to worker `(i + 1) % workers`. */
  rings: SharedArrayBuffer[];
  barrier: SharedArrayBuffer;
  gate: SharedArrayBuffer;
  /** Two words per worker: ops done, phase reached (read by the test when a run times out). */
  progress: SharedArrayBuffer;
  waitMs: number;
}

export interface GrowData extends CommonData {
  scenario: "grow";
  index: number;
  workers: number;
  seed: number;
  count: number;
  /** `workers × count` entries of (pointer, size, seq): each worker's blocks, for the others to read. */
  table: SharedArrayBuffer;
  barrier: SharedArrayBuffer;
  gate: SharedArrayBuffer;
  waitMs: number;
}

export interface RpcData extends CommonData {
  scenario: "rpc";
  /** Attach through `strategyFromDescriptor` instead of a strategy object. */
  byDescriptor: boolean;
  /** When set, the worker's engine blocks in `malloc` of this size or more, holding the heap lock. */
  holdLock: { flag: SharedArrayBuffer; fromSize: number } | null;
}

/** Summary a stress worker posts when it is done. */
export interface StressSummary {
  type: "done";
  index: number;
  ops: number;
  frees: number;
  handedOff: number;
  received: number;
}

/** The held blocks a worker reports at a quiescent point. */
export interface HeldReport {
  type: "held";
  index: number;
  phase: number;
  ptrs: Int32Array;
  sizes: Int32Array;
  /** The heap size this worker's view of the memory sees. */
  viewBytes: number;
}

/** An error as it crosses from a worker: its name, message and own fields (`code`, `holderThread`, …). */
export interface ErrorReport {
  name: string;
  message: string;
  [field: string]: unknown;
}

const data = workerData as StressData | GrowData | RpcData;
const port = parentPort;
if (port === null) throw new Error("worker.ts runs only as a worker_threads Worker");

function describeError(error: unknown): ErrorReport {
  if (error instanceof Error) {
    return { ...Object.fromEntries(Object.entries(error)), name: error.name, message: error.message };
  }
  return { name: "NonError", message: String(error) };
}

/** A strategy whose engine blocks inside `malloc` (so inside the heap lock) for a large enough size. */
function lockHoldingStrategy(
  inner: Strategy<unknown>,
  flag: Int32Array,
  fromSize: number,
): Strategy<unknown> {
  const wrap = (engine: AllocatorEngine): AllocatorEngine =>
    new Proxy(engine, {
      get(target, key) {
        if (key === "malloc") {
          return (size: number) => {
            if (size >= fromSize) {
              Atomics.store(flag, 0, 1);
              Atomics.notify(flag, 0);
              Atomics.wait(flag, 0, 1);
            }
            return target.malloc(size);
          };
        }
        const value = Reflect.get(target, key, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  return {
    name: inner.name,
    description: inner.description,
    options: inner.options,
    create: (region) => wrap(inner.create(region)),
    attach: (region) => wrap(inner.attach(region)),
  };
}

/**
 * A byte view of the heap's memory, made again when a block lies past its end (the memory grew;
 * a shared wasm memory has a new buffer then). Fixed-length on purpose: on node 20 a length-tracking
 * view of a growable SharedArrayBuffer is many times slower per access.
 */
class PayloadBytes {
  private view: Uint8Array;

  constructor(private readonly memory: HeapMemory) {
    this.view = this.make();
  }

  private make(): Uint8Array {
    const buffer = this.memory instanceof WebAssembly.Memory ? this.memory.buffer : this.memory;
    return new Uint8Array(buffer, 0, buffer.byteLength);
  }

  /** A view that reaches `end`. */
  reaching(end: number): Uint8Array {
    if (end > this.view.length) this.view = this.make();
    if (end > this.view.length) throw new Error(`byte ${end} is past the memory's ${this.view.length} bytes`);
    return this.view;
  }
}

/** The blocks one worker holds, in parallel arrays; removal swaps the last one in. */
class HeldBlocks {
  ptrs: number[] = [];
  sizes: number[] = [];
  seqs: number[] = [];

  get count(): number {
    return this.ptrs.length;
  }

  add(ptr: number, size: number, seq: number): void {
    this.ptrs.push(ptr);
    this.sizes.push(size);
    this.seqs.push(seq);
  }

  removeAt(at: number, into: HandedBlock): void {
    into.ptr = this.ptrs[at];
    into.size = this.sizes[at];
    into.seq = this.seqs[at];
    const last = this.ptrs.length - 1;
    this.ptrs[at] = this.ptrs[last];
    this.sizes[at] = this.sizes[last];
    this.seqs[at] = this.seqs[last];
    this.ptrs.pop();
    this.sizes.pop();
    this.seqs.pop();
  }

  report(index: number, phase: number, viewBytes: number): HeldReport {
    return {
      type: "held",
      index,
      phase,
      ptrs: Int32Array.from(this.ptrs),
      sizes: Int32Array.from(this.sizes),
      viewBytes,
    };
  }
}

/** Verifies `block`'s pattern in `bytes` from offset `from` (its pointer, or 0 in a view of just the block). */
function verifyOrThrow(bytes: Uint8Array, from: number, block: HandedBlock, where: string): void {
  const at = findPatternMismatch(bytes, from, block.size, block.seq);
  if (at >= 0) {
    throw new Error(
      `${where}: payload of block ${block.ptr} (size ${block.size}, seq ${block.seq}) overwritten at byte ${at}`,
    );
  }
}

/** A numbered worker of a scenario attaches: its heap, its view of the payloads, its own random stream. */
function attachNumbered(options: CommonData & { index: number; seed: number }) {
  return {
    heap: attachHeap(options.memory, {
      strategy: strategyByName(options.strategy),
      lockTimeout: options.lockTimeout,
      threadId,
    }),
    payload: new PayloadBytes(options.memory),
    random: seededRandom(options.seed ^ Math.imul(options.index + 1, 0x9e3779b1)),
  };
}

function runStress(options: StressData): void {
  const { heap, payload, random } = attachNumbered(options);
  const inbox = new HandoffRing(options.rings[options.index]);
  const outbox = new HandoffRing(options.rings[(options.index + 1) % options.workers]);
  const barrier = new Barrier(options.barrier, options.workers);
  const gate = new Gate(options.gate);
  const progress = new Int32Array(options.progress);
  const held = new HeldBlocks();
  const block: HandedBlock = { ptr: 0, size: 0, seq: 0 };
  let nextSeq = options.index * 2 ** 26 + 1;
  let ops = 0;
  let frees = 0;
  let handedOff = 0;
  let received = 0;

  const freeReceived = (): void => {
    while (inbox.pop(block)) {
      // through this worker's own heap view: the block may lie where another worker grew the memory
      verifyOrThrow(heap.u8(block.ptr, block.size), 0, block, `worker ${options.index}, handed over`);
      heap.free(block.ptr);
      received++;
      frees++;
      ops++;
    }
  };

  const allocate = (): void => {
    const size = randomSize(random);
    const kind = random();
    let ptr: number;
    if (kind < 0.8) {
      ptr = heap.malloc(size);
    } else if (kind < 0.9) {
      ptr = heap.calloc(1, size);
      const bytes = payload.reaching(ptr + size);
      for (let i = 0; i < size; i++) {
        if (bytes[ptr + i] !== 0) throw new Error(`calloc(1, ${size}) = ${ptr}: byte ${i} is not zero`);
      }
    } else {
      const alignment = 2 ** (3 + Math.floor(random() * 8));
      ptr = heap.memalign(alignment, size);
      if (ptr % alignment !== 0) throw new Error(`memalign(${alignment}, ${size}) = ${ptr}: misaligned`);
    }
    if (heap.usableSize(ptr) < size) {
      throw new Error(`usableSize(${ptr}) = ${heap.usableSize(ptr)} < ${size} asked`);
    }
    const seq = nextSeq++;
    fillPattern(payload.reaching(ptr + size), ptr, size, seq);
    held.add(ptr, size, seq);
    ops++;
  };

  const reallocate = (): void => {
    const at = Math.floor(random() * held.count);
    const oldPtr = held.ptrs[at];
    const oldSize = held.sizes[at];
    const seq = held.seqs[at];
    const size = randomSize(random);
    const ptr = heap.realloc(oldPtr, size);
    const kept = Math.min(oldSize, size);
    const mismatch = findPatternMismatch(payload.reaching(ptr + size), ptr, kept, seq);
    if (mismatch >= 0) {
      throw new Error(
        `worker ${options.index}: realloc(${oldPtr}, ${size}) = ${ptr} lost byte ${mismatch} of seq ${seq}`,
      );
    }
    const newSeq = nextSeq++;
    fillPattern(payload.reaching(ptr + size), ptr, size, newSeq);
    held.ptrs[at] = ptr;
    held.sizes[at] = size;
    held.seqs[at] = newSeq;
    ops++;
  };

  const release = (): void => {
    held.removeAt(Math.floor(random() * held.count), block);
    verifyOrThrow(
      payload.reaching(block.ptr + block.size),
      block.ptr,
      block,
      `worker ${options.index}, own block`,
    );
    if (random() < 0.25 && outbox.push(block)) {
      handedOff++;
      return;
    }
    heap.free(block.ptr);
    frees++;
    ops++;
  };

  const inspect = (): void => {
    const stats = heap.stats();
    if (stats.liveBlocks < 0 || stats.cachedBlocks < 0 || stats.heapSize > stats.heapLimit) {
      throw new Error(`worker ${options.index}: stats() out of range: ${JSON.stringify(stats)}`);
    }
    if (ops % (997 * 5) === 0) heap.check();
    if (ops % (997 * 11) === 0) {
      let used = 0;
      for (const info of heap.blocks()) if (info.state === "used") used++;
      if (used < held.count)
        throw new Error(
          `worker ${options.index}: blocks() shows ${used} used blocks, it holds ${held.count}`,
        );
    }
  };

  const perPhase = Math.ceil(options.ops / options.phases);
  for (let phase = 1; phase <= options.phases; phase++) {
    const phaseEnd = Math.min(options.ops, phase * perPhase);
    while (ops < phaseEnd) {
      freeReceived();
      const r = random();
      if (held.count === 0 || (r < 0.47 && held.count < options.maxHeld)) allocate();
      else if (r < 0.55) reallocate();
      else release();
      // the whole-heap calls too, while the other workers keep allocating
      if (ops % 997 === 0) inspect();
      Atomics.store(progress, options.index * 2, ops);
    }
    Atomics.store(progress, options.index * 2 + 1, phase);
    // Every producer stops before the barrier, so each inbox holds all it will get this phase.
    barrier.arrive(options.waitMs);
    freeReceived();
    port?.postMessage(held.report(options.index, phase, heap.memory.buffer.byteLength));
    gate.waitFor(phase, options.waitMs);
  }
  while (held.count > 0) {
    held.removeAt(held.count - 1, block);
    verifyOrThrow(
      payload.reaching(block.ptr + block.size),
      block.ptr,
      block,
      `worker ${options.index}, at the end`,
    );
    heap.free(block.ptr);
  }
  heap.detach();
  const summary: StressSummary = { type: "done", index: options.index, ops, frees, handedOff, received };
  port?.postMessage(summary);
}

function runGrow(options: GrowData): void {
  const { heap, payload, random } = attachNumbered(options);
  const barrier = new Barrier(options.barrier, options.workers);
  const gate = new Gate(options.gate);
  const held = new HeldBlocks();
  const block: HandedBlock = { ptr: 0, size: 0, seq: 0 };
  const table = new Int32Array(options.table);
  barrier.arrive(options.waitMs);
  for (let i = 0; i < options.count; i++) {
    const size = 1024 + Math.floor(random() * 7 * 1024);
    const ptr = heap.malloc(size);
    const seq = options.index * 2 ** 26 + i + 1;
    fillPattern(payload.reaching(ptr + size), ptr, size, seq);
    held.add(ptr, size, seq);
    table.set([ptr, size, seq], (options.index * options.count + i) * 3);
  }
  barrier.arrive(options.waitMs);
  // every worker's blocks, read through this worker's own heap views, which must follow growth
  // that other workers made
  for (let at = 0; at < table.length; at += 3) {
    const other: HandedBlock = { ptr: table[at], size: table[at + 1], seq: table[at + 2] };
    verifyOrThrow(heap.u8(other.ptr, other.size), 0, other, `grow worker ${options.index}, heap view`);
  }
  port?.postMessage(held.report(options.index, 1, heap.memory.buffer.byteLength));
  gate.waitFor(1, options.waitMs);
  while (held.count > 0) {
    held.removeAt(held.count - 1, block);
    verifyOrThrow(payload.reaching(block.ptr + block.size), block.ptr, block, `grow worker ${options.index}`);
    heap.free(block.ptr);
  }
  heap.detach();
  port?.postMessage({ type: "done", index: options.index });
}

/** What the test thread asks of an `rpc` worker. */
export type RpcCommand =
  | { op: "call"; method: string; args: unknown[] }
  | { op: "fill"; ptr: number; size: number; seq: number }
  | { op: "verify"; ptr: number; size: number; seq: number }
  | { op: "attach" }
  | { op: "holdLock"; size: number }
  | { op: "spin"; size: number; flag: SharedArrayBuffer }
  | { op: "freeEach"; ptrs: number[]; gate: SharedArrayBuffer }
  | { op: "threadId" };

/** An {@link RpcCommand} with the id its reply carries. */
export type RpcRequest = RpcCommand & { id: number };

/** The answer to an {@link RpcRequest}. */
export type RpcReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: ErrorReport };

function runRpc(options: RpcData): void {
  const attach = (): SharedHeap => {
    const base = strategyByName(options.strategy);
    const strategy =
      options.holdLock === null
        ? base
        : lockHoldingStrategy(base, new Int32Array(options.holdLock.flag), options.holdLock.fromSize);
    return options.byDescriptor && options.holdLock === null
      ? attachHeap(options.memory, {
          strategy: strategyFromDescriptor,
          lockTimeout: options.lockTimeout,
          threadId,
        })
      : attachHeap(options.memory, { strategy, lockTimeout: options.lockTimeout, threadId });
  };
  let heap: SharedHeap | null = null;
  let payload: PayloadBytes | null = null;
  const current = (): { heap: SharedHeap; payload: PayloadBytes } => {
    if (heap === null || payload === null) throw new Error("rpc worker: not attached");
    return { heap, payload };
  };

  const answer = (request: RpcRequest): unknown => {
    switch (request.op) {
      case "attach":
        heap = attach();
        payload = new PayloadBytes(options.memory);
        return true;
      case "threadId":
        return threadId;
      case "fill":
        fillPattern(
          current().payload.reaching(request.ptr + request.size),
          request.ptr,
          request.size,
          request.seq,
        );
        return true;
      case "verify":
        return findPatternMismatch(
          current().payload.reaching(request.ptr + request.size),
          request.ptr,
          request.size,
          request.seq,
        );
      case "holdLock":
        return current().heap.malloc(request.size);
      case "spin": {
        // malloc and free one size forever: all cache hits, until the test thread terminates it
        const { heap } = current();
        const started = new Int32Array(request.flag);
        Atomics.store(started, 0, 1);
        Atomics.notify(started, 0);
        for (;;) heap.free(heap.malloc(request.size));
      }
      case "freeEach": {
        // waits for the test thread's go, so that workers given the same pointers race for them
        new Gate(request.gate).waitFor(1, 20_000);
        const { heap } = current();
        return request.ptrs.map((ptr) => {
          try {
            heap.free(ptr);
            return "freed";
          } catch (error) {
            return (error as { code?: string }).code ?? String(error);
          }
        });
      }
      case "call": {
        const target = current().heap as unknown as Record<string, (...args: unknown[]) => unknown>;
        const result = target[request.method](...request.args);
        return typeof result === "object" && result !== null && Symbol.iterator in result
          ? Array.from(result as Iterable<unknown>)
          : result;
      }
    }
  };

  port?.on("message", (request: RpcRequest) => {
    let reply: RpcReply;
    try {
      reply = { id: request.id, ok: true, value: answer(request) };
    } catch (error) {
      reply = { id: request.id, ok: false, error: describeError(error) };
    }
    port?.postMessage(reply);
  });
  port?.postMessage({ id: 0, ok: true, value: "ready" } satisfies RpcReply);
}

try {
  if (data.scenario === "stress") runStress(data);
  else if (data.scenario === "grow") runGrow(data);
  else runRpc(data);
} catch (error) {
  port.postMessage({ type: "failure", error: describeError(error) });
}
