import { describe, expect, it } from "vitest";
import {
  checkNames,
  DEFAULT_WORKERS,
  implNames,
  parseBenchArgs,
  USAGE,
  UsageError,
  variantImpls,
} from "../src/options.js";
import { FIXED_MEMORY, FRONT_CACHE, GLOBAL_LOCK, RESIZABLE_MEMORY } from "../src/stats.js";

describe("parseBenchArgs", () => {
  it("gives the defaults with no arguments", () => {
    const o = parseBenchArgs([]);
    expect(o).toMatchObject({ quick: false, json: false, runs: 5, budgetMs: 2000, page: true, help: false });
    expect(o.impls).toBeNull();
    expect(o.workloads).toBeNull();
    expect(o.workers).toEqual(DEFAULT_WORKERS);
  });

  it("shortens the budget and the worker counts with --quick, unless they are given", () => {
    expect(parseBenchArgs(["--quick"])).toMatchObject({ budgetMs: 100, workers: [1, 2] });
    expect(parseBenchArgs(["--quick", "--budget", "250", "--workers", "4,1"])).toMatchObject({
      budgetMs: 250,
      workers: [1, 4],
    });
  });

  it("reads lists, --no-page, --from and -h, and skips a bare --", () => {
    const o = parseBenchArgs([
      "--",
      "--impl",
      "tlsf,glibc",
      "--workload",
      "W,pairs",
      "--no-page",
      "--from",
      "x.json",
      "-h",
    ]);
    expect([...(o.impls ?? [])]).toEqual(["tlsf", "glibc"]);
    expect([...(o.workloads ?? [])]).toEqual(["W", "pairs"]);
    expect(o).toMatchObject({ page: false, from: "x.json", help: true });
  });

  it("names an unknown option in a UsageError", () => {
    expect(() => parseBenchArgs(["--fast"])).toThrow(UsageError);
    expect(() => parseBenchArgs(["--fast"])).toThrow("unknown option --fast (see --help)");
  });

  it("rejects a count out of range with the range allowed", () => {
    expect(() => parseBenchArgs(["--runs", "0"])).toThrow(
      '--runs takes a whole number from 1 to 1000, got "0"',
    );
    expect(() => parseBenchArgs(["--runs", "2.5"])).toThrow(UsageError);
    expect(() => parseBenchArgs(["--workers", "1,x"])).toThrow(
      '--workers takes a whole number from 1 to 64, got "x"',
    );
    expect(() => parseBenchArgs(["--budget", "-5"])).toThrow(UsageError);
  });

  it("rejects an option without its value and a stray positional", () => {
    expect(() => parseBenchArgs(["--runs"])).toThrow(UsageError);
    expect(() => parseBenchArgs(["W"])).toThrow(UsageError);
  });

  it("takes the worker counts from multi-worker workloads named in --workload", () => {
    expect(parseBenchArgs(["--workload", "W,Wx4,Wx2"]).workers).toEqual([2, 4]);
    expect(parseBenchArgs(["--workload", "Wx4", "--workers", "1"]).workers).toEqual([1]);
    expect(() => parseBenchArgs(["--workload", "Wx0"])).toThrow(
      '--workload takes a whole number from 1 to 64, got "0"',
    );
  });
});

describe("checkNames", () => {
  it("names what is unknown and lists what there is", () => {
    expect(() => checkNames("--impl", new Set(["tlsf", "tslf"]), ["tlsf", "glibc"])).toThrow(
      '--impl: no "tslf"; there are tlsf, glibc',
    );
    expect(() => checkNames("--impl", new Set(["tlsf"]), ["tlsf"])).not.toThrow();
    expect(() => checkNames("--impl", null, [])).not.toThrow();
  });
});

describe("the /cache and /fixed rows", () => {
  const strategies = ["first-fit", "tlsf", "segregated", "buddy"];
  const cachedFor = ["tlsf", "segregated", "buddy"];
  const names = implNames(strategies, [FIXED_MEMORY, FRONT_CACHE, GLOBAL_LOCK], ["glibc"]);

  it("takes strategy/cache in --impl, and no other spelling", () => {
    const o = parseBenchArgs(["--impl", "tlsf,tlsf/cache", "--workload", "W,pairs"]);
    expect([...(o.impls ?? [])]).toEqual(["tlsf", "tlsf/cache"]);
    expect(() => checkNames("--impl", o.impls, names)).not.toThrow();
    expect(names).toContain("buddy/cache");
    expect(() => checkNames("--impl", new Set(["tlsf/cached"]), names)).toThrow('--impl: no "tlsf/cached"');
    expect(() => checkNames("--impl", new Set(["cache"]), names)).toThrow(UsageError);
  });

  it("measures strategy/cache for the cached strategies in a full run, and none with --quick", () => {
    expect(variantImpls(parseBenchArgs([]), strategies, FRONT_CACHE, cachedFor)).toEqual([
      "tlsf/cache",
      "segregated/cache",
      "buddy/cache",
    ]);
    expect(variantImpls(parseBenchArgs([]), strategies, FIXED_MEMORY, strategies)).toEqual(
      strategies.map((s) => `${s}/fixed`),
    );
    expect(variantImpls(parseBenchArgs([]), strategies, RESIZABLE_MEMORY, ["tlsf", "buddy"])).toEqual([
      "tlsf/resize",
      "buddy/resize",
    ]);
    expect(variantImpls(parseBenchArgs(["--quick"]), strategies, FRONT_CACHE, cachedFor)).toEqual([]);
  });

  it("follows --impl: a strategy brings its own along in a full run, a named one runs in any run", () => {
    expect(variantImpls(parseBenchArgs(["--impl", "tlsf"]), strategies, FRONT_CACHE, cachedFor)).toEqual([
      "tlsf/cache",
    ]);
    const named = ["--impl", "buddy/cache,first-fit/cache"];
    expect(variantImpls(parseBenchArgs(named), strategies, FRONT_CACHE, cachedFor)).toEqual([
      "first-fit/cache",
      "buddy/cache",
    ]);
    expect(variantImpls(parseBenchArgs(["--quick", ...named]), strategies, FRONT_CACHE, cachedFor)).toEqual([
      "first-fit/cache",
      "buddy/cache",
    ]);
    expect(
      variantImpls(parseBenchArgs(["--quick", "--impl", "tlsf/fixed"]), strategies, FIXED_MEMORY, strategies),
    ).toEqual(["tlsf/fixed"]);
    // a peer alone brings no strategy's rows
    expect(variantImpls(parseBenchArgs(["--impl", "glibc"]), strategies, FRONT_CACHE, cachedFor)).toEqual([]);
  });

  it("lists strategy/cache in --help", () => {
    expect(USAGE).toContain("strategy/cache");
  });
});
