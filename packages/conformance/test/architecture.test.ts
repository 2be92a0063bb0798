// The dependency rule of the root README ("What is here"), checked on every package.json and every import in src/:
//   contract <- heap, strategies/*, gc, trace <- cli, docs, bench
// A strategy imports only the contract and the shared block mechanism; nothing imports the apps.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../../..");

interface Workspace {
  dir: string;
  name: string;
  runtime: string[];
  imports: Set<string>;
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|vue)$/.test(entry) ? [path] : [];
  });
}

function workspaces(): Workspace[] {
  const dirs = [
    ...readdirSync(join(root, "packages")).map((d) => join("packages", d)),
    ...readdirSync(join(root, "packages/strategies")).map((d) => join("packages/strategies", d)),
    ...readdirSync(join(root, "apps")).map((d) => join("apps", d)),
    "bench",
  ].filter((dir) => existsSync(join(root, dir, "package.json")));
  return dirs.map((dir) => {
    const pkg = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8"));
    const imports = new Set<string>();
    for (const file of sourceFiles(join(root, dir, "src"))) {
      for (const match of readFileSync(file, "utf8").matchAll(/from\s+"((?:@heapkit\/)?[^".][^"]*)"/g)) {
        const spec = match[1];
        imports.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]);
      }
    }
    return { dir, name: pkg.name, runtime: Object.keys(pkg.dependencies ?? {}), imports };
  });
}

const all = workspaces();
const heapkitOf = (w: Workspace) =>
  [...new Set([...w.runtime, ...w.imports])].filter((n) => n.startsWith("@heapkit/") || n === "heapkit");

describe("the dependency rule", () => {
  it("finds the workspaces", () => {
    expect(all.map((w) => w.name)).toEqual(
      expect.arrayContaining(["@heapkit/contract", "@heapkit/heap", "heapkit"]),
    );
  });

  it("keeps the contract free of dependencies", () => {
    const contract = all.find((w) => w.name === "@heapkit/contract");
    expect(contract?.runtime).toEqual([]);
  });

  for (const w of all.filter((w) => w.dir.startsWith("packages/strategies/") && !w.dir.endsWith("/all"))) {
    it(`lets ${w.name} use only the contract and the block mechanism`, () => {
      expect(heapkitOf(w).filter((n) => n !== "@heapkit/contract" && n !== "@heapkit/boundary-tags")).toEqual(
        [],
      );
    });
  }

  for (const w of all.filter((w) =>
    ["@heapkit/heap", "@heapkit/gc", "@heapkit/trace", "@heapkit/boundary-tags"].includes(w.name),
  )) {
    it(`lets ${w.name} depend on the contract alone at run time`, () => {
      expect(heapkitOf(w).filter((n) => n !== "@heapkit/contract")).toEqual([]);
    });
  }

  it("lets nothing import the CLI, the docs or the bench", () => {
    const apps = new Set(["heapkit", "@heapkit/docs", "@heapkit/bench"]);
    for (const w of all) {
      expect(
        heapkitOf(w).filter((n) => apps.has(n) && n !== w.name),
        w.name,
      ).toEqual([]);
    }
  });
});
