// A bundler that imports one strategy through the registry must keep that strategy alone: the
// registry runs nothing at module load that would pull in the others.
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

async function minifiedBytes(entry: string): Promise<number> {
  const result = await build({
    stdin: { contents: entry, resolveDir: import.meta.dirname, loader: "ts" },
    bundle: true,
    minify: true,
    write: false,
    format: "esm",
    platform: "browser",
    conditions: ["@heapkit/source"],
    logLevel: "silent",
  });
  return result.outputFiles[0].contents.byteLength;
}

describe("importing one strategy through @heapkit/strategies", () => {
  it("bundles about what importing its own package does", async () => {
    const alone = await minifiedBytes('import { tlsf } from "@heapkit/strategy-tlsf"; console.log(tlsf());');
    const viaRegistry = await minifiedBytes(
      'import { tlsf } from "@heapkit/strategies"; console.log(tlsf());',
    );
    const everything = await minifiedBytes(
      'import { strategies } from "@heapkit/strategies"; console.log(strategies);',
    );
    expect(viaRegistry).toBeLessThanOrEqual(alone * 1.5);
    // the comparison means something only if the whole registry is much bigger than one strategy
    expect(everything).toBeGreaterThan(alone * 2);
  }, 60_000);
});
