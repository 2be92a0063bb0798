/**
 * Where a heap keeps its own state: in its memory, before the region its strategy manages, so that
 * the buffer alone is the heap — a copy of it is a snapshot, and any worker that is handed it can
 * attach and get the same heap.
 *
 * ```
 *  0      base                                                                  regionBase          brk       limit
 *  | null | control block | worker slot 0 | slot 1 | … | pointer map            | strategy's region   |  may grow |
 *  | wasm | 512 bytes     | figures, front cache       | 1 bit per `align` bytes | (its metadata, then |  to here  |
 *  | data |               | (SLOT_BYTES each)          | of [0, limit)           |  its blocks)        |           |
 *
 *  control block (32-bit words from `base`; f64 figures from byte 128; descriptor text from byte 160)
 *   line 0, read by every call, written only on attach, detach and growth:
 *    0 MAGIC "hpk1": a heap lives here   1 LAYOUT_VERSION   2 ALIGN 8 or 16   3 FLAGS THREAD_SAFE | FRONT_CACHE
 *    4 LIMIT the region may never pass it   5 REGION_BASE first byte of the strategy's region
 *    6 BRK the region's end (exclusive)   7 MAP_OFFSET   8 MAP_BYTES   9 SLOTS_OFFSET   10 SLOT_COUNT
 *    11 SLOT_BYTES   12 OWNER unshared memory: the token of the heap object whose mirror is current
    14 ATTACHED workers attached now   15 ATTACH_EPOCH +1 at every attach and detach
 *   line 1, written under contention:
 *    16 DESCRIPTOR_BYTES   17 CACHE_CLASSES   18 CACHE_DEPTH   19 FAILED allocations that found no room
 *    24 LOCK 0 free, 1 held, 2 held + waiters   25 LOCK_HOLDER slot + 1 of the holder, 0 if none
 *   f64 from byte 128: PEAK_LIVE_BLOCKS, PEAK_LIVE_BYTES, PEAK_BRK
 *   bytes 160–415: the strategy descriptor (JSON); bytes 416–511: CLASS_OF_REQUEST, one byte a class
 *
 *  worker slot (one per attached worker; a heap used by one thread has one), from a cache line's start
 *  and a whole number of lines long, so that no two workers write the same line
 *   word 0 STATE (0 free, 1 attached)   1 SLOT_LOCK   2 THREAD (the id it attached with)   (3 unused)
 *        4 SLOT_LOCK_HOLDER (slot + 1 of another worker holding SLOT_LOCK; 0: the owner)
 *        5 CACHED_BYTES usable bytes of the blocks in this slot's cache (at most CACHE_MAX_BYTES)
 *   f64 from byte 32: MALLOCS FREES REALLOCS LIVE_BYTES (live blocks are MALLOCS − FREES; cached ones are
 *                     counted from the front cache itself)
 *   from byte 128:    counts[CACHE_CLASSES]               entries of each front-cache class
 *                     entries[CACHE_CLASSES][CACHE_DEPTH] a LIFO stack per class; an entry of an exact
 *                     class is the payload pointer with the usable size's low bits (u mod align) in its
 *                     own low bits, the class giving the rest, so one word says both; an entry of a
 *                     wider class is the pointer alone, and the strategy says its size
 * ```
 *
 * Invariants (checked by `Heap.check`):
 * 1. Below BRK, a pointer-map bit is set exactly for the payload of each live block. Bits at or
 *    above BRK mean nothing and are never read: the region's growth clears the bits it brings below
 *    BRK, so a heap formatted over used memory clears only the map words below its region, not the
 *    whole map (32 MiB for a 2 GiB limit).
 * 2. A block the strategy counts as used is either live (its bit set) or in exactly one front-cache
 *    entry, never both.
 * 3. The sum over all slots of LIVE_BLOCKS / LIVE_BYTES is the live blocks / bytes (over unshared
 *    memory, once the owner has written its figures back: see C_OWNER), and of
 *    CACHED_BLOCKS / CACHED_BYTES the cached ones. A block freed by another worker than the one that
 *    made it moves one slot's count down and another's up: only the sums mean anything.
 * 4. A front-cache entry of class c holds a block whose usable size maps to c (CACHE_EXACT_CLASSES
 *    below), so it fits every request that maps to c.
 *
 * @module
 */

