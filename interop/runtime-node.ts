/**
 * The interop programs' runtime bindings for Node: `adapters/node/tcp.ts`, `tls.ts` and
 * `ws-listen.ts`, `adapters/websocket/` with the `ws` package's WebSocket (through isomorphic-ws;
 * Node 20 has no global one), files, `process`.
 *
 * @module
 */

import { readFile, writeFile } from "node:fs/promises";
import process from "node:process";
import { tcpConnect, tcpListen } from "../adapters/node/tcp.ts";
import { tlsConnect, tlsListen } from "../adapters/node/tls.ts";
import { webSocketListen } from "../adapters/node/ws-listen.ts";
import { webSocketConnect, type WebSocketConstructor } from "../adapters/websocket/mod.ts";
import WebSocket from "isomorphic-ws";
import type { InteropTarget } from "./args.ts";
import { type InteropRuntime, onFirstShutdownSignal, schemeUnavailable } from "./runtime.ts";

export function nodeRuntime(): InteropRuntime {
  return {
    name: "node",
    args: process.argv.slice(2),
    connect(target: InteropTarget, options = {}) {
      const { host, port } = target;
      if (target.scheme === "tcp") return tcpConnect({ host, port });
      if (target.scheme === "tls") {
        return tlsConnect({ host, port, ...(options.ca ? { ca: options.ca } : {}) });
      }
      if (target.scheme === "ws") {
        return webSocketConnect({
          url: target.url,
          WebSocket: WebSocket as unknown as WebSocketConstructor,
        });
      }
      throw schemeUnavailable(target, "node", ["tcp", "tls", "ws"]);
    },
    listenTcp: (host, port) => tcpListen({ host, port }),
    listenWebSocket: (host, port) => webSocketListen({ host, port }),
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
