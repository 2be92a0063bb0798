/**
 * Backing stores. One class wraps all four kinds the contract allows:
 *
 * | kind                     | grows by                         | old views after growth        |
 * |--------------------------|----------------------------------|-------------------------------|
 * | `array-buffer`           | cannot grow (a reserved memory   | still valid (same buffer)     |
 * |                          | is one: the break moves inside)  |                               |
 * | `resizable-array-buffer` | `buffer.resize(n)`               | still valid (same buffer)     |
 * | `shared-array-buffer`    | `buffer.grow(n)`                 | still valid (same buffer)     |
 * | `wasm-memory`            | `memory.grow(pages)`             | detached: re-read the views   |
 *
 * The views (`u8`, `u32`, …) are plain fields replaced on growth, so hot code reads them with one
 * property load. A memory can also change behind the heap's back: wasm code grows a
 * `WebAssembly.Memory`, another thread grows a shared buffer, the owner of a resizable buffer resizes
 * it, or the buffer is transferred away (detached). The heap calls {@link BufferMemory.sync} before
 * each call into its strategy to follow the buffer's length, and to fail with `DetachedMemoryError`
 * rather than read a detached buffer.
 *
 * @module
 */
import {
  DetachedMemoryError,
  type Memory,
  type MemoryKind,
  UnsupportedPlatformError,
} from "@heapkit/contract";

/** The largest memory a heap manages (2 GiB less 64 KiB): offsets and sizes stay below 2^31, so engine arithmetic never leaves int32. */
export const MAX_MEMORY_BYTES = 0x7fff_0000;

/** Bytes in a WebAssembly page. */
export const WASM_PAGE_BYTES = 65536;

/**
 * The buffers a memory can hold.
 *
 * @inline
 */
type AnyBuffer = ArrayBuffer | SharedArrayBuffer;

interface GrowableBuffer {
  readonly resizable?: boolean;
  readonly growable?: boolean;
  readonly maxByteLength?: number;
  resize?(n: number): void;
  grow?(n: number): void;
}

/** A {@link Memory} over an ArrayBuffer, resizable ArrayBuffer, growable SharedArrayBuffer or WebAssembly.Memory. */
export class BufferMemory implements Memory {
  readonly kind: MemoryKind;
  readonly maxByteLength: number;
  buffer: AnyBuffer;
  u8!: Uint8Array;
  i32!: Int32Array;
  u32!: Uint32Array;
  f64!: Float64Array;
  view!: DataView;
  /** Bytes the views cover: the buffer's length when they were made. */
  viewBytes = 0;
  private readonly wasm: WebAssembly.Memory | null;

  /** What stays the same object while the memory lives: the `WebAssembly.Memory`, or the buffer. */
  get identity(): object {
    return this.wasm ?? this.buffer;
  }

  constructor(store: AnyBuffer | WebAssembly.Memory, maxByteLength?: number) {
    if (store instanceof WebAssembly.Memory) {
      this.kind = "wasm-memory";
      this.wasm = store;
      this.buffer = store.buffer;
      this.maxByteLength = Math.min(maxByteLength ?? MAX_MEMORY_BYTES, MAX_MEMORY_BYTES);
    } else {
      const growable = store as unknown as GrowableBuffer;
      this.wasm = null;
      this.buffer = store;
      if (isShared(store)) {
        this.kind = "shared-array-buffer";
        this.maxByteLength = growable.growable
          ? (growable.maxByteLength ?? store.byteLength)
          : store.byteLength;
      } else if (growable.resizable) {
        this.kind = "resizable-array-buffer";
        this.maxByteLength = growable.maxByteLength ?? store.byteLength;
      } else {
        this.kind = "array-buffer";
        this.maxByteLength = store.byteLength;
      }
      this.maxByteLength = Math.min(this.maxByteLength, MAX_MEMORY_BYTES);
    }
    this.makeViews();
  }

  get byteLength(): number {
    return this.buffer.byteLength;
  }

