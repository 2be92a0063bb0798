// Chromium for the browser tests: Debian's build, driven by playwright-core, which never downloads one.
// Without the background-networking flags Chromium keeps trying a network this machine does not have.
import { type Browser, chromium } from "playwright-core";

/** Where CI installs it (`apt-get install -y chromium`). */
export const CHROMIUM = "/usr/bin/chromium";

/** A headless Chromium with the flags that work on this machine kind. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
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
}
