/**
 * Debian's Chromium (`/usr/bin/chromium`, from apt; never a downloaded browser) driven through
 * playwright-core for browser tests. Headless, no sandbox (tests run as root in containers), no
 * background traffic. Console output and uncaught page errors are collected, so a failing test
 * can say what the page said.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { debianChromiumPath, quietHeadlessChromiumFlags } from "../../scripts/chromium-flags.ts";

/** A page and what it has logged so far. */
export interface ChromiumPage {
  readonly page: Page;
  /** `console.*` messages as `<type>: <text>`, and uncaught errors as `pageerror: <message>`. */
  readonly log: readonly string[];
}

/** Launches Chromium. @throws Error saying how to install it when it is missing. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(debianChromiumPath)) {
    throw new Error(
      `Chromium is not installed at ${debianChromiumPath}: run 'apt-get install -y chromium' ` +
        `(.ci/run does this in CI); browser tests never download a browser`,
    );
  }
  return await chromium.launch({
    executablePath: debianChromiumPath,
    headless: true,
    args: [...quietHeadlessChromiumFlags],
    timeout: 60_000,
  });
}

/**
 * Runs `body` with a fresh page in a freshly launched Chromium, and closes the browser afterwards
 * whatever happens.
 */
export async function withChromiumPage<T>(body: (page: ChromiumPage) => Promise<T>): Promise<T> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const log: string[] = [];
    page.on("console", (message) => log.push(`${message.type()}: ${message.text()}`));
    page.on("pageerror", (error) => log.push(`pageerror: ${error.message}`));
    return await body({ page, log });
  } finally {
    await browser.close();
  }
}
