/**
 * `heapkit strategies` — lists every placement strategy with its description.
 *
 * @module
 */
import { strategies } from "@heapkit/strategies";
import type { Command } from "commander";
import type { CliIo } from "../io.js";

/** Registers `heapkit strategies`. */
export function registerStrategies(program: Command, io: CliIo): void {
  program
    .command("strategies")
    .description("list the placement strategies")
    .option("--json", "print one JSON array of {name, description}")
    .action((options: { json?: boolean }) => {
      const rows = Object.entries(strategies).map(([name, make]) => ({
        name,
        description: make().description,
      }));
      if (options.json) {
        io.out(`${JSON.stringify(rows)}\n`);
        return;
      }
      const width = Math.max(...rows.map((row) => row.name.length));
      for (const row of rows) io.out(`${row.name.padEnd(width)}  ${row.description}\n`);
    });
}
