/**
 * When gzip input is inflated at once rather than streaming: written once for the prefetch
 * (`read-thread.ts`, `gunzip` on libuv's pool) and the reader on the replay's thread where node's
 * zlib handle is out of its reach (`node-files.ts`, `gatheredGunzip`; it inflates synchronously into a
 * window otherwise). Imports nothing at run time, so that `@heapkit/trace/read-thread` stays light.
 *
 * @module
 */
import type { ZlibOptions } from "node:zlib";

/** Gzipped input up to this size is inflated at once when its content is small enough. */
export const MAX_GZIP_AT_ONCE = 16 << 20;
/** The most content inflated at once; a larger one (or a gzip bomb) is inflated streaming, in bounded memory. */
export const MAX_INFLATED_AT_ONCE = 64 << 20;

/**
 * The zlib options that inflate a whole gzip input at once into one buffer of its content's size (no
 * concatenation, pages touched once), or undefined where it must stream or is not gzip: without
 * gzip's magic bytes (a prefetch does not know what the file holds), shorter than a gzip member, past
 * {@link MAX_GZIP_AT_ONCE}, or content past {@link MAX_INFLATED_AT_ONCE} by its trailer (the size
 * modulo 2^32: a wrong one costs no more than `maxOutputLength`).
 */
export function inflateAtOnceOptions(input: Uint8Array): ZlibOptions | undefined {
  const n = input.length;
  if (n < 18 || n > MAX_GZIP_AT_ONCE || input[0] !== 0x1f || input[1] !== 0x8b) return undefined;
  const size = (input[n - 4] | (input[n - 3] << 8) | (input[n - 2] << 16) | (input[n - 1] << 24)) >>> 0;
  if (size > MAX_INFLATED_AT_ONCE) return undefined;
  return { chunkSize: Math.max(size + 1, 1024), maxOutputLength: MAX_INFLATED_AT_ONCE };
}
