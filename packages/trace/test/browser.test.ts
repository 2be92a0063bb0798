import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runInNewContext } from "node:vm";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { fixture } from "./helpers.js";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

/** Bundles `entry` for the browser as esbuild would for an app, from the packages' sources. */
async function bundleForBrowser(entry: string) {
  return build({
    stdin: { contents: entry, resolveDir: packageDir, loader: "ts" },
    bundle: true,
    platform: "browser",
    format: "iife",
    globalName: "bundle",
    conditions: ["@heapkit/source"],
    write: false,
    metafile: true,
    logLevel: "silent",
  });
}

describe("@heapkit/trace in the browser", () => {
  it("bundles with esbuild --platform=browser, with no node: module in the bundle", async () => {
    const result = await bundleForBrowser(
      `export { replay, readTrace, malLabScore, fragmentationFloor, eventAt, Op } from "@heapkit/trace";`,
    );
    // the metafile's paths are relative to the working directory: the repository's root or this package's
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.map((input) => resolve(input))).toContain(join(packageDir, "src", "index.ts"));
    expect(inputs.filter((input) => input.startsWith("node:") || input.endsWith("src/node.ts"))).toEqual([]);
    expect(result.outputFiles[0].text).not.toMatch(/require\(["']node:|from ["']node:/);
  }, 60_000);

  it("replays a gzipped trace with only the web platform's globals (no Buffer, process or require)", async () => {
    const result = await bundleForBrowser(`
      import { createHeap } from "@heapkit/heap";
      import { strategyByName } from "@heapkit/strategies";
      import { replay } from "@heapkit/trace";
      export function run(bytes) {
        const heap = () => createHeap({ strategy: strategyByName("tlsf"), size: 1 << 16, maxSize: 1 << 26 });
        return replay({ name: "gcc-as.rep.gz", data: bytes }, heap);
      }
    `);
    const web = {
      TextEncoder,
      TextDecoder,
      DecompressionStream,
      ReadableStream,
      WritableStream,
      TransformStream,
      performance,
      queueMicrotask,
      setTimeout,
      console,
      WebAssembly,
    };
    const context: Record<string, unknown> = { ...web };
    context.globalThis = context;
    runInNewContext(result.outputFiles[0].text, context);
    const bundle = context.bundle as {
      run(bytes: Uint8Array): Promise<{ ops: number; peakLiveBytes: number }>;
    };
    const replayed = await bundle.run(new Uint8Array(readFileSync(fixture("real/gcc-as.rep.gz"))));
    expect(replayed.ops).toBe(16454);
    expect(replayed.peakLiveBytes).toBeGreaterThan(0);
  }, 60_000);
});
