/**
 * `heapkit` — the command line, also usable as a library: {@link main} runs it on an argument list.
 *
 * @packageDocumentation
 */
export {
  buildProgram,
  DESCRIPTION,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  main,
  type ProgramOptions,
  VERSION,
} from "./cli.js";
export {
  type CliIo,
  colorsFor,
  endQuietlyOnClosedPipe,
  errorFields,
  processIo,
  UsageError,
} from "./io.js";
export {
  ASCII_GLYPHS,
  ByteClass,
  type ClassifyOptions,
  classifyCells,
  drawHeapLine,
  type MapGlyphs,
  type MapInput,
  UNICODE_GLYPHS,
} from "./lib/heap-line.js";
export { parseCount } from "./lib/options.js";
