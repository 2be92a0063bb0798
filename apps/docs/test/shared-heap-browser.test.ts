/**
 * One heap shared by two Web Workers in Chromium. The page (test/shared-heap/page.ts) and its
 * worker are bundled for the browser with esbuild from the TypeScript sources (the
 * "@heapkit/source" condition, so no build first) and served on 127.0.0.1 with the headers that
 * make a page cross-origin isolated — without them a page has no SharedArrayBuffer. Each worker
 * runs random mallocs, reallocs and frees with every payload verified, then frees the blocks the
 * other one still holds; the page checks the heap and reports.
 *
 * Skips, saying why, where /usr/bin/chromium is missing (CI installs it).
 */
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, launchChromium } from "./chromium.js";
import type { SharedHeapResult } from "./shared-heap/page.js";

const missing = existsSync(CHROMIUM) ? null : `${CHROMIUM} is not installed (apt-get install -y chromium)`;
if (missing !== null) console.warn(`shared-heap browser test skipped: ${missing}`);

/** The headers that make a page cross-origin isolated, so that it may use SharedArrayBuffer. */
const ISOLATION_HEADERS = {
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-embedder-policy": "require-corp",
  "cross-origin-resource-policy": "same-origin",
};

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>shared heap</title></head>
<body>running…<script type="module" src="./page.js"></script></body></html>`;

async function bundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(`./shared-heap/${entry}`, import.meta.url))],
    bundle: true,
    write: false,
    platform: "browser",
    format: "esm",
    target: "es2022",
    conditions: ["@heapkit/source"],
    logLevel: "silent",
  });
  return result.outputFiles[0].text;
}

function serve(files: Record<string, { type: string; body: string }>, headers: Record<string, string>) {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    const file = files[path];
    if (file === undefined) {
      res.writeHead(404, headers).end();
      return;
    }
    res.writeHead(200, { ...headers, "content-type": file.type }).end(file.body);
  });
  return new Promise<Server>((done) => server.listen(0, "127.0.0.1", () => done(server)));
}

const suite = missing === null ? describe : describe.skip;

suite(
  missing === null ? "a shared heap in Chromium" : `a shared heap in Chromium (skipped: ${missing})`,
  () => {
    let browser: Browser;
    const servers: Server[] = [];
    let files: Record<string, { type: string; body: string }>;

    async function open(headers: Record<string, string>, query: string): Promise<SharedHeapResult | string> {
      const server = await serve(files, headers);
      servers.push(server);
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      try {
        await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/${query}`);
        const handle = await page.waitForFunction(
          () =>
            (window as { sharedHeapResult?: unknown }).sharedHeapResult ??
            (document.body.textContent?.startsWith("failed") ? document.body.textContent : undefined),
          undefined,
          { timeout: 60_000 },
        );
        const value = (await handle.jsonValue()) as SharedHeapResult | string;
        if (errors.length > 0) return `page errors: ${errors.join("; ")}`;
        return value;
      } catch (error) {
        return `${(error as Error).message}${errors.length > 0 ? `; page errors: ${errors.join("; ")}` : ""}`;
      } finally {
        await page.close();
      }
    }

    beforeAll(async () => {
      const javascript = "text/javascript; charset=utf-8";
      const [page, worker] = await Promise.all([bundle("page.ts"), bundle("worker.ts")]);
      files = {
        "/": { type: "text/html; charset=utf-8", body: PAGE },
        "/page.js": { type: javascript, body: page },
        "/worker.js": { type: javascript, body: worker },
      };
      browser = await launchChromium();
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
    });

    it("two Web Workers malloc, realloc and free on one heap, free each other's blocks, and check() passes", async () => {
      const result = await open(ISOLATION_HEADERS, "?ops=20000&seed=7");
      if (typeof result === "string") throw new Error(result);
      expect(result.crossOriginIsolated).toBe(true);
      expect(result.error).toBeNull();
      expect(result.ok).toBe(true);
      expect(result.ops).toBe(40_000);
      expect(result.handedOver, "blocks freed by the other worker").toBeGreaterThan(0);
      expect(result.liveBlocks).toBe(0);
      expect(result.heapSize, "the heap grew from a worker").toBeGreaterThan(result.initialHeapSize);
      expect(result.attachedWorkers, "both workers detached").toBe(1);
      console.log(`two Web Workers: ${result.ops} ops in ${result.elapsedMs.toFixed(0)} ms in the page`);
    }, 90_000);

    it("without the isolation headers the page has no SharedArrayBuffer, and says so", async () => {
      const result = await open({}, "?ops=10");
      if (typeof result === "string") throw new Error(result);
      expect(result.crossOriginIsolated).toBe(false);
      expect(result.error).toMatch(/^UnsupportedPlatformError: .*SharedArrayBuffer/);
      expect(result.error, "the error says which headers to send").toContain("Cross-Origin-Embedder-Policy");
    }, 90_000);
  },
);
