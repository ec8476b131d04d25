/**
 * A tiny static HTTP server on 127.0.0.1 (port 0) for browser tests: serves the files of one
 * directory (bundles, source maps) plus in-memory pages, with no caching. Loopback only;
 * `close()` drops open connections and releases the port.
 *
 * @module
 */

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";

export interface StaticServerOptions {
  /** Directory whose files are served under `/` (read on each request; `/` is `/index.html`). */
  readonly directory?: string;
  /** In-memory files by URL path (`/index.html`), served before the directory. */
  readonly files?: Readonly<Record<string, string | Uint8Array>>;
}

export interface StaticServer {
  /** Base URL, e.g. `http://127.0.0.1:41234/`. */
  readonly url: string;
  /** Paths requested so far, in order (to assert what a page loaded). */
  readonly requests: readonly string[];
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
};

export async function startStaticServer(options: StaticServerOptions): Promise<StaticServer> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    serve(request, response, options, requests).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, `static server: ${String(error)}`, ".txt");
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  options: StaticServerOptions,
  requests: string[],
): Promise<void> {
  let path = decodeURIComponent(new URL(request.url ?? "/", "http://localhost").pathname);
  requests.push(path);
  if (path.endsWith("/")) path += "index.html";
  if (request.method !== "GET" && request.method !== "HEAD") {
    return send(response, 405, `method ${request.method} not allowed`, ".txt");
  }
  const inline = options.files?.[path];
  if (inline !== undefined) return send(response, 200, inline, extname(path));
  if (options.directory !== undefined) {
    const file = normalize(join(options.directory, path));
    if (!file.startsWith(normalize(options.directory) + sep)) {
      return send(response, 403, `path ${path} leaves the served directory`, ".txt");
    }
    let body: Uint8Array;
    try {
      body = await readFile(file);
    } catch {
      return send(response, 404, `no file ${path}`, ".txt");
    }
    return send(response, 200, body, extname(file));
  }
  send(response, 404, `no file ${path}`, ".txt");
}

function send(
  response: ServerResponse,
  status: number,
  body: string | Uint8Array,
  extension: string,
): void {
  response.writeHead(status, {
    "content-type": CONTENT_TYPES[extension] ?? "application/octet-stream",
    "cache-control": "no-store",
  });
  response.end(body);
}
