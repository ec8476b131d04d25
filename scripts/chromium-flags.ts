/**
 * How Ferry runs Chromium, for the browser tests (`test/helpers/chromium.ts`, through
 * playwright-core) and the browser benchmarks (`bench/harness/chromium-direct.ts`, launched
 * directly): Debian's binary and the flags for a quiet headless browser. Lives in `scripts/`
 * because both `test/` and `bench/` use it and neither should depend on the other.
 *
 * @module
 */

/** Debian's Chromium (from apt; never a downloaded browser). */
export const debianChromiumPath = "/usr/bin/chromium";

/** Headless, no sandbox (tests run as root in containers), no GPU, no background traffic. */
export const quietHeadlessChromiumFlags: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
