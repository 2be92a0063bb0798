/**
 * What the executable's launcher (the two lines of shell that `scripts/bundle.mjs` puts at the top of
 * `dist/bin.js`) hands node: glibc's malloc tuned for a short process that allocates a lot, before
 * the user's own `GLIBC_TUNABLES`. See the README ("glibc's malloc tuned").
 *
 * @module
 */

/** The tunables the launcher puts before the user's `GLIBC_TUNABLES`, followed by a colon. */
export const LAUNCHER_TUNABLES =
  "glibc.malloc.hugetlb=1:glibc.malloc.arena_max=1:glibc.malloc.top_pad=67108864:glibc.malloc.trim_threshold=268435456";

/**
 * The environment as the user gave it: `GLIBC_TUNABLES` without what the launcher put before it
 * (unset if nothing is left). A program that `heapkit record` traces, and CPython that `heapkit gc
 * bench --python` times, run with the user's malloc, not with heapkit's own settings (one arena for
 * all their threads, among them).
 */
export function userEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const prefix = `${LAUNCHER_TUNABLES}:`;
  const tunables = env.GLIBC_TUNABLES;
  if (tunables === undefined || !tunables.startsWith(prefix)) return { ...env };
  const { GLIBC_TUNABLES: _, ...rest } = env;
  const users = tunables.slice(prefix.length);
  return users === "" ? rest : { ...rest, GLIBC_TUNABLES: users };
}
