/**
 * What a multi-worker cell (multi-worker-cell.ts) and its workers (multi-worker-thread.ts) share: the
 * control block's words, the rings of handed-over blocks, and the messages of a run.
 *
 * The rings are single-producer single-consumer queues, one per worker (its incoming ring, filled by
 * the worker before it): head, tail and entries, each on cache lines of its own, one ring after the
 * other in one SharedArrayBuffer.
 *
 * @module
 */
import type { WorkerShare } from "./worker-split.js";

/** Words of the control block the cell and its workers share. */
export const CONTROL = {
  /** Bumped by the cell to start a run. */
  GO: 0,
  /** Workers attached and waiting for GO. */
  READY: 1,
  /** Workers that have finished the run (their share and every block handed to them). */
  DONE: 2,
  /** Set by the cell when the time budget is over: workers stop their share where they are. */
  STOP: 3,
  /** Set by a worker whose run failed (it still counts itself READY and DONE, so that the cell wakes). */
  FAILED: 4,
  /** Word k: worker k has finished its own share (it hands over no more blocks). */
  FINISHED: 8,
  /** Words of the control block for `workers` workers. */
  words: (workers: number): number => 8 + workers,
} as const;

/** Entries of each worker's incoming ring. */
export const RING_ENTRIES = 1 << 16;
/** Words of one ring: head, tail, then the entries. */
export const RING_WORDS = 32 + RING_ENTRIES;
/** Word of a ring's head (the consumer's), at its start. */
export const RING_HEAD = 0;
/** Word of a ring's tail (the producer's): a 64-byte line away from the head, so the two do not share one. */
export const RING_TAIL = 16;
/** Word of a ring's first entry: a line away from the tail. */
export const RING_ENTRY = 32;

/** How a worker reaches the allocator under test. */
export type AllocatorKind =
  | { kind: "heapkit"; strategy: string }
  | { kind: "shared-memory-objects"; bundle: string };

/** What a worker is started with. */
export interface WorkerSetup {
  /** This worker's index. */
  index: number;
  /** Workers in the cell. */
  workers: number;
  /** The allocator under test. */
  allocator: AllocatorKind;
  /** The control block (CONTROL). */
  control: SharedArrayBuffer;
  /** Every worker's incoming ring. */
  rings: SharedArrayBuffer;
  /** This worker's share of the workload. */
  share: WorkerShare;
}

/** What the cell sends to start a run: the heap's memory, and how many of its operations to replay. */
export interface RunMessage {
  /** The heap: a heapkit heap's buffer, or shared-memory-objects' list of buffers. */
  memory: SharedArrayBuffer | SharedArrayBuffer[];
  /** Operations of this worker's share to replay (its prefix when the budget cut it). */
  limit: number;
}

/** What a worker answers after a run: how far it got (less than the limit when the budget stopped it), or why it failed. */
export type RanMessage = { progress: number } | { error: string };
