/**
 * The CLI's Node adapters: `node:net`/`node:tls` through `adapters/node/`, WebSocket clients on
 * the `ws` package (Node 20 has no global WebSocket), the gateway on Node's listener.
 *
 * @module
 */

import WebSocket from "isomorphic-ws";
import { startNodeGateway } from "../adapters/node/gateway.ts";
import { tcpConnect, tcpListen } from "../adapters/node/tcp.ts";
import { tlsConnect, tlsListen } from "../adapters/node/tls.ts";
import { webSocketListen } from "../adapters/node/ws-listen.ts";
import { webSocketConnect, type WebSocketConstructor } from "../adapters/websocket/mod.ts";
import type { CliRuntime } from "./runtime.ts";

export function nodeCliRuntime(): CliRuntime {
  return {
    name: "node",
    tcpConnect: (host, port) => tcpConnect({ host, port }),
    tlsConnect: (host, port, ca) => tlsConnect({ host, port, ...(ca === undefined ? {} : { ca }) }),
    webSocketConnect: (url) =>
      webSocketConnect({ url, WebSocket: WebSocket as unknown as WebSocketConstructor }),
    tcpListen: (host, port) => tcpListen({ host, port }),
    tlsListen: (host, port, cert, key) => tlsListen({ host, port, cert, key }),
    webSocketListen: (host, port) => webSocketListen({ host, port }),
    startGateway: (options) => startNodeGateway(options),
  };
}
