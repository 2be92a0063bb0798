// The `assemblyscript` peer of the bench: AssemblyScript's own memory manager (the TLSF of its
// runtime, std/assembly/rt/tlsf.ts) exported to JavaScript as a user of `--runtime minimal` gets it.
// Built by bench/src/assemblyscript.ts with `asc -O3 --runtime minimal --importMemory`; the memory is
// imported so that each timed run's fresh instance formats its heap over pages already touched, as
// heapkit's cells and glibc's replay do.

export function alloc(size: usize): usize {
  return heap.alloc(size);
}

export function free(ptr: usize): void {
  heap.free(ptr);
}

export function realloc(ptr: usize, size: usize): usize {
  return heap.realloc(ptr, size);
}
