#!/usr/bin/env node
// The packaging proof CI runs before its tests: every public package of the workspace is packed with pnpm
// (as `pnpm publish` would pack it) and installed with npm into a scratch project outside the workspace,
// where a user would have it. There, the packages must import from Node ESM and from require(), type-check
// with tsc (module nodenext), bundle for the browser with esbuild and run in Chromium, and the installed
// `heapkit` bin must replay a real trace. Needs the packages built (`pnpm build`). Any failure ends the run
// with exit code 1 and says which step failed and why; the scratch folder is kept then, for a look.
//
//   node tools/pack-check/run.mjs
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const repo = resolve(here, "..", "..");
const fixtures = join(here, "fixtures");
const fromRepo = createRequire(join(repo, "package.json"));
const CHROMIUM = "/usr/bin/chromium";
const REPLAYED_TRACE = join(repo, "traces", "real", "gcc-as.rep.gz");
const REPLAYED_TRACE_OPS = 16454;

const scratch = mkdtempSync(join(tmpdir(), "heapkit-pack-check-"));
const tarballs = join(scratch, "tarballs");
const app = join(scratch, "app");
const started = Date.now();

class CheckFailed extends Error {}

/** Runs a command; returns its stdout, or throws with its exit status and output. */
function run(command, args, cwd) {
  const done = spawnSync(command, args, { cwd, encoding: "utf8", maxBuffer: 64 << 20 });
  if (done.error) throw new CheckFailed(`${command} ${args.join(" ")}: ${done.error.message}`);
  if (done.status !== 0) {
    throw new CheckFailed(
      `\`${command} ${args.join(" ")}\` (in ${cwd}) exited with ${done.status ?? done.signal}\n${done.stdout}${done.stderr}`,
    );
  }
  return done.stdout;
}

async function step(name, body) {
  const at = Date.now();
  try {
    const said = await body();
    console.log(
      `pack check: ${name}: ok${said ? ` (${said})` : ""} [${((Date.now() - at) / 1000).toFixed(1)} s]`,
    );
  } catch (error) {
    console.error(
      `\npack check FAILED at "${name}":\n${error instanceof CheckFailed ? error.message : error?.stack}`,
    );
    console.error(`(the scratch project is kept in ${scratch})`);
    process.exit(1);
  }
}

/** The workspace's public packages, by name, with their versions and folders. */
function publicPackages() {
  const all = JSON.parse(run("npx", ["-y", "pnpm@12.4.2", "ls", "-r", "--depth", "-1", "--json"], repo));
  return all.filter((pkg) => !pkg.private && pkg.path !== repo);
}

const packages = publicPackages();
/** The tarball `pnpm pack` writes for a package (`@heapkit/heap`'s is heapkit-heap-VERSION.tgz). */
function tarballOf(pkg) {
  return join(tarballs, `${pkg.name.replace(/^@/, "").replace("/", "-")}-${pkg.version}.tgz`);
}
const versions = Object.fromEntries(packages.map((pkg) => [pkg.name, pkg.version]));
const cli = packages.find((pkg) => pkg.name === "heapkit");

await step(`pack ${packages.length} public packages with pnpm`, () => {
  mkdirSync(tarballs);
  const filters = packages.flatMap((pkg) => ["--filter", pkg.name]);
  run("npx", ["-y", "pnpm@12.4.2", "-r", ...filters, "pack", "--pack-destination", tarballs], repo);
  const packed = readdirSync(tarballs).filter((file) => file.endsWith(".tgz"));
  if (packed.length !== packages.length) {
    throw new CheckFailed(`expected ${packages.length} tarballs, got ${packed.length}: ${packed.join(", ")}`);
  }
  for (const pkg of packages) {
    const file = tarballOf(pkg);
    const listing = run("tar", ["tzf", file], scratch);
    for (const needed of [
      "package/package.json",
      "package/README.md",
      "package/dist/index.js",
      "package/dist/index.d.ts",
    ]) {
      if (!listing.split("\n").includes(needed)) throw new CheckFailed(`${file} lacks ${needed}`);
    }
    const manifest = JSON.parse(run("tar", ["xzf", file, "-O", "package/package.json"], scratch));
    const unresolved = Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies }).filter(
      ([, range]) => range.startsWith("workspace:"),
    );
    if (unresolved.length > 0) throw new CheckFailed(`${pkg.name} was packed with ${unresolved.join(", ")}`);
    if (manifest.engines?.node !== ">=20")
      throw new CheckFailed(`${pkg.name} declares no engines.node ">=20"`);
  }
  return `${packed.length} tarballs`;
});

await step("install the tarballs with npm into a scratch project outside the workspace", () => {
  mkdirSync(app);
  writeFileSync(
    join(app, "package.json"),
    `${JSON.stringify({ name: "pack-check-app", private: true }, null, 2)}\n`,
  );
  const files = readdirSync(tarballs).map((file) => join(tarballs, file));
  run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", ...files], app);
  for (const file of readdirSync(fixtures)) copyFileSync(join(fixtures, file), join(app, file));
});

