/**
 * Reading a whole text file that may be gzipped. `@heapkit/trace` sniffs the gzip magic the same way
 * for trace files, but streaming and inside its reader, with no helper of its own exported; a gc
 * scenario is read whole, so this is the synchronous counterpart.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

/** True if `bytes` start with the gzip magic number (whatever the file's name says). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The text of `file`, gunzipped if it is gzip; an error naming the file if it cannot be read. */
export function readTextFile(file: string): string {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (error) {
    throw new Error(
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  if (!isGzip(raw)) return raw.toString("utf8");
  try {
    return gunzipSync(raw).toString("utf8");
  } catch (error) {
    throw new Error(`${file}: not a whole gzip file (${(error as Error).message}): truncated or damaged`);
  }
}
