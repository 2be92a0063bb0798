import type { Theme } from "vitepress";
import DefaultTheme from "vitepress/theme";
import HeapMap from "./components/HeapMap.vue";
import HeapPicture from "./components/HeapPicture.vue";
import HeapPlayground from "./components/HeapPlayground.vue";
import VersionLabel from "./components/VersionLabel.vue";
import "./style.css";

export default {
  extends: DefaultTheme,
  enhanceApp({ app }) {
    app.component("HeapMap", HeapMap);
    app.component("HeapPicture", HeapPicture);
    app.component("HeapPlayground", HeapPlayground);
    app.component("VersionLabel", VersionLabel);
  },
} satisfies Theme;
