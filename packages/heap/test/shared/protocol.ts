/**
 * What the shared-heap tests and their workers both use: a seeded random source, the payload
 * pattern, a single-producer single-consumer ring in a SharedArrayBuffer for handing blocks to
 * another worker, and a barrier. Everything here is plain Atomics over shared memory, so it runs
 * the same in worker_threads and in browser Web Workers.
 */

/** mulberry32: a small seeded generator, so a failing run is repeated by its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The byte at `index` of the payload of allocation `seq`. Sequence numbers are unique across all
 * workers of a run, so a block that another allocation overlaps, or that the heap hands out twice,
 * shows another pattern when it is verified.
 */
function patternByte(seq: number, index: number): number {
  const mixed = Math.imul(seq ^ 0x5bd1e995, 0x9e3779b1) >>> 0;
  return ((mixed >>> ((index & 3) << 3)) + index) & 0xff;
}

/** Fills `size` bytes at `ptr` with the pattern of allocation `seq`. */
export function fillPattern(bytes: Uint8Array, ptr: number, size: number, seq: number): void {
  for (let i = 0; i < size; i++) bytes[ptr + i] = patternByte(seq, i);
}

/** The first index in `[0, size)` where the bytes at `ptr` differ from the pattern of `seq`, or -1. */
export function findPatternMismatch(bytes: Uint8Array, ptr: number, size: number, seq: number): number {
  for (let i = 0; i < size; i++) if (bytes[ptr + i] !== patternByte(seq, i)) return i;
  return -1;
}

/** One block handed from one worker to another: where it is, the size asked, and its pattern. */
export interface HandedBlock {
  ptr: number;
  size: number;
  seq: number;
}

const HEAD = 0; // next slot the consumer reads
const TAIL = 1; // next slot the producer writes
const RING_HEADER = 2;
const ENTRY_WORDS = 3;

/**
 * A single-producer single-consumer ring of {@link HandedBlock}s. The producer writes an entry's
 * words, then publishes it with an atomic store of the tail; the consumer reads the tail atomically
 * before the words, so it never sees a half-written entry.
 */
export class HandoffRing {
  private readonly words: Int32Array;
  private readonly capacity: number;

  constructor(buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer);
    this.capacity = (this.words.length - RING_HEADER) / ENTRY_WORDS;
  }

  static bytesFor(capacity: number): number {
    return (RING_HEADER + capacity * ENTRY_WORDS) * Int32Array.BYTES_PER_ELEMENT;
  }

  /** Adds a block; false when the ring is full (the producer then frees the block itself). */
  push(block: HandedBlock): boolean {
    const tail = Atomics.load(this.words, TAIL);
    if (tail - Atomics.load(this.words, HEAD) === this.capacity) return false;
    const at = RING_HEADER + (tail % this.capacity) * ENTRY_WORDS;
    this.words[at] = block.ptr;
    this.words[at + 1] = block.size;
    this.words[at + 2] = block.seq;
    Atomics.store(this.words, TAIL, tail + 1);
    return true;
  }

  /** Takes the oldest block into `into`; false when the ring is empty. */
  pop(into: HandedBlock): boolean {
    const head = Atomics.load(this.words, HEAD);
    if (head === Atomics.load(this.words, TAIL)) return false;
    const at = RING_HEADER + (head % this.capacity) * ENTRY_WORDS;
    into.ptr = this.words[at];
    into.size = this.words[at + 1];
    into.seq = this.words[at + 2];
    Atomics.store(this.words, HEAD, head + 1);
    return true;
  }

  /** Blocks in the ring now. */
  get length(): number {
    return Atomics.load(this.words, TAIL) - Atomics.load(this.words, HEAD);
  }
}

const ARRIVED = 0;
const GENERATION = 1;

/** A reusable barrier for `parties` workers, in two words of a SharedArrayBuffer. */
export class Barrier {
  private readonly words: Int32Array;

  constructor(
    buffer: SharedArrayBuffer,
    private readonly parties: number,
  ) {
    this.words = new Int32Array(buffer, 0, 2);
  }

  static readonly bytes = 2 * Int32Array.BYTES_PER_ELEMENT;

  /**
   * Waits until every party has arrived. Throws after `timeoutMs`, so that a worker that died
   * turns into a failure instead of a hang.
   */
  arrive(timeoutMs: number): void {
    const generation = Atomics.load(this.words, GENERATION);
    if (Atomics.add(this.words, ARRIVED, 1) + 1 === this.parties) {
      Atomics.store(this.words, ARRIVED, 0);
      Atomics.add(this.words, GENERATION, 1);
      Atomics.notify(this.words, GENERATION);
      return;
    }
    const deadline = Date.now() + timeoutMs;
    while (Atomics.load(this.words, GENERATION) === generation) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`barrier: waited ${timeoutMs} ms for ${this.parties} parties`);
      Atomics.wait(this.words, GENERATION, generation, left);
    }
  }
}

/**
 * A counter the test thread bumps to let waiting workers go on (the test thread itself never
 * blocks: it stores and notifies, the workers wait).
 */
export class Gate {
  private readonly words: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer, 0, 1);
  }

  static readonly bytes = Int32Array.BYTES_PER_ELEMENT;

  /** Lets every worker waiting for `generation` or less go on. */
  open(generation: number): void {
    Atomics.store(this.words, 0, generation);
    Atomics.notify(this.words, 0);
  }

  /** Waits until the gate is opened to `generation` or beyond; throws after `timeoutMs`. */
  waitFor(generation: number, timeoutMs: number): void {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const now = Atomics.load(this.words, 0);
      if (now >= generation) return;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`gate: waited ${timeoutMs} ms for generation ${generation}`);
      Atomics.wait(this.words, 0, now, left);
    }
  }
}

/** Sizes as programs ask for them: mostly small, some medium, a few large enough to make the heap grow. */
export function randomSize(random: () => number): number {
  const r = random();
  if (r < 0.7) return 1 + Math.floor(random() * 128);
  if (r < 0.95) return 129 + Math.floor(random() * 1920);
  return 2049 + Math.floor(random() * 14336);
}
