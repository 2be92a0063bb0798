/**
 * A Web Worker on the page's shared heap: attaches to the SharedArrayBuffer it is sent, runs random
 * malloc/realloc/free with every payload patterned and verified before it is freed, then hands the
 * blocks it still holds to the page, which passes them to the other worker to free.
 */
import { attachHeap } from "@heapkit/heap";
import { tlsf } from "@heapkit/strategies";
import { type FreeRequest, patternByte, type RunRequest, type WorkerMessage } from "./messages.js";

type SharedHeap = ReturnType<typeof attachHeap>;

let heap: SharedHeap | null = null;
let index = -1;

function post(message: WorkerMessage): void {
  postMessage(message);
}

/** A fixed-length view: one over the growable buffer that tracks its length is far slower per access. */
function bytes(): Uint8Array {
  if (heap === null) throw new Error("not attached");
  const buffer = heap.memory.buffer;
  return new Uint8Array(buffer, 0, buffer.byteLength);
}

function fill(ptr: number, size: number, seq: number): void {
  const view = bytes();
  for (let i = 0; i < size; i++) view[ptr + i] = patternByte(seq, i);
}

function verify(ptr: number, size: number, seq: number, what: string): void {
  const view = bytes();
  for (let i = 0; i < size; i++) {
    if (view[ptr + i] !== patternByte(seq, i)) {
      throw new Error(`${what}: block ${ptr} (size ${size}, seq ${seq}) overwritten at byte ${i}`);
    }
  }
}

function run(request: RunRequest): void {
  index = request.index;
  const shared = attachHeap(request.memory, { strategy: tlsf() });
  heap = shared;
  let state = (request.seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  const random = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  const ptrs: number[] = [];
  const sizes: number[] = [];
  const seqs: number[] = [];
  let nextSeq = index * 2 ** 26 + 1;
  for (let op = 0; op < request.ops; op++) {
    const r = random();
    const size = 1 + Math.floor(random() * (random() < 0.9 ? 256 : 4096));
    if (ptrs.length === 0 || (r < 0.5 && ptrs.length < 1000)) {
      const ptr = shared.malloc(size);
      const seq = nextSeq++;
      fill(ptr, size, seq);
      ptrs.push(ptr);
      sizes.push(size);
      seqs.push(seq);
    } else {
      const at = Math.floor(random() * ptrs.length);
      verify(ptrs[at], sizes[at], seqs[at], `worker ${index}`);
      if (r < 0.6) {
        const ptr = shared.realloc(ptrs[at], size);
        verify(ptr, Math.min(size, sizes[at]), seqs[at], `worker ${index}, realloc`);
        const seq = nextSeq++;
        fill(ptr, size, seq);
        ptrs[at] = ptr;
        sizes[at] = size;
        seqs[at] = seq;
      } else {
        shared.free(ptrs[at]);
        const last = ptrs.length - 1;
        ptrs[at] = ptrs[last];
        sizes[at] = sizes[last];
        seqs[at] = seqs[last];
        ptrs.pop();
        sizes.pop();
        seqs.pop();
      }
    }
  }
  const blocks = new Int32Array(ptrs.length * 3);
  for (let i = 0; i < ptrs.length; i++) blocks.set([ptrs[i], sizes[i], seqs[i]], i * 3);
  post({ type: "held", index, blocks, ops: request.ops });
}

function freeHanded(request: FreeRequest): void {
  if (heap === null) throw new Error("not attached");
  for (let i = 0; i < request.blocks.length; i += 3) {
    const [ptr, size, seq] = request.blocks.subarray(i, i + 3);
    verify(ptr, size, seq, `worker ${index}, handed block`);
    heap.free(ptr);
  }
  heap.detach();
  post({ type: "done", index, freed: request.blocks.length / 3 });
}

addEventListener("message", (event: MessageEvent<RunRequest | FreeRequest>) => {
  try {
    if (event.data.type === "run") run(event.data);
    else freeHanded(event.data);
  } catch (error) {
    post({
      type: "failure",
      index,
      message: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
  }
});
