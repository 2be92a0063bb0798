/**
 * The docs site in a real browser: serves the BUILT site (.vitepress/dist, made by `pnpm run docs`)
 * on 127.0.0.1 and drives Debian's Chromium through playwright-core. It checks that the home page
 * renders, that navigation and search reach the API page of @heapkit/heap, that a guide's heap
 * pictures are drawn, that the playground's malloc and free change the map and the stats, that the
 * results page gives its tables the room they need (on a laptop and on a 390 px phone) and that the
 * start page carries the install commands and the version.
 * Screenshots go to apps/docs/artifacts/ (kept by CI as artifacts).
 *
 * Skips, saying why, where /usr/bin/chromium or the built site is missing.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, launchChromium } from "./chromium.js";

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

    async function open(path: string, width = 1280): Promise<Page> {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
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
      browser = await launchChromium();
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

      // a malloc beyond the heap's limit and one with no room left are both failed allocations
      expect(await stat("failedAllocations")).toBe("0");
      for (const command of ["malloc 99999999", "malloc 4000"]) {
        await page.getByTestId("pg-command").fill(command);
        await page.getByTestId("pg-run").click();
      }
      await expect.poll(() => stat("failedAllocations")).toBe("2");
      expect(await stat("liveBlocks")).toBe("2");

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

    it("the results page gives wide tables room, keeps numbers whole, and never widens a phone's page", async () => {
      /** What the page's layout does with its tables: widths, and the numeric cells broken over lines. */
      const layoutOf = (page: Page) =>
        page.evaluate(() => {
          const numeric = [...document.querySelectorAll<HTMLElement>(".vp-doc td.hk-num")];
          const wrapped = numeric.filter((cell) => {
            const range = document.createRange();
            range.selectNodeContents(cell);
            return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size > 1;
          });
          return {
            documentWidth: document.documentElement.scrollWidth,
            viewportWidth: window.innerWidth,
            contentWidth: document.querySelector(".vp-doc")?.clientWidth ?? 0,
            tables: document.querySelectorAll(".vp-doc table").length,
            numericCells: numeric.length,
            wrapped: wrapped.slice(0, 5).map((cell) => cell.textContent),
          };
        });

      const laptop = await open("/results/", 1280);
      const wide = await layoutOf(laptop);
      expect(wide.tables).toBeGreaterThan(0);
      expect(wide.numericCells).toBeGreaterThan(100);
      expect(wide.wrapped).toEqual([]);
      // the default column is 688 px; this page takes the window beside the outline
      expect(wide.contentWidth).toBeGreaterThanOrEqual(880);
      expect(wide.documentWidth).toBeLessThanOrEqual(wide.viewportWidth);
      await laptop.locator("#w").scrollIntoViewIfNeeded();
      await shot(laptop, "results");
      await laptop.close();

      const phone = await open("/results/", 390);
      const narrow = await layoutOf(phone);
      expect(narrow.wrapped).toEqual([]);
      expect(narrow.documentWidth).toBeLessThanOrEqual(390);
      // the tables scroll inside their own boxes instead
      const scrolling = await phone.evaluate(
        () =>
          [...document.querySelectorAll(".vp-doc table")].filter((t) => t.scrollWidth > t.clientWidth + 1)
            .length,
      );
      expect(scrolling).toBeGreaterThan(0);
      await phone.locator("#w").scrollIntoViewIfNeeded();
      await shot(phone, "results-phone");
      await phone.close();
    }, 60_000);

    it("the start page has the npm quick start and the version being documented", async () => {
      const version = JSON.parse(readFileSync(join(docsDir, "..", "cli", "package.json"), "utf8")).version;
      const page = await open("/start/");
      await expect(page.getByTestId("version-label").textContent()).resolves.toContain(`v${version}`);
      await expect(page.locator("#install").textContent()).resolves.toContain("Install");
      await expect(page.locator(".vp-doc").textContent()).resolves.toContain(
        "npm install @heapkit/heap @heapkit/strategy-best-fit",
      );
      // the top bar shows the version on every page, and leads to the install section
      await page
        .locator(".VPNavBar")
        .getByRole("link", { name: `v${version}`, exact: true })
        .click();
      await page.waitForURL(/\/start\/#install$/);
      await shot(page, "start");
      await page.close();
    }, 60_000);

    it("logs no page errors", () => {
      expect(errors).toEqual([]);
    });
  },
);
