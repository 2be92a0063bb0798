#!/usr/bin/env node
// `pnpm bench` lands here: build @heapkit/bench and everything it depends on (turbo, cached), then run
// dist/main.js with the same arguments. Build output goes to stderr so that `--json` keeps stdout clean.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");
const turbo = join(root, "node_modules", ".bin", process.platform === "win32" ? "turbo.cmd" : "turbo");
if (!existsSync(turbo)) {
  process.stderr.write("bench: turbo is not installed: run `npx -y pnpm@12.4.2 install` first\n");
  process.exit(1);
}
const build = spawnSync(turbo, ["run", "build", "--filter=@heapkit/bench...", "--output-logs=errors-only"], {
  cwd: root,
  stdio: ["ignore", 2, 2],
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" },
});
if (build.status !== 0) {
  process.stderr.write(`bench: the build failed (exit ${build.status})\n`);
  process.exit(build.status ?? 1);
}
const args = process.argv.slice(2).filter((a) => a !== "--");
const run = spawnSync(process.execPath, [join(here, "dist", "main.js"), ...args], { stdio: "inherit" });
process.exit(run.status ?? 1);
