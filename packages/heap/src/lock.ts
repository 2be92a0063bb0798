/**
 * The locks of a shared heap: 32-bit words in its memory, taken with `Atomics`.
 *
 * The heap lock is the futex mutex of Drepper's "Futexes Are Tricky" (mutex 3): the word is 0 when
 * free, 1 when held, 2 when held and someone may be waiting. Taking a free lock is one
 * compare-exchange; releasing an uncontended one is one subtract, and only a release that finds 2
 * calls `Atomics.notify`. A waiter spins briefly (the holder is usually a few hundred nanoseconds
 * from done), then sleeps in `Atomics.wait`; where a thread may not wait (a browser's main thread)
 * it keeps spinning. Every wait is bounded: past the deadline the caller gets `LockTimeoutError`
 * naming the slot that holds the lock, so a worker that died holding it never hangs the others.
 *
 * A slot lock guards one worker's front cache and figures. Only its owner takes it on the fast
 * path (uncontended: one compare-exchange and one store); `check()`, `stats()` and out-of-memory
 * flushes take it too, always after the heap lock, never before it, so the two cannot deadlock.
 *
 * @module
 */
import { LockTimeoutError } from "@heapkit/contract";

/** Compare-exchange attempts before a waiter sleeps. */
const SPIN_TRIES = 100;

let threadMayWait: boolean | undefined;

/** Whether `Atomics.wait` is allowed on this thread (not on a browser's main thread). */
function mayWait(words: Int32Array, index: number): boolean {
  if (threadMayWait === undefined) {
    try {
      Atomics.wait(words, index, Atomics.load(words, index) + 1, 0);
      threadMayWait = true;
    } catch {
      threadMayWait = false;
    }
  }
  return threadMayWait;
}

/** What a lock needs to say who holds it when a wait runs out. */
export interface LockOwnerInfo {
  /** The lock's name in an error ("the heap lock"). */
  readonly name: string;
  /** The slot holding the lock now, or -1 if the lock does not record it. */
  holderSlot(): number;
  /** The thread id that slot attached with. */
  holderThread(slot: number): number;
}

/**
 * Takes the lock at `words[index]`, waiting at most `timeoutMs`.
 * `operation` and `owner` only shape the error.
 */
export function acquire(
  words: Int32Array,
  index: number,
  timeoutMs: number,
  operation: string,
  owner: LockOwnerInfo,
): void {
  let state = Atomics.compareExchange(words, index, 0, 1);
  if (state === 0) return;
  for (let i = 0; i < SPIN_TRIES; i++) {
    if (Atomics.load(words, index) === 0) {
      state = Atomics.compareExchange(words, index, 0, 1);
      if (state === 0) return;
    }
  }
  const start = Date.now();
  const canWait = mayWait(words, index);
  if (state !== 2) state = Atomics.exchange(words, index, 2);
  while (state !== 0) {
    const left = timeoutMs - (Date.now() - start);
    if (left <= 0) {
      const slot = owner.holderSlot();
      throw new LockTimeoutError(
        operation,
        Date.now() - start,
        slot,
        slot < 0 ? 0 : owner.holderThread(slot),
      );
    }
    if (canWait) Atomics.wait(words, index, 2, Math.min(left, 50));
    state = Atomics.exchange(words, index, 2);
  }
}

/** Releases the lock at `words[index]`, waking one waiter if any may be asleep. */
export function release(words: Int32Array, index: number): void {
  if (Atomics.sub(words, index, 1) !== 1) {
    Atomics.store(words, index, 0);
    Atomics.notify(words, index, 1);
  }
}
