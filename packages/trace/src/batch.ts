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

/** A new, empty batch with room for `capacity` events (their times NaN until set). */
export function createBatch(capacity = BATCH_EVENTS): EventBatch {
  return {
    length: 0,
    op: new Uint8Array(capacity),
    id: new Float64Array(capacity),
    slot: new Int32Array(capacity),
    size: new Float64Array(capacity),
    line: new Float64Array(capacity),
    time: new Float64Array(capacity).fill(Number.NaN),
  };
}

/**
 * Fills batches and hands each full one to a queue. Parsers push events; the reader drains
 * {@link BatchBuilder.full} after each chunk of input.
 */
export class BatchBuilder {
  /** Batches that are full and not yet handed on. */
  readonly full: EventBatch[] = [];
  /** The batch being filled (parsers with a fast path write its columns directly, then call {@link BatchBuilder.next}). */
  current: EventBatch;
  /** Batches handed back for reuse (see {@link BatchBuilder.recycle}). */
  private readonly spare: EventBatch[] = [];
  /** Events pushed so far. */
  events = 0;

  constructor(readonly capacity = BATCH_EVENTS) {
    this.current = createBatch(capacity);
    // The second batch is made now, not when the first is full: V8 generalizes the field types of the
    // batch's object literal when it is made the second time, and code optimized before that depends
    // on them — the .rep parser's optimized compile, under way when the first batch filled, was
    // thrown away ("dependency change") and done again, some 20–290 ms of V8's compiler thread.
    this.spare.push(createBatch(capacity));
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
    if (batch.length === this.capacity) this.next();
  }

  /** Queues the current batch (full, or filled as far as wanted) and starts a new one. */
  next(): EventBatch {
    this.full.push(this.current);
    const spare = this.spare.pop();
    if (spare !== undefined) spare.length = 0;
    this.current = spare ?? createBatch(this.capacity);
    return this.current;
  }

  /** Hands a batch back once its reader is done with it, to be filled again instead of a new one. */
  recycle(batch: EventBatch): void {
    if (batch.op.length === this.capacity && this.spare.length < 4) this.spare.push(batch);
  }

  /** Moves a partly filled batch to {@link BatchBuilder.full} (at the end of the input). */
  flush(): void {
    if (this.current.length > 0) this.next();
  }
}

/**
 * The most slots (and ids, for {@link IdSlotMap}) a table reserves ahead of use from a `.rep` header's
 * count of ids. A reservation costs address space only: typed arrays come zeroed from the system and a
 * page is touched (and paid for) only when an entry on it is first written, so a large reservation
 * costs what the entries in use touch. Past it, tables grow by doubling.
 */
export const MAX_RESERVED = 1 << 21;

/**
 * The blocks live at a point of a trace: slot of each live id, and per slot its id and size. Slots are
 * handed out from a free stack, so they stay dense.
 */
export class LiveTable {
  private readonly slotOf = new NumberMap();
  /** Slots freed and not yet reused; as long as {@link LiveTable.sizes}, so a free never makes it grow. */
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
  count = 0;

  /** Blocks live now. */
  get size(): number {
    return this.count;
  }

  /** The number of slots ever used (≥ the most blocks live at once). */
  get slotCount(): number {
    return this.nextSlot;
  }

  /**
   * Makes room for `slots` slots (at most {@link MAX_RESERVED}) before they are needed: a `.rep`
   * header's count of ids bounds the slots, and tables made to size never grow (no copies, and no
   * growth path met for the first time in the parser's optimized code).
   */
  reserve(slots: number): void {
    const capacity = Math.min(slots, MAX_RESERVED);
    if (capacity > this.sizes.length) this.resizeTo(capacity);
  }

  /** The slot of a live key, or -1 (for tables keyed by {@link LiveTable.add}). */
  get(key: number): number {
    return this.slotOf.get(key);
  }

  /** Makes `key` live with a block of `size` bytes, named `id`; returns its slot. */
  add(key: number, id: number, size: number): number {
    const slot = this.take(id, size);
    this.slotOf.set(key, slot);
    return slot;
  }

  /**
   * A slot for a new live block named `id` of `size` bytes, without recording a key (for callers
   * that map their keys to slots themselves, like the `.rep` parser's {@link IdSlotMap}).
   */
  take(id: number, size: number): number {
    const slot = this.takeUnnamed(size);
    if (slot >= this.ids.length) this.ids = grow(this.ids, this.sizes.length);
    this.ids[slot] = id;
    return slot;
  }

  /**
   * A slot for a new live block of `size` bytes whose id the caller keeps itself (the `.rep` parser:
   * its ids are its keys, so {@link LiveTable.ids} is never read and not written).
   */
  takeUnnamed(size: number): number {
    let slot: number;
    if (this.freeCount > 0) slot = this.freeSlots[--this.freeCount];
    else {
      slot = this.nextSlot++;
      if (slot >= this.sizes.length) this.resizeTo(Math.max(slot + 1, this.sizes.length * 2));
    }
    this.sizes[slot] = size;
    this.liveBytes += size;
    this.count++;
    return slot;
  }

