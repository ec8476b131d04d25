/**
 * The interop programs' runtime bindings for Node (and Bun, which runs them unchanged and is
 * reported by its own name): `adapters/node/tcp.ts`, `tls.ts`,
 * `ws-listen.ts` and `ws-connect.ts` (Ferry's own WebSocket client, the fastest in Node; the `ws`
 * package's client through `adapters/websocket/` is covered by its own conformance suite), files,
 * `process`.
 *
 * @module
 */

import { readFile, writeFile } from "node:fs/promises";
import process from "node:process";
import { tcpConnect, tcpListen } from "../adapters/node/tcp.ts";
import { tlsConnect, tlsListen } from "../adapters/node/tls.ts";
import { webSocketListen } from "../adapters/node/ws-listen.ts";
import { wsConnect } from "../adapters/node/ws-connect.ts";
import type { InteropTarget } from "./args.ts";
import { type InteropRuntime, onFirstShutdownSignal } from "./runtime.ts";

export function nodeRuntime(): InteropRuntime {
  // Bun implements node:* and says so in process.versions.
  const bun = (process.versions as Record<string, string | undefined>).bun;
  return {
    name: bun === undefined ? "node" : "bun",
    version: bun ?? process.versions.node,
    args: process.argv.slice(2),
    connect(target: InteropTarget, options = {}) {
      const { host, port } = target;
      if (target.scheme === "tcp") return tcpConnect({ host, port });
      if (target.scheme === "tls") {
        return tlsConnect({ host, port, ...(options.ca ? { ca: options.ca } : {}) });
      }
      return wsConnect({ url: target.url, ...(options.ca ? { ca: options.ca } : {}) });
    },
    listenTcp: (host, port) => tcpListen({ host, port }),
    // An interop test server: the browser checks connect from pages on other origins.
    listenWebSocket: (host, port) => webSocketListen({ host, port, allowedOrigins: ["*"] }),
    listenTls: (host, port, { cert, key }) => tlsListen({ host, port, cert, key }),
    readTextFile: (path) => readFile(path, "utf8"),
    writeTextFile: (path, text) => writeFile(path, text, "utf8"),
    onShutdownSignal: (callback) =>
      onFirstShutdownSignal((signal, listener) => process.once(signal, listener), callback),
    exit(code: number): never {
      process.exit(code);
    },
  };
}
