// Converts a glibc mtrace log (as `heapkit record` writes it) to the .rep form of traces/real, the way
// the traces there were made: each allocation a fresh id, a realloc an `r` op on its block's id, frees
// of pointers allocated before tracing dropped, a request of 0 bytes made 1, and a free appended for
// each block still live at exit (so the trace is balanced). Line 1 of the header: the peak live bytes.
// Run after `npx -y pnpm@12.4.2 build`:  node traces/mtrace-to-rep.mjs IN.mtrace OUT.rep.gz
import { readTrace, writeTrace } from "../packages/trace/dist/node.js";

const [input, output] = process.argv.slice(2);
if (!input || !output) throw new Error("usage: node traces/mtrace-to-rep.mjs IN.mtrace OUT.rep.gz");
const reader = readTrace(input, { format: "mtrace" });
const live = new Set();
async function* balanced() {
  for await (const event of reader) {
    if (event.op === "free") live.delete(event.id);
    else live.add(event.id);
    yield event.op === "free" ? event : { op: event.op, id: event.id, size: Math.max(1, event.size) };
  }
  for (const id of live) yield { op: "free", id };
}
await writeTrace(balanced(), output);
console.log(JSON.stringify(reader.summary));
