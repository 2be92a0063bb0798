/**
 * One worker of a multi-worker cell (a `worker_threads` worker of multi-worker-cell.ts): it attaches
 * to the shared heap, waits for the start signal, replays its share of the split workload (see
 * worker-split.ts), hands one free in four to the next worker through a queue in shared memory, and
 * frees what the worker before it hands over.
 *
 * A producer that finds the next worker's ring full drains its own ring while it waits, so no cycle of
 * full rings can stall.
 *
 * @module
 */
import { parentPort, workerData } from "node:worker_threads";
import { attachHeap } from "@heapkit/heap";
import { strategyByName } from "@heapkit/strategies";
import {
  type AllocatorKind,
  CONTROL,
  type RanMessage,
  RING_ENTRIES,
  RING_ENTRY,
  RING_HEAD,
  RING_TAIL,
  RING_WORDS,
  type RunMessage,
  type WorkerSetup,
} from "./multi-worker-protocol.js";
import { OP_ALLOC, OP_FREE } from "./workload-format.js";

/** The calls the replay makes, whatever the allocator. */
interface Allocator {
  malloc(size: number): number;
  free(ptr: number): void;
  /** Lets go of the heap after a run (heapkit: detach, which flushes this worker's cache). */
  release(): void;
}

/** The part of @daneren2005/shared-memory-objects the bench drives: its per-buffer allocator. */
interface SmoBuffer {
  malloc(bytes: number): number;
  free(ptr: number): void;
}
interface SmoModule {
  MemoryHeap: new (memory: { buffers: SharedArrayBuffer[] }) => { buffers: SmoBuffer[] };
}

/** shared-memory-objects' pointers: 12 bits of buffer index, 20 bits of offset in that buffer. */
const SMO_POSITION_BITS = 12;
const SMO_POSITION_MASK = (1 << SMO_POSITION_BITS) - 1;

async function openAllocator(kind: AllocatorKind, memory: RunMessage["memory"]): Promise<Allocator> {
  if (kind.kind === "heapkit") {
    const heap = attachHeap(memory as SharedArrayBuffer, { strategy: strategyByName(kind.strategy) });
    return {
      malloc: (size) => heap.tryMalloc(size),
      free: (ptr) => heap.free(ptr),
      release: () => heap.detach(),
    };
  }
  const smo = (await import(kind.bundle)) as SmoModule;
  const buffers = new smo.MemoryHeap({ buffers: memory as SharedArrayBuffer[] }).buffers;
  // as MemoryHeap.allocUI32 does: the first buffer with room, from the first on; never a new buffer,
  // which a worker could not share (the peer grows only from the thread that made the heap)
  return {
    malloc(size) {
      for (let i = 0; i < buffers.length; i++) {
        const offset = buffers[i].malloc(size);
        if (offset !== 0) return i | (offset << SMO_POSITION_BITS);
      }
      return 0;
    },
    free(ptr) {
      buffers[ptr & SMO_POSITION_MASK].free(ptr >>> SMO_POSITION_BITS);
    },
    release() {},
  };
}

const setup = workerData as WorkerSetup;
const port = parentPort;
if (port === null) throw new Error("multi-worker-thread runs as a worker thread");
if (setup.allocator.kind === "shared-memory-objects") {
  // its lock sleeps with Atomics.wait in a worker (as in a browser's) and spins elsewhere
  const scope = globalThis as { self?: unknown; WorkerGlobalScope?: unknown };
  scope.self = globalThis;
  scope.WorkerGlobalScope = class WorkerGlobalScope {};
}
const control = new Int32Array(setup.control);
const rings = new Int32Array(setup.rings);
const k = setup.index;
const n = setup.workers;
const own = k * RING_WORDS;
const next = ((k + 1) % n) * RING_WORDS;
const producer = (k + n - 1) % n;
const { ops, sizes } = setup.share;
const ptrs = new Int32Array(Math.max(1, setup.share.slots));

