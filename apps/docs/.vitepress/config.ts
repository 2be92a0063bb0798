import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type DefaultTheme, defineConfig, type MarkdownRenderer } from "vitepress";

// The playground and the heap pictures run the real packages, bundled from source through the
// "@heapkit/source" export condition (no build of the packages needed). In Vite 5 these conditions
// are added to the defaults.
const sourceConditions = ["@heapkit/source"];

/** The version being documented: every public package shares it (a changesets fixed group). */
const version: string = JSON.parse(
  readFileSync(fileURLToPath(new URL("../../cli/package.json", import.meta.url)), "utf8"),
).version;

/**
 * A table cell that holds a number — "63.3 M", "1,056×", "0.931", "13.2/34", "57,344 of 1,000,000" —
 * with at most a short unit: such a cell gets the class hk-num, so that the number never breaks over
 * two lines (a wide table scrolls in its own box instead).
 */
const NUMERIC_CELL =
  /^[-+−~≈]?\d[\d.,]*(\s?([kMGT]i?B?|B|×|%|ms|s|ops\/s))?(\s?(\/|of|–)\s?\d[\d.,]*(\s?([kMGT]i?B?|B|×|%|ms|s))?)?$/;

function markNumericCells(md: MarkdownRenderer): void {
  md.core.ruler.push("hk-numeric-cells", (state) => {
    const tokens = state.tokens;
    for (let i = 0; i + 1 < tokens.length; i++) {
      const open = tokens[i];
      if (open.type !== "td_open" && open.type !== "th_open") continue;
      const inline = tokens[i + 1];
      if (inline.type === "inline" && NUMERIC_CELL.test(inline.content.trim()))
        open.attrJoin("class", "hk-num");
    }
    return true;
  });
}

/** The API sidebar written by typedoc-vitepress-theme (`typedoc` runs before `vitepress build`). */
function apiSidebar(): DefaultTheme.SidebarItem[] {
  const file = fileURLToPath(new URL("../api/typedoc-sidebar.json", import.meta.url));
  if (!existsSync(file)) return [];
  return JSON.parse(readFileSync(file, "utf8")) as DefaultTheme.SidebarItem[];
}

const startSidebar: DefaultTheme.SidebarItem[] = [
  {
    text: "Start",
    items: [
      { text: "What heapkit is", link: "/start/" },
      { text: "Choosing a strategy", link: "/start/choosing" },
      { text: "Errors and their codes", link: "/start/errors" },
    ],
  },
];

const guideSidebar: DefaultTheme.SidebarItem[] = [
  {
    text: "Guides",
    items: [
      { text: "From a toy allocator to a real one", link: "/guide/toy-to-real" },
      { text: "WebAssembly memory, growth and views", link: "/guide/memory" },
      { text: "Sharing a heap between workers", link: "/guide/sharing" },
      { text: "Recording and replaying traces", link: "/guide/traces" },
      { text: "Garbage collection", link: "/guide/gc" },
    ],
  },
  {
    text: "Strategies",
    items: [
      { text: "Overview", link: "/guide/strategies/" },
      { text: "First fit", link: "/guide/strategies/first-fit" },
      { text: "Next fit", link: "/guide/strategies/next-fit" },
      { text: "Best fit", link: "/guide/strategies/best-fit" },
      { text: "Segregated fits", link: "/guide/strategies/segregated" },
      { text: "TLSF", link: "/guide/strategies/tlsf" },
      { text: "Buddy", link: "/guide/strategies/buddy" },
      { text: "pymalloc: arenas, pools, blocks", link: "/guide/strategies/pymalloc" },
    ],
  },
];

export default defineConfig({
  title: "heapkit",
  description:
    "malloc, free and CPython's garbage collector for an ArrayBuffer: pluggable strategies you can watch, measure and compare.",
  lang: "en",
  lastUpdated: false,
  // dead links fail the build (VitePress's default: ignoreDeadLinks stays unset)
  srcExclude: ["README.md", "artifacts/**", "test/**", "scripts/**"],
  head: [["link", { rel: "icon", type: "image/svg+xml", href: "/logo.svg" }]],
  markdown: { lineNumbers: false, config: markNumericCells },
  // the results page is written by the benchmark, so its layout is set here rather than in its front
  // matter: its tables have up to 9 columns of figures and get the window's width (style.css, hk-results)
  transformPageData(pageData) {
    if (pageData.relativePath.startsWith("results/")) {
      pageData.frontmatter.pageClass = "hk-results";
    }
  },
  themeConfig: {
    logo: "/logo.svg",
    nav: [
      { text: "Start", link: "/start/", activeMatch: "^/start/" },
      { text: "Guides", link: "/guide/toy-to-real", activeMatch: "^/guide/" },
      { text: "API", link: "/api/", activeMatch: "^/api/" },
      { text: "Playground", link: "/playground" },
      { text: "Results", link: "/results/" },
      { text: `v${version}`, link: "/start/#install", activeMatch: "^$" },
    ],
    sidebar: {
      "/start/": startSidebar,
      "/guide/": guideSidebar,
      "/api/": [{ text: "API reference", link: "/api/", items: apiSidebar() }],
    },
    search: {
      provider: "local",
      options: {
        // API pages are indexed by their headings (every symbol and member name), not their full text:
        // that keeps the search index, a chunk loaded when the search box opens, under Vite's 500 kB
        // warning as the reference grows, while every name stays searchable
        _render(src, env, md) {
          const html = md.render(src, env);
          if (!env.relativePath.startsWith("api/")) return html;
          return (html.match(/<h[1-4][^>]*>[\s\S]*?<\/h[1-4]>/g) ?? []).join("\n");
        },
      },
    },
    outline: { level: [2, 3] },
    footer: { message: "MIT licensed." },
  },
  vite: {
    define: { __HEAPKIT_VERSION__: JSON.stringify(version) },
    resolve: { conditions: sourceConditions },
    ssr: { resolve: { conditions: sourceConditions, externalConditions: sourceConditions } },
  },
});
