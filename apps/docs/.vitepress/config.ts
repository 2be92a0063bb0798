import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type DefaultTheme, defineConfig } from "vitepress";

// The playground and the heap pictures run the real packages, bundled from source through the
// "@heapkit/source" export condition (no build of the packages needed). In Vite 5 these conditions
// are added to the defaults.
const sourceConditions = ["@heapkit/source"];

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
  markdown: { lineNumbers: false },
  // the results page (written by the benchmark) has wide tables: give it the window's width
  transformPageData(pageData) {
    if (pageData.relativePath.startsWith("results/")) {
      pageData.frontmatter.pageClass = "hk-wide";
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
    resolve: { conditions: sourceConditions },
    ssr: { resolve: { conditions: sourceConditions, externalConditions: sourceConditions } },
  },
});