/** "hpk1" read as a little-endian word. */
export const HEAP_MAGIC = 0x316b_7068;
/**
 * The layout described above. An attach to another version is refused. Version 2: pointer-map bits
 * at or above BRK are no longer kept clear (invariant 1).
 */
export const LAYOUT_VERSION = 2;

/** Bytes of the control block. */
export const CONTROL_BYTES = 512;

// control block: 32-bit word indices, relative to `base >> 2`
export const C_MAGIC = 0;
export const C_LAYOUT_VERSION = 1;
export const C_ALIGN = 2;
export const C_FLAGS = 3;
export const C_LIMIT = 4;
export const C_REGION_BASE = 5;
export const C_BRK = 6;
export const C_MAP_OFFSET = 7;
export const C_MAP_BYTES = 8;
export const C_SLOTS_OFFSET = 9;
export const C_SLOT_COUNT = 10;
export const C_SLOT_BYTES = 11;
/**
 * Over unshared memory, the token of the heap object that owns the heap: the last to run a call
 * here. The owner keeps the break (written through) and the figures, peaks and its front cache
 * (written back at the end of the task, and before stats, check, snapshot and detach) in plain
 * memory; another object asks it to write back, then reads them from the buffer and writes its own
 * token here. At the end of its task the owner writes back and gives the heap up: −token, which lets
 * its next call take the heap again in one word if no other object took it meanwhile; 0 after a
 * restore or detach.
 */
export const C_OWNER = 12;
/** The heap lock and its holder sit in the control block's second cache line, away from the words every call reads. */
export const C_LOCK = 24;
export const C_LOCK_HOLDER = 25;
export const C_ATTACHED = 14;
export const C_ATTACH_EPOCH = 15;
export const C_DESCRIPTOR_BYTES = 16;
export const C_CACHE_CLASSES = 17;
export const C_CACHE_DEPTH = 18;
/** Allocations that found no room, every worker's: the one word a rejected call writes. */
export const C_FAILED = 19;

/**
 * Byte offset, from a heap's `base`, of its count of failed allocations: the only word of the heap
 * that a rejected call (out of memory) writes.
 */
export const FAILED_COUNT_OFFSET = C_FAILED * 4;

// control block: f64 indices, relative to `(base + 128) >> 3`
export const CF_OFFSET = 128;
export const CF_PEAK_LIVE_BLOCKS = 0;
export const CF_PEAK_LIVE_BYTES = 1;
export const CF_PEAK_BRK = 2;

/** Where the strategy descriptor (JSON text) starts, and the most bytes it may take. */
export const DESCRIPTOR_OFFSET = 160;
export const DESCRIPTOR_MAX_BYTES = 256;
/**
 * One byte per front-cache class, from this byte of the control block: the lowest class the
 * strategy's blocks for requests of that class were seen to fall in (0: none seen yet). A strategy
 * that rounds coarsely (buddy's powers of two, pymalloc's 16-byte classes) files a freed block in a
 * class above its request's, and a malloc looks there.
 */
export const CLASS_OF_REQUEST_OFFSET = DESCRIPTOR_OFFSET + DESCRIPTOR_MAX_BYTES;

/** FLAGS: the memory is shared between threads: every call goes through atomics and the lock. */
export const FLAG_THREAD_SAFE = 1;
/** FLAGS: freed small blocks go to the worker's front cache. */
export const FLAG_FRONT_CACHE = 2;

// worker slot: 32-bit word indices relative to the slot's first word
export const S_STATE = 0;
export const S_LOCK = 1;
export const S_THREAD = 2;
/** Slot + 1 of a worker other than the owner holding SLOT_LOCK (stats, check, a flush); 0 when it is the owner. */
export const S_LOCK_HOLDER = 4;
export const S_CACHED_BYTES = 5;
/** f64 figures of a slot start at this byte of the slot. */
export const SF_OFFSET = 32;
export const SF_MALLOCS = 0;
export const SF_FREES = 1;
export const SF_REALLOCS = 2;
export const SF_LIVE_BYTES = 3;
/** The front cache's counts start at this byte of the slot (a cache line past the figures). */
export const S_CACHE_OFFSET = 128;

export const SLOT_FREE = 0;
export const SLOT_ATTACHED = 1;

