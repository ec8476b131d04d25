/**
 * What `ferry serve` answers to plain HTTP on its gateway port: the web demo, built when serve
 * starts by `web-demo/build-web-demo.ts` into one flat folder (`index.html`, `style.css`, the
 * library bundle `ferry.js`, the page module `web-demo.js`) and served from it: `/` is
 * `index.html`, `/<file>` a file of that folder. Only the files the build reports are reachable.
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import { extname, join } from "node:path";

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

/** Builds the web demo into `outdir` (unless `build` is false) and returns the handler. */
export async function createWebSite(
  outdir: string,
  options: { readonly build: boolean },
): Promise<WebSite> {
  let files: readonly string[] = [];
  let unavailable: string | undefined = "the web demo was not built (--no-web)";
  if (options.build) {
    try {
      const { buildWebDemo } = await import("../web-demo/build-web-demo.ts");
      const built = await buildWebDemo({ outdir });
      files = built.files;
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
      const bytes = await readFile(join(outdir, name));
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
