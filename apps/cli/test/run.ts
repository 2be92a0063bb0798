import { type CliIo, main } from "../src/index.js";

/** Runs the CLI in-process and captures what it writes. */
export async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIo = {
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
    errIsTTY: false,
    color: false,
  };
  const code = await main(argv, io);
  return { code, out, err };
}