await step("import every package from Node ESM and run the scenario", () =>
  run(process.execPath, ["esm.mjs", JSON.stringify(versions)], app).trim(),
);

await step("require() every package from CommonJS and run the scenario", () =>
  run(process.execPath, ["cjs.cjs", JSON.stringify(versions)], app).trim(),
);

await step("type-check a file with tsc (module nodenext, strict)", () => {
  const tsconfig = {
    compilerOptions: {
      module: "nodenext",
      moduleResolution: "nodenext",
      target: "es2022",
      lib: ["es2022", "dom"],
      strict: true,
      noEmit: true,
      types: [],
    },
    files: ["types.mts"],
  };
  writeFileSync(join(app, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
  run(process.execPath, [fromRepo.resolve("typescript/bin/tsc"), "-p", "tsconfig.json"], app);
});

await step(
  "bundle heap, a strategy, gc and trace for the browser with esbuild and run it in Chromium",
  async () => {
    const esbuild = fromRepo("esbuild");
    const bundle = join(app, "browser.bundle.js");
    try {
      await esbuild.build({
        absWorkingDir: app,
        entryPoints: ["browser.mjs"],
        bundle: true,
        platform: "browser",
        format: "esm",
        minify: true,
        outfile: bundle,
        logLevel: "silent",
      });
    } catch (error) {
      throw new CheckFailed(
        `esbuild --platform=browser failed:\n${error.errors?.map((e) => `${e.location?.file ?? ""}: ${e.text}`).join("\n") ?? error}`,
      );
    }
    if (!existsSync(CHROMIUM))
      throw new CheckFailed(`${CHROMIUM} is not installed (apt-get install -y chromium)`);
    const { chromium } = fromRepo("playwright-core");
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    try {
      const page = await browser.newPage();
      const pageErrors = [];
      page.on("pageerror", (error) => pageErrors.push(error.message));
      await page.goto("about:blank");
      await page.addScriptTag({ content: readFileSync(bundle, "utf8"), type: "module" });
      await page.waitForFunction(() => globalThis.packCheck !== undefined, undefined, { timeout: 30_000 });
      const outcome = await page.evaluate(() => globalThis.packCheck);
      if (pageErrors.length > 0) throw new CheckFailed(`errors in the page: ${pageErrors.join("; ")}`);
      if (!outcome.ok) throw new CheckFailed(`the scenario failed in Chromium: ${outcome.error}`);
      const kib = (readFileSync(bundle).byteLength / 1024).toFixed(1);
      return `${kib} KiB minified; ${JSON.stringify(outcome.seen)}`;
    } finally {
      await browser.close();
    }
  },
);

/** Runs an installed `heapkit` bin: --version and a replay of a real trace, checked. */
function checkBin(bin, cwd) {
  const version = run(bin, ["--version"], cwd).trim();
  if (version !== cli.version)
    throw new CheckFailed(`heapkit --version printed "${version}", package.json says ${cli.version}`);
  const result = JSON.parse(run(bin, ["replay", REPLAYED_TRACE, "--strategy", "tlsf", "--json"], cwd));
  if (
    result.ops !== REPLAYED_TRACE_OPS ||
    result.failedAllocations !== 0 ||
    !(result.utilization > 0 && result.utilization <= 1)
  ) {
    throw new CheckFailed(`heapkit replay of ${REPLAYED_TRACE} gave ${JSON.stringify(result)}`);
  }
  return `heapkit ${version}; ${result.ops} ops, utilization ${result.utilization.toFixed(3)}`;
}

// npm links node_modules/.bin/heapkit to dist/bin.js, whose first line the system reads
await step("the installed heapkit bin: --version and replay of a real trace", () =>
  checkBin(join(app, "node_modules", ".bin", "heapkit"), app),
);

// pnpm writes a shell script of its own that runs the program named by dist/bin.js's first line (a
// `/usr/bin/env -S VAR=… node` line broke it: see apps/cli/scripts/bundle.mjs)
await step("the heapkit bin installed with pnpm (its own bin shim): --version and replay", () => {
  const pnpmApp = join(scratch, "pnpm-app");
  mkdirSync(pnpmApp);
  // every package of the workspace from its tarball, the ones heapkit depends on too (else pnpm looks
  // for them in the registry)
  const spec = (pkg) => `file:${tarballOf(pkg)}`;
  const manifest = { name: "pack-check-pnpm-app", private: true, dependencies: { heapkit: spec(cli) } };
  writeFileSync(join(pnpmApp, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  const overrides = packages.map((pkg) => `  "${pkg.name}": "${spec(pkg)}"`).join("\n");
  writeFileSync(join(pnpmApp, "pnpm-workspace.yaml"), `overrides:\n${overrides}\n`);
  run("npx", ["-y", "pnpm@12.4.2", "install", "--prefer-offline", "--reporter=silent"], pnpmApp);
  return checkBin(join(pnpmApp, "node_modules", ".bin", "heapkit"), pnpmApp);
});

rmSync(scratch, { recursive: true, force: true });
console.log(`pack check: every step passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