  /**
   * Follows a change made behind the heap's back: a new buffer of a grown `WebAssembly.Memory`, or a
   * buffer grown (or resized) by someone else. Returns true if the views were made again. Throws
   * `DetachedMemoryError` if the buffer was detached (transferred away).
   */
  sync(operation: string): boolean {
    if (this.wasm !== null && this.wasm.buffer !== this.buffer) {
      this.buffer = this.wasm.buffer;
      this.makeViews();
      return true;
    }
    const length = this.buffer.byteLength;
    if (length === this.viewBytes) return false;
    if (length === 0 || isDetached(this.buffer)) throw new DetachedMemoryError(operation);
    this.makeViews();
    return true;
  }

  /**
   * {@link BufferMemory.sync} for the hot paths: makes the views cover `[0, needed)`, reading the
   * buffer's length only when they do not (that getter costs a call on a resizable buffer). A
   * detached buffer's views have length 0: `DetachedMemoryError`.
   */
  follow(operation: string, needed: number): void {
    if (this.wasm !== null && this.wasm.buffer !== this.buffer) {
      this.buffer = this.wasm.buffer;
      this.makeViews();
    }
    if (this.u8.length === 0) throw new DetachedMemoryError(operation);
    if (needed > this.viewBytes) this.sync(operation);
  }

  /** True if the buffer was detached (transferred to another thread, say). */
  get detached(): boolean {
    return isDetached(this.buffer);
  }

  grow(minByteLength: number): boolean {
    if (this.wasm !== null && this.wasm.buffer !== this.buffer) this.buffer = this.wasm.buffer;
    const current = this.buffer.byteLength;
    if (minByteLength <= current) {
      // grown already, by another thread or heap: the views must still follow it
      if (current !== this.viewBytes) this.makeViews();
      return true;
    }
    if (minByteLength > this.maxByteLength) return false;
    // geometric growth keeps the number of resizes logarithmic in the heap's size
    const target = Math.min(this.maxByteLength, Math.max(minByteLength, current * 2, 4096));
    try {
      if (this.wasm !== null) {
        const pages = Math.ceil((target - current) / WASM_PAGE_BYTES);
        const needed = Math.ceil((minByteLength - current) / WASM_PAGE_BYTES);
        try {
          this.wasm.grow(pages);
        } catch {
          this.wasm.grow(needed);
        }
        this.buffer = this.wasm.buffer;
      } else {
        const growable = this.buffer as unknown as GrowableBuffer;
        if (this.kind === "resizable-array-buffer") growable.resize?.(target);
        else if (this.kind === "shared-array-buffer") growable.grow?.(target);
        else return false;
      }
    } catch {
      // another thread may have grown a shared buffer past `target` meanwhile
      if (this.wasm !== null) this.buffer = this.wasm.buffer;
      if (this.buffer.byteLength < minByteLength) return false;
    }
    this.makeViews();
    return true;
  }

  private makeViews(): void {
    const buffer = this.buffer;
    // fixed-length views, made again when the length changes: a length-tracking view of a growable
    // buffer costs node 20 about 60× per element access
    this.u8 = new Uint8Array(buffer, 0, buffer.byteLength);
    this.i32 = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
    this.u32 = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
    this.f64 = new Float64Array(buffer, 0, buffer.byteLength >>> 3);
    this.view = new DataView(buffer, 0, buffer.byteLength);
    this.viewBytes = buffer.byteLength;
  }
}

/** True for a `SharedArrayBuffer` — where there is none (a page that is not cross-origin isolated), nothing is. */
export function isShared(buffer: unknown): buffer is SharedArrayBuffer {
  return typeof SharedArrayBuffer !== "undefined" && buffer instanceof SharedArrayBuffer;
}

