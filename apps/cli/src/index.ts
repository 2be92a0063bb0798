/**
 * `heapkit` — the command line, also usable as a library: {@link main} runs it on an argument list.
 *
 * @packageDocumentation
 */
export { buildProgram, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, main, VERSION } from "./cli.js";
export {
  ASCII_GLYPHS,
  ByteClass,
  classifyCells,
  drawHeapLine,
  type MapGlyphs,
  type MapInput,
  UNICODE_GLYPHS,
} from "./heap-line.js";
export { type CliIo, colorsFor, parseCount, processIo, UsageError } from "./io.js";
