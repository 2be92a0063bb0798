import { fileURLToPath } from "node:url";
import { build } from "esbuild";

/**
 * Bundles bench sources (`cell.ts`, …) into `dir` as node ESM, the workspace's packages from their
 * TypeScript source, as a test runs a cell in a child process of its own.
 */
export async function bundleCells(files: readonly string[], dir: string): Promise<void> {
  await build({
    entryPoints: files.map((file) => fileURLToPath(new URL(`../src/${file}`, import.meta.url))),
    outdir: dir,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    conditions: ["@heapkit/source"],
    logLevel: "silent",
  });
}
