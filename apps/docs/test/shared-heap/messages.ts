/** What the page and its two Web Workers say to each other (see page.ts and worker.ts). */

/** The page asks a worker to attach and run random operations. */
export interface RunRequest {
  type: "run";
  memory: SharedArrayBuffer;
  index: number;
  ops: number;
  seed: number;
}

/** The page hands a worker the other worker's blocks, to verify and free. */
export interface FreeRequest {
  type: "free";
  blocks: Int32Array;
}

/** A worker's blocks: triples of (pointer, size asked, sequence number of its pattern). */
export interface HeldMessage {
  type: "held";
  index: number;
  blocks: Int32Array;
  ops: number;
}

/** A worker freed what it was handed and detached. */
export interface DoneMessage {
  type: "done";
  index: number;
  freed: number;
}

/** A worker failed: a payload was overwritten or a call threw. */
export interface FailureMessage {
  type: "failure";
  index: number;
  message: string;
}

export type WorkerMessage = HeldMessage | DoneMessage | FailureMessage;

/** The byte at `index` of the payload of allocation `seq` (sequence numbers are unique per page). */
export function patternByte(seq: number, index: number): number {
  const mixed = Math.imul(seq ^ 0x5bd1e995, 0x9e3779b1) >>> 0;
  return ((mixed >>> ((index & 3) << 3)) + index) & 0xff;
}
