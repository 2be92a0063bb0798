/**
 * Where a managed object's fields sit in the heap. Every object is one block of the allocator: a
 * header, then its reference slots (fixed types), then its raw bytes. The first seven words are the
 * same in every plan; a plan that counts references adds the count as an eighth word, so a tracing
 * plan's objects carry no refcount word at all. Each plan declares its {@link HeaderLayout}.
 *
 * ```
 *  ptr ─►  word  byte
 *          0     0   info         u32  type id (bits 0-15) | generation (bits 16-18) | flags (bits 19-25)
 *          1     4   next         i32  next object in its list (a generation, or a collector's working list)
 *          2     8   prev         i32  previous object in that list
 *          3    12   scratch      i32  forwarding address in a compaction
 *          4    16   refs         i32  address of the first reference slot (after the header, or a list's item block)
 *          5    20   nrefs        i32  reference slots in use
 *          6    24   capacity     i32  reference slots available
 *          7    28   refcount     i32  references held to it            (COUNTED_HEADER only)
 *          header    slot 0 … slot n−1   (fixed types; a list's slots live in a separate block)
 *                    raw bytes (8-byte aligned), reached through typed views
 *
 *  info:  31      26 25  24  23   22   21   20   19  18 16 15            0
 *         [ unused  |ALV|WKR|MARK|FIN |UNR |COL |   gen  |    type id     ]
 *          ALV alive (cleared when freed)        gen 0-2 generations, 3 permanent,
 *          WKR has weak references                   4 on a collector's working list, 7 untracked
 *          FIN finalizer has run (PEP 442)       COL being collected, UNR found unreachable
 * ```
 *
 * A list head (a generation, a working list) is a 16-byte cell laid out like the first three words of
 * a header, so the same `next`/`prev` arithmetic walks objects and heads. Pointers are byte offsets
 * below 2^31 (the heap's limit), so every word is read as `i32[(ptr >> 2) + W_…]`.
 *
 * @module
 */

/** Word of the type id, generation and flags. */
export const W_INFO = 0;
/** Word of the next object in the object's list. */
export const W_NEXT = 1;
/** Word of the previous object in the object's list. */
export const W_PREV = 2;
/** Scratch word: the forwarding address during compaction (the cycle collector keeps positions in an array of its own). */
export const W_SCRATCH = 3;
/** Word holding the address of the first reference slot. */
export const W_REFS = 4;
/** Word holding the number of reference slots in use. */
export const W_NREFS = 5;
/** Word holding the number of reference slots available. */
export const W_CAP = 6;
/** Word of the reference count, in a {@link COUNTED_HEADER}. */
export const W_RC = 7;

/** How a plan lays out its object headers. */
export interface HeaderLayout {
  /** 32-bit words of the header. */
  readonly words: number;
  /** Bytes of the header: where a fixed type's first reference slot starts. */
  readonly bytes: number;
  /** True if the header holds a reference count (at {@link W_RC}). */
  readonly counted: boolean;
}

/** The header of a tracing plan: no reference count. */
export const TRACED_HEADER: HeaderLayout = Object.freeze({ words: 7, bytes: 28, counted: false });
/** The header of a reference-counting plan: the tracing header and a count. */
export const COUNTED_HEADER: HeaderLayout = Object.freeze({ words: 8, bytes: 32, counted: true });

/** Mask of the type id in the info word. */
export const TYPE_MASK = 0xffff;
/** Shift of the generation field in the info word. */
export const GEN_SHIFT = 16;
/** Mask of the generation field (after shifting). */
export const GEN_MASK = 7 << GEN_SHIFT;
/** Generation value: the permanent generation (`gc.freeze()`). */
export const GEN_PERMANENT = 3;
/** Generation value: on a collector's working list, counted in no generation. */
export const GEN_WORKING = 4;
/** Generation value: not tracked by the cycle collector. */
export const GEN_UNTRACKED = 7;
/** Flag: in the set being collected (CPython's PREV_MASK_COLLECTING). */
export const F_COLLECTING = 1 << 19;
/** Flag: tentatively unreachable (CPython's NEXT_MASK_UNREACHABLE). */
export const F_UNREACHABLE = 1 << 20;
/** Flag: its finalizer has run (CPython's _PyGC_PREV_MASK_FINALIZED). */
export const F_FINALIZED = 1 << 21;
/** Flag: marked live by a tracing collection. */
export const F_MARK = 1 << 22;
/** Flag: some weak reference points at it. */
export const F_WEAKREFS = 1 << 23;
/** Flag: the object is alive (cleared when it is freed, for the checked mode). */
export const F_ALIVE = 1 << 24;

/** Bytes of a list head cell. */
export const HEAD_BYTES = 16;
