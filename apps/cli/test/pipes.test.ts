import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
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
