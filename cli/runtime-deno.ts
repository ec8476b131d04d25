/**
 * The CLI's Deno adapters: `Deno.connect`/`Deno.listen` through `adapters/deno/`, Deno's global
 * WebSocket, the gateway on `Deno.serve`.
 *
 * @module
 */

import { startDenoGateway } from "../adapters/deno/gateway.ts";
import { tcpConnect, tcpListen } from "../adapters/deno/tcp.ts";
import { tlsConnect, tlsListen } from "../adapters/deno/tls.ts";
import { webSocketListen } from "../adapters/deno/ws-listen.ts";
import { webSocketConnect } from "../adapters/websocket/mod.ts";
import type { CliRuntime } from "./runtime.ts";

export function denoCliRuntime(): CliRuntime {
  return {
    name: "deno",
    tcpConnect: (host, port) => tcpConnect({ host, port }),
    tlsConnect: (host, port, ca) => tlsConnect({ host, port, ...(ca === undefined ? {} : { ca }) }),
    webSocketConnect: (url) => webSocketConnect({ url }),
    tcpListen: (host, port) => tcpListen({ host, port }),
    tlsListen: (host, port, cert, key) => tlsListen({ host, port, cert, key }),
    webSocketListen: (host, port) => webSocketListen({ host, port }),
    startGateway: (options) => startDenoGateway(options),
  };
}
