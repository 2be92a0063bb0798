/**
 * The few runtime helpers every strategy needs.
 *
 * @module
 */
import type { AllocatorEngine, Memory, Ptr, Strategy, StrategyDescriptor } from "./allocator.js";

/** Rounds `value` up to a multiple of `alignment` (a power of two). */
export function alignUp(value: number, alignment: number): number {
  return (value + alignment - 1) & ~(alignment - 1);
}

/** True if `value` is a power of two (1, 2, 4, … up to 2^30). */
export function isPowerOfTwo(value: number): boolean {
  return (value | 0) === value && value > 0 && (value & (value - 1)) === 0;
}

/**
 * The realloc every engine can fall back on when a block cannot grow in place: allocate anew,
 * copy the payload, free the old block. Returns 0 (changing nothing) if the new block does not fit.
 */
export function reallocByMoving(engine: AllocatorEngine, memory: Memory, ptr: Ptr, size: number): Ptr {
  const kept = Math.min(engine.usableSize(ptr), size);
  const moved = engine.malloc(size);
  if (moved === 0) return 0;
  // read the view after malloc: growing a WebAssembly.Memory replaces it
  memory.u8.copyWithin(moved, ptr, ptr + kept);
  // free leaves lastUsableSize alone: it still holds the new block's, as malloc set it
  engine.free(ptr);
  return moved;
}

/** True for a strategy: an object with a `name` and a `create`. */
export function isStrategy(value: unknown): value is Strategy<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Strategy<unknown>).create === "function" &&
    typeof (value as Strategy<unknown>).name === "string"
  );
}

/**
 * The descriptor of a strategy: its name and its options as JSON gives them, a strategy among the
 * options (pymalloc's `fallback`) described in turn. What a heap stores so that another worker, or
 * a later attach, can rebuild the strategy.
 */
export function describeStrategy(strategy: Strategy<unknown>): StrategyDescriptor {
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries((strategy.options ?? {}) as Record<string, unknown>)) {
    options[key] = isStrategy(value) ? describeStrategy(value) : value;
  }
  return { name: strategy.name, options: JSON.parse(JSON.stringify(options)) };
}
