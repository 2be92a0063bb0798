/**
 * What every layer of pymalloc works on: the memory, where things sit in it, and the fallback engine. The engine is one; the layers (pools, arenas, inspection, report, check) are
 * functions of it. None of them keeps state outside the region.
 *
 * @module
 */
import type { AllocatorEngine, Memory, Region } from "@heapkit/contract";
import type { PymallocLayout } from "./layout.js";

/** The parts of a pymalloc heap the layers share. */
export interface PymallocParts {
  readonly memory: Memory;
  readonly region: Region;
  readonly layout: PymallocLayout;
  /** The engine of the fallback strategy, over the region after pymalloc's metadata. */
  readonly fallback: AllocatorEngine;
}
