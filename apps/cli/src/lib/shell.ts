/**
 * Shell quoting, for echoing a command so that it can be pasted back into a POSIX shell unchanged.
 *
 * @module
 */

/** Characters a POSIX shell takes literally in a word. */
const PLAIN_WORD = /^[A-Za-z0-9_\-+=.,/:@%^]+$/;

/** One argument as a POSIX shell word: as is when nothing in it is special, else in single quotes. */
export function shellQuote(argument: string): string {
  if (PLAIN_WORD.test(argument)) return argument;
  return `'${argument.replaceAll("'", `'\\''`)}'`;
}

/** A command line as a shell would need it typed. */
export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}
