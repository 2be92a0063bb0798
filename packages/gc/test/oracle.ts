// Shared by the oracle tests: where the scenarios are, and how to read them.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { createHeap } from "@heapkit/heap";
import { firstFit } from "@heapkit/strategies";
import { type Scenario, ScenarioReader } from "../src/index.js";

const here = dirname(fileURLToPath(import.meta.url));

/** The families the oracle holds. */
export const FAMILIES = ["disabled", "auto", "auto_small"] as const;

/**
 * The scenarios folder: $HEAPKIT_ORACLE_DIR (a folder holding the family folders, or one holding
 * `scenarios/`), else the copy vendored in test/oracle. Missing → throw: the test must fail, not skip.
 */
export function oracleDir(): string {
  const env = process.env.HEAPKIT_ORACLE_DIR;
  const candidates = env ? [join(env, "scenarios"), env] : [join(here, "oracle")];
  for (const dir of candidates) if (existsSync(join(dir, "disabled"))) return resolve(dir);
  throw new Error(`the CPython oracle scenarios are missing (looked in ${candidates.join(", ")})`);
}

/** Every scenario file of a family, sorted. */
export function scenarioFiles(family: string): string[] {
  const dir = join(oracleDir(), family);
  return readdirSync(dir)
    .filter((f) => f.endsWith(".jsonl") || f.endsWith(".jsonl.gz"))
    .sort()
    .map((f) => join(dir, f));
}

/** Reads and parses one scenario file (gzipped or not). */
export function readScenario(file: string): ScenarioReader {
  const raw = readFileSync(file);
  const text = file.endsWith(".gz") ? gunzipSync(raw).toString("utf8") : raw.toString("utf8");
  return new ScenarioReader(text, file);
}

/** Reads one scenario file into memory (to replay it on several plans). */
export function loadScenario(file: string): Scenario {
  const reader = readScenario(file);
  const steps = [...reader.steps];
  return { meta: reader.meta, steps, end: reader.end };
}

/** A heap big enough for any scenario. */
export function scenarioHeap() {
  return createHeap({ strategy: firstFit({ order: "lifo" }), size: 1 << 20, maxSize: 64 << 20 });
}