function isDetached(buffer: AnyBuffer): boolean {
  const detached = (buffer as { detached?: boolean }).detached;
  if (detached !== undefined) return detached;
  if (buffer.byteLength !== 0 || isShared(buffer)) return false;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

/**
 * How a new memory gets room for the heap's growth:
 *
 * - `"reserve"`: one plain buffer of `maxSize` bytes from the start. The heap's break still moves up
 *   only as it needs room, and the operating system gives a page memory the first time the heap
 *   writes to it, as with a native allocator's reserved address space: an untouched megabyte costs
 *   address space, not memory. Typed-array access is at full speed, and the buffer never changes, so
 *   every view of it stays valid. `buffer.byteLength` (and `stats().capacity`) is `maxSize`.
 * - `"resize"`: a resizable ArrayBuffer (a growable SharedArrayBuffer when shared) of `size` bytes,
 *   resized as the heap grows. `buffer.byteLength` follows the heap, but V8 checks every typed-array
 *   access to such a buffer against its current length: node 20 ran malloc(64)/free pairs with tlsf
 *   at 25.3–27.6 ns a call against 16.8–18.6 ns over a reserved buffer.
 */
export type MemoryGrowth = "reserve" | "resize";

/**
 * The smallest memory reserved by default; a smaller one resizes. glibc (node on Linux) gives a
 * buffer under 32 MiB from its own heap, which it zeroes, page by page, when the buffer is made: a
 * 16 MiB buffer then costs 10 ms and all its pages at once, where 33 MiB come from a fresh mapping
 * that the kernel fills on first touch (node 20, 50 buffers each: 517 ms against 48 ms).
 */
export const RESERVE_MIN_BYTES = 32 * 1024 * 1024;

/** How to make the memory of a new heap. */
export interface MemoryOptions {
  /** Initial bytes of a `"resize"` memory. */
  size: number;
  /** The most bytes it may grow to. */
  maxSize: number;
  /** Use a SharedArrayBuffer (to share the heap with workers). */
  shared?: boolean;
  /** Reserve `maxSize` up front or resize as the heap grows (default: reserve from {@link RESERVE_MIN_BYTES} up): see {@link MemoryGrowth}. */
  growth?: MemoryGrowth;
}

/**
 * Makes the memory of a new heap: one plain buffer of `maxSize` bytes (`"reserve"`, the default from
 * {@link RESERVE_MIN_BYTES} up), or a resizable ArrayBuffer / growable SharedArrayBuffer of `size`
 * bytes (`"resize"`). Where the platform will not hand out `maxSize` bytes at once, a reserved
 * memory falls back to a resizable one, which holds only what the heap uses.
 */
export function createMemory({
  size,
  maxSize,
  shared = false,
  growth = maxSize >= RESERVE_MIN_BYTES ? "reserve" : "resize",
}: MemoryOptions): BufferMemory {
  if (shared) requireSharedMemory(false);
  if (growth === "reserve" || size >= maxSize) {
    const reserved = reserveBuffer(maxSize, shared);
    if (reserved !== null) return new BufferMemory(reserved);
  }
  if (shared) requireSharedMemory(true);
  else if (typeof (ArrayBuffer.prototype as { resize?: unknown }).resize !== "function") {
    throw new UnsupportedPlatformError(
      "resizable ArrayBuffer (ES2024; node 20 and later, Chrome 111, Firefox 128, Safari 16.4)",
      'run on a newer platform, or make a heap that reserves its memory (growth: "reserve")',
    );
  }
  const options = { maxByteLength: maxSize } as const;
  const buffer = shared
    ? new (
        SharedArrayBuffer as unknown as new (
          n: number,
          o: { maxByteLength: number },
        ) => SharedArrayBuffer
      )(size, options)
    : new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(
        size,
        options,
      );
  return new BufferMemory(buffer);
}

/** A plain buffer of `bytes`, or null where the platform refuses that much at once (RangeError). */
function reserveBuffer(bytes: number, shared: boolean): ArrayBuffer | SharedArrayBuffer | null {
  try {
    return shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  } catch (error) {
    if (error instanceof RangeError) return null;
    throw error;
  }
}

/** Throws `UnsupportedPlatformError` where a `SharedArrayBuffer` (a growable one, if `growable`) cannot be made. */
export function requireSharedMemory(growable: boolean): void {
  if (typeof SharedArrayBuffer === "undefined") {
    throw new UnsupportedPlatformError(
      "SharedArrayBuffer",
      "in a browser, serve the page cross-origin isolated (Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)",
    );
  }
  if (growable && typeof (SharedArrayBuffer.prototype as { grow?: unknown }).grow !== "function") {
    throw new UnsupportedPlatformError(
      "growable SharedArrayBuffer (ES2024; node 20 and later, Chrome 111)",
      "run on a newer platform",
    );
  }
}
