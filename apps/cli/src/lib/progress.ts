/**
 * Progress bars on standard error, shown only for work that lasts over a second on a terminal, never
 * with `--json`.
 *
 * @module
 */
import { createRequire } from "node:module";
import type { MultiBar, SingleBar } from "cli-progress";
import type { CliIo } from "../io.js";

/** cli-progress (CommonJS), loaded when a bar first shows: most runs never show one. */
function multiBarClass(): typeof MultiBar {
  return (createRequire(import.meta.url)("cli-progress") as typeof import("cli-progress")).MultiBar;
}

/** How long work runs before its bars appear: shorter work would only flicker. */
const SHOW_AFTER_MS = 1000;

/** A progress display of one or more named tasks. */
export class Progress {
  private readonly started = performance.now();
  private multi: MultiBar | undefined;
  private readonly bars = new Map<string, SingleBar>();
  private readonly enabled: boolean;

  constructor(io: CliIo, quiet: boolean) {
    this.enabled = io.errIsTTY && !quiet;
  }

  /** Sets the fraction done (0…1) of the task called `label`. */
  update(label: string, fraction: number): void {
    if (!this.enabled || !Number.isFinite(fraction)) return;
    if (this.multi === undefined) {
      if (performance.now() - this.started < SHOW_AFTER_MS) return;
      const MultiBarClass = multiBarClass();
      this.multi = new MultiBarClass({
        stream: process.stderr,
        format: " {bar} {percentage}% | {label}",
        hideCursor: true,
        clearOnComplete: true,
        barsize: 30,
      });
    }
    let bar = this.bars.get(label);
    if (bar === undefined) {
      bar = this.multi.create(1000, 0, { label });
      this.bars.set(label, bar);
    }
    bar.update(Math.round(Math.min(1, fraction) * 1000), { label });
  }

  /** Removes the bars. */
  stop(): void {
    this.multi?.stop();
    this.multi = undefined;
  }
}
