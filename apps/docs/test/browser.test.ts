/**
 * The docs site in a real browser: serves the BUILT site (.vitepress/dist, made by `pnpm run docs`)
 * on 127.0.0.1 and drives Debian's Chromium through playwright-core. It checks that the home page
 * renders, that navigation and search reach the API page of @heapkit/heap, that a guide's heap
 * pictures are drawn, and that the playground's malloc and free change the map and the stats.
 * Screenshots go to apps/docs/artifacts/ (kept by CI as artifacts).
 *
 * Skips, saying why, where /usr/bin/chromium or the built site is missing.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const CHROMIUM = "/usr/bin/chromium";
const docsDir = resolve(fileURLToPath(new URL("..", import.meta.url)));
const dist = join(docsDir, ".vitepress", "dist");
const artifacts = join(docsDir, "artifacts");

const missing = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is not installed (apt-get install -y chromium)`
  : !existsSync(join(dist, "index.html"))
    ? `the site is not built: run \`npx -y pnpm@12.4.2 run docs\` first (no ${join(dist, "index.html")})`
    : null;
if (missing !== null) console.warn(`docs browser test skipped: ${missing}`);

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".woff2": "font/woff2",
  ".png": "image/png",
  ".txt": "text/plain; charset=utf-8",
};

/** A static server for the built site: `/a/` → a/index.html, `/a/b` → a/b.html, 404 → 404.html. */
function serve(root: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://127.0.0.1").pathname);
    const safe = normalize(path).replace(/^(\.\.[/\\])+/, "");
    const candidates = [join(root, safe), join(root, safe, "index.html"), join(root, `${safe}.html`)];
    const file = candidates.find((f) => f.startsWith(root) && existsSync(f) && statSync(f).isFile());
    if (file === undefined) {
      res.writeHead(404, { "content-type": TYPES[".html"] });
      res.end(readFileSync(join(root, "404.html")));
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
    res.end(readFileSync(file));
  });
  return new Promise((done) => server.listen(0, "127.0.0.1", () => done(server)));
}

const suite = missing === null ? describe : describe.skip;

