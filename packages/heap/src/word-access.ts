/**
 * Counting the words an allocator touches: a machine-independent measure of its cost.
 *
 * An allocator's time per call on a real machine is mostly the cache misses of the words it reads
 * and writes, and those depend on how far apart the words are, not only on how many there are: the
 * same TLSF does fewer operations per second with 100 k live blocks spread over 65 MB than with 1 k
 * over 650 kB. What the algorithm decides is the count. {@link watchWordAccess} counts it: every
 * element read or written through the memory's `u32` and `i32` views, which is how every strategy
 * reads and writes its headers, links and bitmaps.
 *
 * ```
 *  memory.u32 ──► Proxy ──► the real Uint32Array      (reads++ on u32[i], writes++ on u32[i] = v)
 *                   ▲
 *  growth replaces the view: the accessor wraps the new one, so counting goes on
 * ```
 *
 * It is slow (a Proxy trap per access): for tests, the bench's per-call figures and teaching, never
 * for production.
 *
 * @module
 */
import type { BufferMemory } from "./memory.js";

/** What {@link watchWordAccess} has counted so far. */
export interface WordAccessCounter {
  /** Elements read through `u32` or `i32` since the watch began (or since {@link reset}). */
  readonly reads: number;
  /** Elements written through `u32` or `i32`. */
  readonly writes: number;
  /** Sets both counts to 0. */
  reset(): void;
  /** Ends the watch: the memory's views are plain typed arrays again. */
  stop(): void;
}

const WATCHED_VIEWS = ["u32", "i32"] as const;

/** True for a property key that indexes a typed array ("0", "17", …). */
function isIndex(key: string | symbol): boolean {
  if (typeof key !== "string" || key.length === 0) return false;
  const c = key.charCodeAt(0);
  return c >= 48 && c <= 57;
}

/**
 * Counts every element of `memory` read or written through its `u32` and `i32` views until
 * `stop()`. Views the memory makes on growth are counted too. Bulk methods (`fill`, `copyWithin`,
 * `set`) pass through uncounted: they are byte copies, not metadata look-ups.
 */
export function watchWordAccess(memory: BufferMemory): WordAccessCounter {
  let reads = 0;
  let writes = 0;
  const wrap = <T extends Uint32Array | Int32Array>(view: T): T =>
    new Proxy(view, {
      get(target, key) {
        if (isIndex(key)) {
          reads++;
          return target[key as unknown as number];
        }
        const value = Reflect.get(target, key, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
      set(target, key, value) {
        if (isIndex(key)) writes++;
        return Reflect.set(target, key, value, target);
      },
    });
  const real = { u32: memory.u32, i32: memory.i32 };
  const wrapped = { u32: wrap(memory.u32), i32: wrap(memory.i32) };
  for (const name of WATCHED_VIEWS) {
    Object.defineProperty(memory, name, {
      configurable: true,
      enumerable: true,
      get: () => wrapped[name],
      set: (view: Uint32Array & Int32Array) => {
        real[name] = view;
        wrapped[name] = wrap(view);
      },
    });
  }
  return {
    get reads() {
      return reads;
    },
    get writes() {
      return writes;
    },
    reset() {
      reads = 0;
      writes = 0;
    },
    stop() {
      for (const name of WATCHED_VIEWS) {
        Object.defineProperty(memory, name, {
          configurable: true,
          enumerable: true,
          writable: true,
          value: real[name],
        });
      }
    },
  };
}
