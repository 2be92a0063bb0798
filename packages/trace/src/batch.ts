/**
 * Events in bulk: a trace is read into {@link EventBatch}es — columns of typed arrays — so the replay
 * loop touches no per-event object. Each event also carries a dense *slot*: a small integer that is
 * unique among the live blocks and reused after a free, so tables indexed by slot stay as small as the
 * most blocks ever live at once, whatever the trace's length.
 *
 * @module
 */

/** Event kinds as stored in {@link EventBatch.op}. */
export const Op = { Alloc: 0, Free: 1, Realloc: 2 } as const;
/** One of the {@link Op} codes. */
export type Op = (typeof Op)[keyof typeof Op];

/** Events per batch a reader fills before handing it on. */
export const BATCH_EVENTS = 16384;

/** A run of trace events, column by column. Rows `0 … length−1` are valid. */
export interface EventBatch {
  /** How many events the batch holds. */
  length: number;
  /** {@link Op} code of each event. */
  readonly op: Uint8Array;
  /** The trace's id of each event's block. */
  readonly id: Float64Array;
  /** The block's dense slot: unique among live blocks, reused after a free, below the peak live count. */
  readonly slot: Int32Array;
  /** Bytes asked for (alloc and realloc); 0 for a free. */
  readonly size: Float64Array;
  /** The 1-based line of the trace file the event came from. */
  readonly line: Float64Array;
  /** The event's time stamp where the trace has one, NaN otherwise. */
  readonly time: Float64Array;
}

/** A new, empty batch with room for `capacity` events. */
export function createBatch(capacity = BATCH_EVENTS): EventBatch {
  return {
    length: 0,
    op: new Uint8Array(capacity),
    id: new Float64Array(capacity),
    slot: new Int32Array(capacity),
    size: new Float64Array(capacity),
    line: new Float64Array(capacity),
    time: new Float64Array(capacity),
  };
}

/**
 * Fills batches and hands each full one to a queue. Parsers push events; the reader drains
 * {@link BatchBuilder.full} after each chunk of input.
 */
export class BatchBuilder {
  /** Batches that are full and not yet handed on. */
  readonly full: EventBatch[] = [];
  private current: EventBatch;
  /** Events pushed so far. */
  events = 0;

  constructor(private readonly capacity = BATCH_EVENTS) {
    this.current = createBatch(capacity);
  }

  /** Appends one event. */
  push(op: Op, id: number, slot: number, size: number, line: number, time = Number.NaN): void {
    const batch = this.current;
    const i = batch.length;
    batch.op[i] = op;
    batch.id[i] = id;
    batch.slot[i] = slot;
    batch.size[i] = size;
    batch.line[i] = line;
    batch.time[i] = time;
    batch.length = i + 1;
    this.events++;
    if (batch.length === this.capacity) {
      this.full.push(batch);
      this.current = createBatch(this.capacity);
    }
  }

  /** Moves a partly filled batch to {@link BatchBuilder.full} (at the end of the input). */
  flush(): void {
    if (this.current.length > 0) {
      this.full.push(this.current);
      this.current = createBatch(this.capacity);
    }
  }
}

/**
 * The blocks live at a point of a trace: slot of each live id, and per slot its id and size. Slots are
 * handed out from a free stack, so they stay dense.
 */
export class LiveTable {
  private readonly slotOf = new NumberMap();
  private freeSlots = new Int32Array(64);
  private freeCount = 0;
  private nextSlot = 0;
  /** The id held by each slot. */
  ids = new Float64Array(64);
  /** The size of the block in each slot. */
  sizes = new Float64Array(64);
  /** Payload bytes live now. */
  liveBytes = 0;

  /** Blocks live now. */
  get size(): number {
    return this.slotOf.size;
  }

  /** The number of slots ever used (≥ the most blocks live at once). */
  get slotCount(): number {
    return this.nextSlot;
  }

  /** The slot of a live key, or -1. */
  get(key: number): number {
    return this.slotOf.get(key);
  }

