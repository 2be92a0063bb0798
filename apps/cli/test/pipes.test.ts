import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { LAUNCHER_TUNABLES, userEnvironment } from "../src/lib/launcher.js";
import { run } from "./run.js";

const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const built = existsSync(BIN);
if (!built) console.warn("skipping the pipe tests: they run the built CLI (build apps/cli first)");

/** Runs `heapkit ARGS | READER` in bash with pipefail, so the exit status is heapkit's unless the reader fails. */
function piped(args: string, reader: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(
    "bash",
    ["-c", `set -o pipefail; ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} ${args} | ${reader}`],
    { encoding: "utf8" },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

// each test starts bash and a node process: seconds on a busy machine
describe.skipIf(!built)(
  "a closed standard output (the built CLI through a real pipe)",
  { timeout: 30_000 },
  () => {
    it.each(["strategies", "demo"])("heapkit %s | head -1 prints one line and exits 0 quietly", (command) => {
      const { status, stdout, stderr } = piped(command, "head -1");
      expect(stderr).toBe("");
      expect(status).toBe(0);
      expect(stdout.split("\n")).toHaveLength(2);
    });

    // `true` exits before heapkit has started, so every write meets a closed pipe: EPIPE for certain
    it.each(["strategies", "demo", "gc demo"])(
      "heapkit %s | true ends with exit 0 and no stack trace",
      (command) => {
        const { status, stderr } = piped(command, "true");
        expect(stderr).toBe("");
        expect(status).toBe(0);
      },
    );

    it("a failure still exits non-zero when the output is open", () => {
      const { status, stderr } = piped("demo --strategy worst-fit", "cat");
      expect(status).toBe(2);
      expect(stderr).toMatch(/^heapkit: unknown strategy "worst-fit"/);
    });

    // `heapkit replay` runs from a module of its own (dist/replay-main.js): the same figures, errors and
    // exit codes as the CLI in-process
    it("heapkit replay from the executable: the figures of the CLI in-process, and its errors", async () => {
      const trace = fileURLToPath(new URL("../../../traces/real/gcc-as.rep.gz", import.meta.url));
      const figures = (json: string) => {
        const { seconds, replaySeconds, opsPerSecond, endToEndOpsPerSecond, ...rest } = JSON.parse(json);
        return rest;
      };
      const built = piped(`replay ${trace} --strategy best-fit --json`, "cat");
      expect(built.status).toBe(0);
      const inProcess = await run("replay", trace, "--strategy", "best-fit", "--json");
      expect(inProcess.code).toBe(0);
      expect(figures(built.stdout)).toEqual(figures(inProcess.out));
      expect(figures(built.stdout).ops).toBe(16454);
      const missing = piped("replay no-such-trace.rep --json", "cat");
      expect(missing.status).toBe(1);
      expect(JSON.parse(missing.stderr).error.message).toMatch(/cannot read the trace no-such-trace\.rep/);
      const wrong = piped(`replay ${trace} --strategy worst-fit`, "cat");
      expect(wrong.status).toBe(2);
      expect(wrong.stderr).toMatch(/^heapkit: unknown strategy "worst-fit"/);
    });
  },
);

// dist/bin.js run as a program starts with a shell launcher (scripts/bundle.mjs) that execs node with
// glibc's malloc tuned (src/lib/launcher.ts); what node gets is looked at through a copy of its two lines
describe.skipIf(!built || process.platform === "win32")(
  "the executable's launcher (the built CLI run as a program)",
  { timeout: 30_000 },
  () => {
    const launcher = () => {
      const lines = readFileSync(BIN, "utf8").split("\n");
      expect(lines[0]).toBe("#!/bin/sh");
      const dir = mkdtempSync(join(tmpdir(), "heapkit-launcher-"));
      const file = join(dir, "show.mjs");
      writeFileSync(
        file,
        `${lines[0]}\n${lines[1]}\nconsole.log(JSON.stringify([process.env.GLIBC_TUNABLES ?? null, process.argv.slice(2)]));\n`,
        { mode: 0o755 },
      );
      return { file, done: () => rmSync(dir, { recursive: true, force: true }) };
    };
    const shown = (file: string, env: NodeJS.ProcessEnv) => {
      const result = spawnSync(file, ["a b", "--json", "$HOME", ""], { encoding: "utf8", env });
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      return JSON.parse(result.stdout);
    };

    it("hands node its arguments as given, with glibc's malloc tuned and the user's GLIBC_TUNABLES after (so it wins)", () => {
      const { file, done } = launcher();
      try {
        const { GLIBC_TUNABLES: _, ...env } = process.env;
        const tuned = `${LAUNCHER_TUNABLES}:`;
        expect(tuned).toContain("glibc.malloc.hugetlb=1:");
        expect(shown(file, env)).toEqual([tuned, ["a b", "--json", "$HOME", ""]]);
        expect(shown(file, { ...env, GLIBC_TUNABLES: "glibc.malloc.hugetlb=0" })[0]).toBe(
          `${tuned}glibc.malloc.hugetlb=0`,
        );
      } finally {
        done();
      }
    });

    it("runs the CLI: dist/bin.js --version and a replay, run as programs", () => {
      const version = spawnSync(BIN, ["--version"], { encoding: "utf8" });
      expect(version.status).toBe(0);
      expect(version.stdout.trim()).toBe(
        JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version,
      );
      const trace = fileURLToPath(new URL("../../../traces/real/gcc-as.rep.gz", import.meta.url));
      const replayed = spawnSync(BIN, ["replay", trace, "--strategy", "tlsf", "--json"], {
        encoding: "utf8",
      });
      expect(replayed.status).toBe(0);
      expect(JSON.parse(replayed.stdout).ops).toBe(16454);
    });
  },
);

// what the launcher adds, taken off again (src/lib/launcher.ts): needs no build
describe("the launcher's tunables", () => {
  it("is taken off again for a program the CLI hands the user's environment (heapkit record's)", () => {
    const { GLIBC_TUNABLES: _, ...env } = process.env;
    expect(userEnvironment({ ...env, GLIBC_TUNABLES: `${LAUNCHER_TUNABLES}:` })).toEqual(env);
    expect(
      userEnvironment({ ...env, GLIBC_TUNABLES: `${LAUNCHER_TUNABLES}:glibc.malloc.hugetlb=0` })
        .GLIBC_TUNABLES,
    ).toBe("glibc.malloc.hugetlb=0");
    // a value the launcher did not write is the user's, whole
    expect(userEnvironment({ ...env, GLIBC_TUNABLES: "glibc.malloc.hugetlb=1" }).GLIBC_TUNABLES).toBe(
      "glibc.malloc.hugetlb=1",
    );
    expect(userEnvironment(env)).toEqual(env);
  });
});
