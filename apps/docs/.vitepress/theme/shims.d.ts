// Single-file components, for tsc (VitePress compiles them with @vitejs/plugin-vue).
declare module "*.vue" {
  import type { DefineComponent } from "vue";

  const component: DefineComponent<object, object, unknown>;
  export default component;
}

// Stylesheets imported for their side effects.
declare module "*.css";
