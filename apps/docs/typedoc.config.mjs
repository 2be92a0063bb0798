// @ts-check
// The API reference: typedoc over every public package of the workspace, written as markdown
// into ./api for VitePress (typedoc-plugin-markdown + typedoc-vitepress-theme).
//
// Packages are found, not listed: every directory under packages/ and packages/strategies/ with a
// package.json that is not `"private": true` and has a src/index.ts. A new package appears in the
// reference the day it lands. Warnings are errors, so every public symbol stays documented.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");

/** Public workspace packages with a TypeScript entry point, as paths relative to this folder. */
function publicPackages() {
  const found = [];
  for (const parent of ["packages", join("packages", "strategies")]) {
    const dir = join(root, parent);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const pkgDir = join(dir, name);
      const manifest = join(pkgDir, "package.json");
      if (!existsSync(manifest) || !existsSync(join(pkgDir, "src", "index.ts"))) continue;
      const pkg = JSON.parse(readFileSync(manifest, "utf8"));
      if (pkg.private === true) continue;
      found.push(relative(here, pkgDir));
    }
  }
  return found;
}

/** @type {Partial<import("typedoc").TypeDocOptions & import("typedoc-plugin-markdown").PluginOptions & { docsRoot: string, sidebar: object }>} */
const config = {
  name: "heapkit API",
  entryPointStrategy: "packages",
  entryPoints: publicPackages(),
  packageOptions: {
    entryPoints: ["src/index.ts"],
    includeVersion: false,
    excludePrivate: true,
    excludeProtected: false,
    excludeInternal: true,
    readme: "none",
    disableSources: true,
    disableGit: true,
    // type errors are the typecheck task's business (tsc over src and test); here only the
    // documentation of src/index.ts matters, and a test file must not block the docs
    skipErrorChecking: true,
  },
  plugin: ["typedoc-plugin-markdown", "typedoc-vitepress-theme"],
  out: "./api",
  docsRoot: "./",
  readme: "none",
  cleanOutputDir: true,
  treatWarningsAsErrors: true,
  treatValidationWarningsAsErrors: true,
  validation: {
    notExported: true,
    invalidLink: true,
    rewrittenLink: true,
    notDocumented: true,
    unusedMergeModuleWith: true,
  },
  requiredToBeDocumented: [
    "Enum",
    "EnumMember",
    "Variable",
    "Function",
    "Class",
    "Interface",
    "Property",
    "Method",
    "Accessor",
    "TypeAlias",
  ],
  disableSources: true,
  disableGit: true,
  hidePageHeader: true,
  hideBreadcrumbs: false,
  useCodeBlocks: true,
  excludeScopesInPaths: true,
  parametersFormat: "table",
  interfacePropertiesFormat: "table",
  classPropertiesFormat: "table",
  typeDeclarationFormat: "table",
  enumMembersFormat: "table",
  sidebar: { autoConfiguration: true, format: "vitepress", pretty: true, collapsed: true },
};

export default config;
