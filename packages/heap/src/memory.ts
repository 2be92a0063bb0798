/**
 * Backing stores. One class wraps all four kinds the contract allows:
 *
 * | kind                     | grows by                         | old views after growth        |
 * |--------------------------|----------------------------------|-------------------------------|
 * | `array-buffer`           | cannot grow                      | —                             |
 * | `resizable-array-buffer` | `buffer.resize(n)`               | still valid (same buffer)     |
 * | `shared-array-buffer`    | `buffer.grow(n)`                 | still valid (same buffer)     |
 * | `wasm-memory`            | `memory.grow(pages)`             | detached: re-read the views   |
 *
 * The views (`u8`, `u32`, …) are plain fields replaced on growth, so hot code reads them with one
 * property load. A `WebAssembly.Memory` can also be grown by wasm code behind our back; the heap
 * calls {@link BufferMemory.sync} before each operation on such a memory to pick up the new buffer.
 *
 * @module
 */
import type { Memory, MemoryKind } from "@heapkit/contract";

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
  private readonly wasm: WebAssembly.Memory | null;

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
      if (typeof SharedArrayBuffer !== "undefined" && store instanceof SharedArrayBuffer) {
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

  /** Re-reads the buffer of a `WebAssembly.Memory` that wasm code may have grown. Returns true if it changed. */
  sync(): boolean {
    if (this.wasm === null || this.wasm.buffer === this.buffer) return false;
    this.buffer = this.wasm.buffer;
    this.makeViews();
    return true;
  }

  grow(minByteLength: number): boolean {
    const current = this.buffer.byteLength;
    if (minByteLength <= current) return true;
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
      return false;
    }
    this.makeViews();
    return true;
  }

  private makeViews(): void {
    const buffer = this.buffer;
    this.u8 = new Uint8Array(buffer);
    this.i32 = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
    this.u32 = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
    this.f64 = new Float64Array(buffer, 0, buffer.byteLength >>> 3);
    this.view = new DataView(buffer);
  }
}

/** How to make the memory of a new heap. */
export interface MemoryOptions {
  /** Initial bytes. */
  size: number;
  /** The most bytes it may grow to. */
  maxSize: number;
  /** Use a growable SharedArrayBuffer (to share the heap with workers). */
  shared?: boolean;
}

/**
 * Makes a growable memory: a resizable ArrayBuffer, or a growable SharedArrayBuffer when `shared`.
 * A memory that may not grow (`size` = `maxSize`, not shared) is a plain ArrayBuffer instead: V8 checks
 * every typed-array access to a resizable buffer for shrinking, which costs the allocator's hot loops
 * 6–20 % (node 20), and a fixed-size heap has nothing to gain from it.
 */
export function createMemory({ size, maxSize, shared = false }: MemoryOptions): BufferMemory {
  if (!shared && size >= maxSize) return new BufferMemory(new ArrayBuffer(maxSize));
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