  /** Makes `key` live with a block of `size` bytes, named `id`; returns its slot. */
  add(key: number, id: number, size: number): number {
    let slot: number;
    if (this.freeCount > 0) slot = this.freeSlots[--this.freeCount];
    else {
      slot = this.nextSlot++;
      if (slot >= this.ids.length) {
        this.ids = grow(this.ids, slot + 1);
        this.sizes = grow(this.sizes, slot + 1);
      }
    }
    this.slotOf.set(key, slot);
    this.ids[slot] = id;
    this.sizes[slot] = size;
    this.liveBytes += size;
    return slot;
  }

  /** Moves a live block from key `from` to key `to` (a realloc that moved, in mtrace) with a new size. */
  rekey(from: number, to: number, slot: number, size: number): void {
    if (from !== to) {
      this.slotOf.delete(from);
      this.slotOf.set(to, slot);
    }
    this.liveBytes += size - this.sizes[slot];
    this.sizes[slot] = size;
  }

  /** Frees the live block at `key` (whose slot is `slot`). */
  remove(key: number, slot: number): void {
    this.slotOf.delete(key);
    this.liveBytes -= this.sizes[slot];
    if (this.freeCount === this.freeSlots.length) {
      const larger = new Int32Array(this.freeSlots.length * 2);
      larger.set(this.freeSlots);
      this.freeSlots = larger;
    }
    this.freeSlots[this.freeCount++] = slot;
  }
}

function grow(array: Float64Array, min: number): Float64Array<ArrayBuffer> {
  const larger = new Float64Array(Math.max(min, array.length * 2));
  larger.set(array);
  return larger;
}

const EMPTY = -1;

/**
 * A hash map from non-negative integer keys (below 2^53: ids, or mtrace's pointers) to non-negative
 * int32 values, in typed arrays: open addressing, linear probing, deletion by backward shift. Much
 * faster than a `Map` for this, and it allocates nothing per entry.
 */
export class NumberMap {
  private keys = new Float64Array(1024).fill(EMPTY);
  private values = new Int32Array(1024);
  private mask = 1023;
  /** Entries held. */
  size = 0;

  private home(key: number): number {
    const h = Math.imul((key >>> 0) ^ Math.imul((key / 4294967296) | 0, 0x85ebca6b), 0x9e3779b1);
    return (h ^ (h >>> 15)) & this.mask;
  }

  /** The value of `key`, or -1. */
  get(key: number): number {
    const keys = this.keys;
    let i = this.home(key);
    for (;;) {
      const k = keys[i];
      if (k === key) return this.values[i];
      if (k === EMPTY) return -1;
      i = (i + 1) & this.mask;
    }
  }

  /** Sets `key` to `value` (a non-negative int32). */
  set(key: number, value: number): void {
    const keys = this.keys;
    let i = this.home(key);
    for (;;) {
      const k = keys[i];
      if (k === key) {
        this.values[i] = value;
        return;
      }
      if (k === EMPTY) break;
      i = (i + 1) & this.mask;
    }
    keys[i] = key;
    this.values[i] = value;
    if (++this.size * 2 > keys.length) this.rehash(keys.length * 2);
  }

  /** Removes `key` if present. */
  delete(key: number): void {
    const keys = this.keys;
    const values = this.values;
    const mask = this.mask;
    let i = this.home(key);
    for (;;) {
      const k = keys[i];
      if (k === key) break;
      if (k === EMPTY) return;
      i = (i + 1) & mask;
    }
    this.size--;
    // backward shift: pull later entries of the cluster into the hole when their home allows it
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const k = keys[j];
      if (k === EMPTY) break;
      const h = this.home(k);
      const stays = i <= j ? h > i && h <= j : h > i || h <= j;
      if (!stays) {
        keys[i] = k;
        values[i] = values[j];
        i = j;
      }
    }
    keys[i] = EMPTY;
  }

  private rehash(capacity: number): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    this.keys = new Float64Array(capacity).fill(EMPTY);
    this.values = new Int32Array(capacity);
    this.mask = capacity - 1;
    this.size = 0;
    for (let i = 0; i < oldKeys.length; i++) {
      if (oldKeys[i] !== EMPTY) this.set(oldKeys[i], oldValues[i]);
    }
  }
}