suite(
  missing === null ? "the docs site in Chromium" : `the docs site in Chromium (skipped: ${missing})`,
  () => {
    let server: Server;
    let browser: Browser;
    let base: string;
    const errors: string[] = [];

    async function open(path: string): Promise<Page> {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.on("pageerror", (error) => errors.push(`${path}: ${error.message}`));
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(`${path}: console: ${message.text()}`);
      });
      await page.goto(`${base}${path}`, { waitUntil: "networkidle" });
      return page;
    }

    async function shot(page: Page, name: string, fullPage = false): Promise<void> {
      await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage });
    }

    beforeAll(async () => {
      mkdirSync(artifacts, { recursive: true });
      server = await serve(dist);
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      browser = await chromium.launch({
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
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await new Promise((done) => (server ? server.close(done) : done(undefined)));
    });

    it("renders the home page", async () => {
      const page = await open("/");
      await expect(page.title()).resolves.toContain("heapkit");
      const hero = page.locator(".VPHero .name");
      await hero.waitFor();
      expect(await hero.textContent()).toContain("heapkit");
      expect(await page.locator(".VPFeature").count()).toBeGreaterThanOrEqual(3);
      await shot(page, "home");
      await page.close();
    }, 60_000);

    it("navigation and search reach the API page of @heapkit/heap", async () => {
      const page = await open("/");
      // navigation: the top bar's API link, then the package on the reference's index
      await page.locator(".VPNavBar").getByRole("link", { name: "API", exact: true }).click();
      await page.waitForURL(/\/api\/$/);
      await page.locator(".vp-doc").getByRole("link", { name: "@heapkit/heap", exact: true }).click();
      await page.waitForURL(/\/api\/heap\/$/);
      await expect.poll(() => page.locator(".vp-doc h1").first().textContent()).toContain("@heapkit/heap");
      expect(
        await page.locator(".vp-doc").getByRole("link", { name: "createHeap", exact: true }).count(),
      ).toBe(1);
      await shot(page, "api");

      // search: the local search box finds createHeap and opens its page
      await page.locator(".VPNavBarSearch button").click();
      const input = page.locator(".VPLocalSearchBox input");
      await input.fill("createHeap");
      const result = page.locator(".VPLocalSearchBox .result").first();
      await result.waitFor();
      await shot(page, "search");
      await input.press("Enter");
      await page.waitForURL(/\/api\/heap\/functions\/createHeap/);
      // the URL changes before the router swaps the content in: wait for the new heading
      await expect.poll(() => page.locator(".vp-doc h1").first().textContent()).toContain("createHeap");
      await page.close();
    }, 60_000);

    it("draws a guide's heap pictures with the real strategy", async () => {
      const page = await open("/guide/toy-to-real");
      const pictures = page.locator('[data-testid="heap-picture"]');
      expect(await pictures.count()).toBe(3);
      // the seed's last step failed, as the toy's does; the first step holds two used blocks
      const first = pictures.first();
      await expect(first.textContent()).resolves.toContain("HEAP_OUT_OF_MEMORY");
      const firstMap = first.locator('[data-testid="picture-map"]').first();
      expect(await firstMap.locator('[data-testid="heap-block"][data-state="used"]').count()).toBe(2);
      await shot(page, "guide");
      await first.scrollIntoViewIfNeeded();
      await page.mouse.wheel(0, -80);
      await shot(page, "guide-picture");
      await page.close();
    }, 60_000);

    it("the playground mallocs and frees, and the map and the stats follow", async () => {
      const page = await open("/playground");
      const map = page.locator('[data-testid="pg-map"]');
      await map.waitFor();
      const stat = async (key: string) =>
        page.locator(`[data-testid="pg-stat-${key}"]`).getAttribute("data-value");
      const usedBlocks = map.locator('[data-testid="heap-block"][data-state="used"]');
      const freeBlocks = map.locator('[data-testid="heap-block"][data-state="free"]');

      expect(await stat("liveBlocks")).toBe("0");
      expect(await usedBlocks.count()).toBe(0);
      const heapBefore = Number(await stat("heapSize").then((v) => v?.split(" ")[0]));

      // malloc by clicking the button, three times
      const size = page.getByTestId("pg-malloc-size");
      for (const bytes of ["256", "100", "512"]) {
        await size.fill(bytes);
        await page.getByTestId("pg-malloc").click();
      }
      await expect.poll(() => stat("liveBlocks")).toBe("3");
      expect(await usedBlocks.count()).toBe(3);
      const heapAfter = Number(await stat("heapSize").then((v) => v?.split(" ")[0]));
      expect(heapAfter).toBeGreaterThan(heapBefore);
      expect(Number(await stat("liveBytes"))).toBeGreaterThanOrEqual(256 + 100 + 512);
      await expect(page.getByTestId("pg-log").textContent()).resolves.toMatch(/malloc\(512\) → \d+/);

      // free by clicking the middle block on the map: a free block appears where it was
      const middle = usedBlocks.nth(1);
      const freedPtr = await middle.getAttribute("data-ptr");
      await middle.locator("rect").nth(1).click();
      await expect.poll(() => stat("liveBlocks")).toBe("2");
      expect(await usedBlocks.count()).toBe(2);
      expect(await freeBlocks.count()).toBe(1);
      expect(await stat("mallocs")).toBe("3 / 1");
      await expect(page.getByTestId("pg-log").textContent()).resolves.toContain(`free(${freedPtr})`);

      // free by typing: a double free is refused with its code, and nothing changes
      await page.getByTestId("pg-command").fill(`free ${freedPtr}`);
      await page.getByTestId("pg-run").click();
      await expect(page.getByTestId("pg-log").textContent()).resolves.toContain("HEAP_DOUBLE_FREE");
      expect(await stat("liveBlocks")).toBe("2");
      await shot(page, "playground-typed");

      // a real trace, stepped: the map fills and the stats count the ops
      await page.getByTestId("pg-strategy").selectOption("best-fit");
      await page.getByTestId("pg-trace").selectOption("jq-groupby");
      await page.getByTestId("pg-trace-load").click();
      await expect.poll(() => stat("liveBlocks")).toBe("0");
      for (let i = 0; i < 60; i++) await page.getByTestId("pg-step").click();
      await expect(page.getByTestId("pg-trace-progress").textContent()).resolves.toContain("60 / 242");
      const live = Number(await stat("liveBlocks"));
      expect(live).toBeGreaterThan(10);
      expect(await usedBlocks.count()).toBe(live);
      expect(await stat("strategy")).toBe("best-fit");
      await shot(page, "playground");
      await shot(page, "playground-full", true);

      // zoomed to the break, the same blocks are drawn larger
      const widthOf = async () =>
        Number(await usedBlocks.first().locator("rect").last().getAttribute("width"));
      const before = await widthOf();
      await page.getByTestId("pg-view").selectOption("brk");
      await expect.poll(widthOf).toBeGreaterThan(before);
      expect(await usedBlocks.count()).toBe(live);
      await shot(page, "playground-zoom");
      await page.close();
    }, 120_000);

    it("logs no page errors", () => {
      expect(errors).toEqual([]);
    });
  },
);