/** One run: attach, wait for GO, replay the share and the hand-offs, count DONE; returns how far it got. */
async function run(msg: RunMessage): Promise<number> {
  const a = await openAllocator(setup.allocator, msg.memory);
  const drain = (): void => {
    const head = Atomics.load(rings, own + RING_HEAD);
    const tail = Atomics.load(rings, own + RING_TAIL);
    for (let i = head; i !== tail; i = (i + 1) | 0)
      a.free(rings[own + RING_ENTRY + (i & (RING_ENTRIES - 1))]);
    Atomics.store(rings, own + RING_HEAD, tail);
  };
  const handOff = (ptr: number): void => {
    let tail = Atomics.load(rings, next + RING_TAIL);
    while (((tail - Atomics.load(rings, next + RING_HEAD)) | 0) >= RING_ENTRIES) {
      drain();
      tail = Atomics.load(rings, next + RING_TAIL);
    }
    rings[next + RING_ENTRY + (tail & (RING_ENTRIES - 1))] = ptr;
    Atomics.store(rings, next + RING_TAIL, (tail + 1) | 0);
  };
  const generation = Atomics.load(control, CONTROL.GO);
  Atomics.add(control, CONTROL.READY, 1);
  Atomics.notify(control, CONTROL.READY);
  Atomics.wait(control, CONTROL.GO, generation);

  let i = 0;
  const limit = msg.limit;
  while (i < limit) {
    const end = Math.min(limit, i + 256);
    for (; i < end; i++) {
      const op = ops[i];
      const kind = op & 3;
      const slot = op >>> 2;
      if (kind === OP_ALLOC) {
        const p = a.malloc(sizes[i]);
        if (p === 0) throw new Error(`worker ${k}: out of memory at op ${i} (size ${sizes[i]})`);
        ptrs[slot] = p;
      } else if (kind === OP_FREE) {
        a.free(ptrs[slot]);
      } else {
        handOff(ptrs[slot]);
      }
    }
    drain();
    if (Atomics.load(control, CONTROL.STOP) !== 0) break;
  }
  Atomics.store(control, CONTROL.FINISHED + k, 1);
  // every block the worker before hands over is freed here: its FINISHED comes after its last hand-off
  for (;;) {
    if (Atomics.load(control, CONTROL.FAILED) !== 0)
      throw new Error(`worker ${k}: stopped, another worker failed`);
    const finished = Atomics.load(control, CONTROL.FINISHED + producer) !== 0;
    drain();
    if (finished && Atomics.load(rings, own + RING_HEAD) === Atomics.load(rings, own + RING_TAIL)) break;
  }
  Atomics.add(control, CONTROL.DONE, 1);
  Atomics.notify(control, CONTROL.DONE);
  // untimed: free what a prefix left live, so that the next run starts from an empty heap
  const live = new Uint8Array(ptrs.length);
  for (let j = 0; j < i; j++) live[ops[j] >>> 2] = (ops[j] & 3) === OP_ALLOC ? 1 : 0;
  for (let s = 0; s < live.length; s++) if (live[s] === 1) a.free(ptrs[s]);
  a.release();
  return i;
}

port.on("message", (msg: RunMessage) => {
  run(msg).then(
    (progress) => port.postMessage({ progress } satisfies RanMessage),
    (e: unknown) => {
      // counted READY and DONE too, so that a failure before the start does not leave the cell waiting
      Atomics.store(control, CONTROL.FAILED, 1);
      Atomics.add(control, CONTROL.READY, 1);
      Atomics.notify(control, CONTROL.READY);
      Atomics.add(control, CONTROL.DONE, 1);
      Atomics.notify(control, CONTROL.DONE);
      port.postMessage({
        error: e instanceof Error ? (e.stack ?? e.message) : String(e),
      } satisfies RanMessage);
    },
  );
});
