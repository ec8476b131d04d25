/**
 * The CLI's Deno adapters: `Deno.connect`/`Deno.listen` through `adapters/deno/`, Deno's global
 * WebSocket, the gateway's listener on `Deno.serve` as `startDenoGateway` configures it.
 *
 * @module
 */

import { tcpConnect, tcpListen } from "../adapters/deno/tcp.ts";
import { tlsConnect, tlsListen } from "../adapters/deno/tls.ts";
import { webSocketListen } from "../adapters/deno/ws-listen.ts";
import { webSocketConnect } from "../adapters/websocket/mod.ts";
import type { CliRuntime } from "./runtime.ts";

/** Pings towards browsers (Deno's `idleTimeout`, whole seconds). */
const BROWSER_PING_INTERVAL_MS = 15_000;

export function denoCliRuntime(): CliRuntime {
  return {
    name: "deno",
    tcpConnect: (host, port) => tcpConnect({ host, port }),
    tlsConnect: (host, port, ca) => tlsConnect({ host, port, ...(ca === undefined ? {} : { ca }) }),
    webSocketConnect: (url) => webSocketConnect({ url }),
    tcpListen: (host, port) => tcpListen({ host, port }),
    tlsListen: (host, port, cert, key) => tlsListen({ host, port, cert, key }),
    webSocketListen: (host, port, allowedOrigins) =>
      webSocketListen({ host, port, allowedOrigins }),
    gatewayListen: (options) =>
      webSocketListen({
        host: options.host,
        port: options.port,
        // The gateway applies its own Origin rules in allowUpgrade.
        allowedOrigins: ["*"],
        allowUpgrade: options.allowUpgrade,
        onRequest: options.onRequest,
        pingIntervalMs: BROWSER_PING_INTERVAL_MS,
        maxHeldBytes: options.maxBufferedBytes,
      }),
  };
}