  /** Moves a live block from key `from` to key `to` (a realloc that moved, in mtrace) with a new size. */
  rekey(from: number, to: number, slot: number, size: number): void {
    if (from !== to) {
      this.slotOf.delete(from);
      this.slotOf.set(to, slot);
    }
    this.resize(slot, size);
  }

  /** Sets the size of the live block in `slot`. */
  resize(slot: number, size: number): void {
    this.liveBytes += size - this.sizes[slot];
    this.sizes[slot] = size;
  }

  /** Frees the live block at `key` (whose slot is `slot`). */
  remove(key: number, slot: number): void {
    this.slotOf.delete(key);
    this.release(slot);
  }

  /** Frees the live block in `slot` (its key, if any, is the caller's to forget). */
  release(slot: number): void {
    this.liveBytes -= this.sizes[slot];
    this.count--;
    this.freeSlots[this.freeCount++] = slot;
  }

  /** Grows the tables of every slot; {@link LiveTable.ids} follows in `take`, when used (a .rep never does). */
  private resizeTo(capacity: number): void {
    this.sizes = grow(this.sizes, capacity);
    const freeSlots = new Int32Array(capacity);
    freeSlots.set(this.freeSlots.subarray(0, this.freeCount));
    this.freeSlots = freeSlots;
  }
}

const PAGE_BITS = 8;
const PAGE_IDS = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_IDS - 1;

/**
 * Slots of live `.rep` ids (non-negative integers below 2^31) without hashing: ids are cut into pages
 * of 256; a page of slots exists only while one of its ids is live and goes back to a pool when its
 * last one is freed. A lookup is two array reads and no branch on the page: the pool's page 0 stays
 * empty, and an id whose page has no slots reads it. Entries hold slot + 1 (0: not live), so the pool
 * needs no filling and a page reserved ahead is not touched until used. Memory follows the pages with
 * a live id (for the usual traces, whose ids are handed out in order, a few pages around the newest ids
 * and the long-lived blocks) plus one int per 256 ids of the page directory — flat in the trace's
 * length to within 1/64 of a table indexed by id.
 */
export class IdSlotMap {
  /** Per page of ids: the offset of its slots in {@link IdSlotMap.pool}, or 0 (the empty page). */
  private pageAt = new Int32Array(256);
  /** Pages of slots + 1 (0: not live); page 0 is always empty. */
  private pool = new Int32Array(16 * PAGE_IDS);
  /** Live ids per pool page. */
  private liveIn = new Int32Array(16);
  private freePages = new Int32Array(16);
  private freePageCount = 0;
  private poolPages = 1;

  /**
   * Makes room for ids below `ids` (at most {@link MAX_RESERVED}) before they come: a `.rep` header
   * says how many ids its trace uses. Costs address space; pages are touched as they are used.
   */
  reserve(ids: number): void {
    const pages = Math.ceil(Math.min(ids, MAX_RESERVED) / PAGE_IDS) + 1;
    if (pages > this.pageAt.length) this.pageAt = growI32(this.pageAt, pages);
    if (pages > this.liveIn.length) this.growPool(pages);
  }

  /** The slot of live `id`, or -1. */
  get(id: number): number {
    const page = id >>> PAGE_BITS;
    if (page >= this.pageAt.length) return -1;
    return this.pool[this.pageAt[page] + (id & PAGE_MASK)] - 1;
  }

  /** Records that `id` (not live) now lives in `slot`. */
  set(id: number, slot: number): void {
    const page = id >>> PAGE_BITS;
    if (page >= this.pageAt.length) {
      this.pageAt = growI32(this.pageAt, Math.max(page + 1, this.pageAt.length * 2));
    }
    let at = this.pageAt[page];
    if (at === 0) {
      at = this.newPage();
      this.pageAt[page] = at;
    }
    this.pool[at + (id & PAGE_MASK)] = slot + 1;
    this.liveIn[at >>> PAGE_BITS]++;
  }

  /** Forgets live `id`. */
  delete(id: number): void {
    const page = id >>> PAGE_BITS;
    const at = this.pageAt[page];
    this.pool[at + (id & PAGE_MASK)] = 0;
    if (--this.liveIn[at >>> PAGE_BITS] === 0) {
      this.pageAt[page] = 0;
      this.freePages[this.freePageCount++] = at;
    }
  }

  private newPage(): number {
    if (this.freePageCount > 0) return this.freePages[--this.freePageCount];
    const index = this.poolPages++;
    if (index >= this.liveIn.length) this.growPool(this.liveIn.length * 2);
    return index << PAGE_BITS;
  }

  private growPool(pages: number): void {
    this.pool = growI32(this.pool, pages * PAGE_IDS);
    this.liveIn = growI32(this.liveIn, pages);
    this.freePages = growI32(this.freePages, pages);
  }
}

function growI32(array: Int32Array, capacity: number): Int32Array<ArrayBuffer> {
  const larger = new Int32Array(capacity);
  larger.set(array);
  return larger;
}

function grow(array: Float64Array, capacity: number): Float64Array<ArrayBuffer> {
  const larger = new Float64Array(capacity);
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
