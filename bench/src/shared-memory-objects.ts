/**
 * The `shared-memory-objects` peer of the multi-worker family: @daneren2005/shared-memory-objects
 * (an exact devDependency of the bench), which ships TypeScript source only, bundled by the bench with
 * esbuild into bench/.cache, once per version. Its source reads `import.meta.env.MODE` (a Vite
 * variable): the bundle fixes it to "production", the mode a user's build ships.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** The bundle, or why there is none. */
export interface BundleBuild {
  /** Path of the ES module, or null. */
  bundle: string | null;
  /** What happened. */
  message: string;
}

/** Bundles the package's source into `cacheDir` unless this version's bundle is there. */
export async function buildSharedMemoryObjects(cacheDir: string): Promise<BundleBuild> {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve("@daneren2005/shared-memory-objects");
  } catch {
    return { bundle: null, message: "@daneren2005/shared-memory-objects is not installed" };
  }
  const pkg = JSON.parse(readFileSync(join(dirname(entry), "..", "package.json"), "utf8")) as {
    version: string;
  };
  // .gen. keeps the generated bundle out of the linter
  const bundle = join(cacheDir, `shared-memory-objects-${pkg.version}.gen.mjs`);
  if (existsSync(bundle)) return { bundle, message: "cached" };
  try {
    const esbuild = await import("esbuild");
    await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      outfile: bundle,
      define: { "import.meta.env.MODE": '"production"' },
      logLevel: "silent",
    });
    return { bundle, message: `bundled ${pkg.version} with esbuild` };
  } catch (e) {
    return { bundle: null, message: `esbuild failed: ${(e as Error).message}` };
  }
}
