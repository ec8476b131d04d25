/**
 * What `ferry serve` answers to plain HTTP on its gateway port: the web demo, one flat folder
 * (`index.html`, `style.css`, the library bundle `ferry.js`, the page module `web-demo.js`) served
 * as-is: `/` is `index.html`, `/<file>` a file of that folder. Only the files the build lists are
 * reachable.
 *
 * Where the folder comes from:
 * - the installed npm package carries it prebuilt (`npm pack` runs `web-demo/build-web-demo.ts`
 *   into `dist/web/`, next to the compiled CLI in `dist/cli/`), so serving needs no bundler;
 * - in a checkout (this module run from `cli/`, where no `../web/` exists) it is built with esbuild
 *   when serve starts, into serve's `outdir`.
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The file a built web demo lists its files in (written by `web-demo/build-web-demo.ts`). */
export const WEB_DEMO_MANIFEST = "ferry-web-demo.json";

/** The content of {@linkcode WEB_DEMO_MANIFEST}. */
export interface WebDemoManifest {
  /** The files served, relative to the folder (served as `/<file>`). */
  readonly files: readonly string[];
}

/** Where the npm package's prebuilt page is: `dist/web/` beside the compiled `dist/cli/`. */
const PREBUILT_DIRECTORY = fileURLToPath(new URL("../web/", import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

export interface WebSite {
  /** Files served (names under `/`); empty when the build was skipped or failed. */
  readonly files: readonly string[];
  /** Why there is no page, if there is none. */
  readonly unavailable: string | undefined;
  handle(request: Request): Promise<Response>;
}

/**
 * Serves the prebuilt page when this module has one beside it, else builds the web demo into
 * `outdir` (unless `build` is false: then there is no page) and returns the handler.
 */
export async function createWebSite(
  outdir: string,
  options: { readonly build: boolean },
): Promise<WebSite> {
  let files: readonly string[] = [];
  let directory = outdir;
  let unavailable: string | undefined = "the web demo was not built (--no-web)";
  if (options.build) {
    try {
      const prebuilt = await readManifest(PREBUILT_DIRECTORY);
      if (prebuilt !== undefined) {
        directory = PREBUILT_DIRECTORY;
        files = prebuilt.files;
      } else {
        const { buildWebDemo } = await import("../web-demo/build-web-demo.ts");
        files = (await buildWebDemo({ outdir })).files;
      }
      unavailable = undefined;
    } catch (error) {
      unavailable = `building the web demo failed: ${(error as Error).message}`;
    }
  }
  const served = new Set(files);
  return {
    files,
    unavailable,
    async handle(request) {
      if (request.method !== "GET" && request.method !== "HEAD") {
        return text(405, `${request.method} is not served here\n`, { allow: "GET, HEAD" });
      }
      const path = new URL(request.url).pathname;
      const name = path === "/" ? "index.html" : path.slice(1);
      if (!served.has(name)) {
        return text(404, unavailable === undefined ? `not found: ${path}\n` : `${unavailable}\n`);
      }
      const bytes = await readFile(join(directory, name));
      return new Response(request.method === "HEAD" ? null : bytes as BodyInit, {
        headers: {
          "content-type": TYPES[extname(name)] ?? "application/octet-stream",
          "content-length": String(bytes.byteLength),
          "cache-control": "no-cache",
        },
      });
    },
  };
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}

/** The manifest of a built page in `directory`, or undefined when there is none. */
async function readManifest(directory: string): Promise<WebDemoManifest | undefined> {
  let text: string;
  try {
    text = await readFile(join(directory, WEB_DEMO_MANIFEST), "utf8");
  } catch {
    return undefined;
  }
  const manifest = JSON.parse(text) as Partial<WebDemoManifest>;
  const files = manifest.files;
  if (
    !Array.isArray(files) ||
    !files.every((file) => typeof file === "string" && /^[\w.-]+$/.test(file))
  ) {
    throw new Error(`${join(directory, WEB_DEMO_MANIFEST)} does not list the page's files`);
  }
  return { files };
}
