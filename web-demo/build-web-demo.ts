/**
 * Builds the web demo into one flat directory that a server serves as-is at `/`:
 *
 *     node --import tsx web-demo/build-web-demo.ts [outdir]     (default dist/web)
 *
 * writes `index.html`, `style.css`, the library bundle `ferry.js` and the page module
 * `web-demo.js` (linked against `ferry.js`: it imports the library from `./ferry.js` rather than
 * carrying its own copy), each bundle with its source map, and the list of those files
 * (`WEB_DEMO_MANIFEST`, which `ferry serve` reads to serve a prebuilt page). `npm pack` builds it
 * into `dist/web/`, so the installed package serves the page without esbuild; from a checkout
 * `ferry serve` builds it when it starts. Served at `/`, the page loads
 * `/style.css`, `/ferry.js` and `/web-demo.js`, and opens gateway sessions at
 * `/gateway/<target>` on the same host (target `files` unless the page's URL says `?target=`).
 *
 * @module
 */

import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import {
  type BrowserBuild,
  buildBrowserLibrary,
  buildBrowserModule,
  LIBRARY_FILE,
} from "../scripts/build-browser.ts";
import { WEB_DEMO_MANIFEST, type WebDemoManifest } from "../cli/web-site.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

/** The page module's source, relative to the repository root. */
export const WEB_DEMO_ENTRY = "web-demo/src/main.ts";
/** The page module's file name in the output (index.html loads it). */
export const WEB_DEMO_MODULE_FILE = "web-demo.js";
/** Files copied unchanged from `web-demo/`. */
export const WEB_DEMO_STATIC_FILES: readonly string[] = ["index.html", "style.css"];

export interface WebDemoBuild {
  /** Absolute path of the output directory. */
  readonly directory: string;
  readonly library: BrowserBuild;
  readonly page: BrowserBuild;
  /** Every file written, relative to `directory` (served as `/<file>`). */
  readonly files: readonly string[];
}

/** Builds the demo into `outdir` (relative to the repository root or absolute). */
export async function buildWebDemo(
  options: { readonly outdir?: string; readonly minify?: boolean } = {},
): Promise<WebDemoBuild> {
  const directory = resolve(root, options.outdir ?? "dist/web");
  mkdirSync(directory, { recursive: true });
  const minify = options.minify ?? false;
  const library = await buildBrowserLibrary({ outdir: directory, minify });
  const page = await buildBrowserModule(
    WEB_DEMO_ENTRY,
    join(directory, WEB_DEMO_MODULE_FILE),
    library,
    { minify },
  );
  for (const file of WEB_DEMO_STATIC_FILES) {
    copyFileSync(join(root, "web-demo", file), join(directory, file));
  }
  const files = [
    ...WEB_DEMO_STATIC_FILES,
    LIBRARY_FILE,
    `${LIBRARY_FILE}.map`,
    WEB_DEMO_MODULE_FILE,
    `${WEB_DEMO_MODULE_FILE}.map`,
  ];
  const manifest: WebDemoManifest = { files };
  writeFileSync(join(directory, WEB_DEMO_MANIFEST), JSON.stringify(manifest, null, 2) + "\n");
  return { directory, library, page, files };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const built = await buildWebDemo({ outdir: process.argv[2] ?? "dist/web" });
  console.log(
    `web demo built in ${built.directory}: ${built.files.join(", ")} (ferry.js ${
      (built.library.bytes / 1024).toFixed(0)
    } KiB, web-demo.js ${(built.page.bytes / 1024).toFixed(0)} KiB)`,
  );
}
