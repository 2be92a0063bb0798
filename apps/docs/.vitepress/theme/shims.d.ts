// Single-file components, for tsc (VitePress compiles them with @vitejs/plugin-vue).
declare module "*.vue" {
  import type { DefineComponent } from "vue";

  const component: DefineComponent<object, object, unknown>;
  export default component;
}

// Stylesheets imported for their side effects.
declare module "*.css";

// The documented version, read from package.json by .vitepress/config.ts (Vite's define).
declare const __HEAPKIT_VERSION__: string;
