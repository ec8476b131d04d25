/**
 * Everything a browser test needs, set up and torn down in one call: the Ferry library bundle and
 * the test's page modules (built with `scripts/build-browser.ts`, page modules linked against the
 * library bundle) in a temporary directory, a static server for them on 127.0.0.1, and a
 * Chromium page opened on it.
 *
 *     await withBrowserFixture({ modules: ["test/browser/pages/x-page.ts"] }, async (fixture) => {
 *       const lines = await fixture.call("x-page.js", "run", arg);
 *     });
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import {
  type BrowserBuild,
  buildBrowserLibrary,
  buildBrowserModule,
  LIBRARY_FILE,
} from "../../scripts/build-browser.ts";
import { type ChromiumPage, launchChromium } from "./chromium.ts";
import { startStaticServer } from "./static-server.ts";

export interface BrowserFixtureOptions {
  /** Page modules (repository-relative `.ts` paths), each served as `<name>.js`. */
  readonly modules: readonly string[];
  /** Library entries (default: the real library, `LIBRARY_ENTRIES`). */
  readonly libraryEntries?: readonly string[];
}

export interface BrowserFixture extends ChromiumPage {
  /** Base URL of the static server (ends in `/`). */
  readonly baseUrl: string;
  readonly library: BrowserBuild;
  /** The page modules' builds, by served name (`x-page.js`). */
  readonly modules: Readonly<Record<string, BrowserBuild>>;
  /** Paths the browser requested from the static server so far. */
  readonly requests: readonly string[];
  /**
   * Imports `module` (a served `.js` name) in the page and awaits `exportName(...args)`; the
   * result must be structured-cloneable.
   */
  call<T>(module: string, exportName: string, ...args: unknown[]): Promise<T>;
}

const INDEX_HTML = "<!doctype html><meta charset=utf-8><title>Ferry browser test</title>\n";

/** An open fixture; `close()` stops the browser and the server and removes the build. */
export interface OpenBrowserFixture extends BrowserFixture {
  close(): Promise<void>;
}

/** Builds, serves and opens everything; the caller must `close()` it (e.g. in `after`). */
export async function openBrowserFixture(
  options: BrowserFixtureOptions,
): Promise<OpenBrowserFixture> {
  const cleanups: (() => Promise<void> | void)[] = [];
  const close = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    const directory = mkdtempSync(join(tmpdir(), "ferry-browser-"));
    cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
    const library = await buildBrowserLibrary({
      outdir: directory,
      ...(options.libraryEntries ? { entries: options.libraryEntries } : {}),
    });
    const modules: Record<string, BrowserBuild> = {};
    for (const module of options.modules) {
      const name = basename(module).replace(/\.ts$/, ".js");
      if (name === LIBRARY_FILE) throw new Error(`A page module may not be named ${name}`);
      modules[name] = await buildBrowserModule(module, join(directory, name), library);
    }
    const server = await startStaticServer({ directory, files: { "/index.html": INDEX_HTML } });
    cleanups.push(() => server.close());
    const browser = await launchChromium();
    cleanups.push(() => browser.close());
    const page = await browser.newPage();
    const log: string[] = [];
    page.on("console", (message) => log.push(`${message.type()}: ${message.text()}`));
    page.on("pageerror", (error) => log.push(`pageerror: ${error.message}`));
    await page.goto(server.url);
    const call = <R>(module: string, exportName: string, ...args: unknown[]) =>
      page.evaluate(
        async ([url, name, params]) => {
          const imported = await import(url as string);
          return await imported[name as string](...(params as unknown[]));
        },
        [new URL(module, server.url).href, exportName, args] as const,
      ) as Promise<R>;
    return {
      page,
      log,
      baseUrl: server.url,
      library,
      modules,
      requests: server.requests,
      call,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Runs `body` with an open fixture and closes it afterwards, whatever happens. */
export async function withBrowserFixture<T>(
  options: BrowserFixtureOptions,
  body: (fixture: BrowserFixture) => Promise<T>,
): Promise<T> {
  const fixture = await openBrowserFixture(options);
  try {
    return await body(fixture);
  } finally {
    await fixture.close();
  }
}