/**
 * Front-cache classes. The first 64 are exact: class c < 64 holds blocks whose usable size u has
 * ⌊u / align⌋ = c (payloads below 512 bytes at align 8, 1 KiB at align 16, where glibc's tcache
 * stops). Above them, up to CACHE_TOP_BYTES, each power of two is cut into 8 classes, as TLSF cuts
 * its second level: class c holds u from its floor to the next class's. A request of n bytes takes
 * the lowest class whose floor is at least n, so every block it finds there fits.
 */
export const CACHE_EXACT_CLASSES = 64;
/** Blocks of this many usable bytes or more are never cached. */
export const CACHE_TOP_BYTES = 4096;
/** log2 of the classes per power of two above the exact ones. */
export const CACHE_SUBCLASS_LOG = 3;

/** How many front-cache classes a heap of alignment `align` has. */
export function cacheClassCount(align: number): number {
  const exactLog = Math.log2(CACHE_EXACT_CLASSES * align);
  const octaves = Math.max(0, Math.log2(CACHE_TOP_BYTES) - exactLog);
  return CACHE_EXACT_CLASSES + (octaves << CACHE_SUBCLASS_LOG);
}
/**
 * The front-cache classes of a heap: over shared memory all of them, up to CACHE_TOP_BYTES (a hit
 * there takes no heap lock, whatever the size); over unshared memory only the exact ones, as glibc's
 * tcache stops at 1 KiB. A wide class hands a request a block up to an eighth larger than the
 * strategy would have cut for it, and one thread gains too little from those hits to pay that: on W
 * (bench cells, 2026-12-05) tlsf with the cache kept 0.858 utilization with every class, 0.904 with
 * the exact ones (0.929 with no cache); segregated 0.855 and 0.911 (0.931).
 */
export function cacheClassesOf(align: number, shared: boolean): number {
  return shared ? cacheClassCount(align) : CACHE_EXACT_CLASSES;
}
/** Blocks per class (glibc's tcache keeps 7). A full class gives its older half back in one go. */
export const CACHE_DEPTH = 8;
/**
 * The most usable bytes one worker's cache holds. Cached blocks are neither live nor free to the
 * strategy, so every cached byte is a byte of lost utilization; a free that would pass this goes to
 * the strategy instead. 88 classes × 8 blocks could otherwise hold up to 479 KiB (align 8). Measured on W over
 * one and two workers (bench, 2026-12-05): 64 KiB cut the hits, and W over two workers ran 2.9–3.0
 * instead of 4.8–4.9 M ops/s; 256 KiB runs as fast as no bound at all.
 */
export const CACHE_MAX_BYTES = 256 * 1024;

/**
 * A worker's cache goes back to the strategy before the heap grows only if it holds this many bytes
 * (and at least the growth asked for). Fewer could seldom make the room, and a heap that grows as
 * it fills would empty its cache at nearly every growth: pymalloc with the cache replaying
 * python-json ran 18.2 M ops/s draining at every growth, 24.2 M with this floor (bench replay, best
 * CPU time of 5), at no cost in utilization on W (tlsf 0.909 and 0.910).
 */
export const CACHE_DRAIN_BEFORE_GROWTH = 16 * 1024;

/**
 * Heaps that may grow to fewer bytes get no front cache unless asked: a slot's cache takes 2.4 KiB,
 * and a heap that small has little to gain from it.
 */
export const CACHE_MIN_HEAP_BYTES = 1 << 20;

/** Worker slots of a shared heap unless `workers` says otherwise. */
export const DEFAULT_SHARED_SLOTS = 16;

/** Bytes of one worker slot, rounded to a 64-byte cache line so that workers do not share lines. */
export function slotBytes(classes: number, depth: number): number {
  return (S_CACHE_OFFSET + classes * 4 + classes * depth * 4 + 63) & ~63;
}

/**
 * The end, as a byte offset in the memory, of the pointer-map words that cover `[0, address)`: what
 * format clears and a snapshot copies (invariant 1: the words past it mean nothing yet).
 */
export function mapEnd(mapOffset: number, address: number, align: number): number {
  return mapOffset + (Math.floor(address / (align * 32)) + 1) * 4;
}

/** Bytes of a pointer map with one bit per `align` bytes of `[0, limit)`, in whole words, plus one spare word. */
export function mapBytes(limit: number, align: number): number {
  return (Math.ceil(limit / (align * 32)) + 1) * 4;
}
