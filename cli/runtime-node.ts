/**
 * The CLI's Node adapters: `node:net`/`node:tls` through `adapters/node/`, WebSocket clients
 * through `wsConnect` (Ferry's own framing over them; Node 20 has no global WebSocket), the
 * gateway's listener as `startNodeGateway` configures it. Bun runs these unchanged (it implements
 * `node:*`) and is reported by its own name.
 *
 * @module
 */

import process from "node:process";
import { tcpConnect, tcpListen } from "../adapters/node/tcp.ts";
import { tlsConnect, tlsListen } from "../adapters/node/tls.ts";
import type { WebSocketListenOptions } from "../adapters/node/ws-listen.ts";
import { wsConnect } from "../adapters/node/ws-connect.ts";
import type { Listen } from "../src/socket.ts";
import type { CliRuntime } from "./runtime.ts";

/** Pings towards browsers; a tab that stops answering is cut off within two intervals. */
const BROWSER_PING_INTERVAL_MS = 15_000;
/** Upgrade (and page request) headers must arrive within this long (slowloris). */
const UPGRADE_TIMEOUT_MS = 10_000;

/**
 * The WebSocket listener, loaded when `serve` listens: it brings the `ws` package (~60 ms of CPU
 * to load), which `ferry get` and `--help` never need.
 */
function webSocketListen(options: WebSocketListenOptions): Listen {
  return async (onSocket) => {
    const { webSocketListen } = await import("../adapters/node/ws-listen.ts");
    return webSocketListen(options)(onSocket);
  };
}

export function nodeCliRuntime(): CliRuntime {
  // Bun says so in process.versions; everything else here is its Node compatibility.
  const bun = (process.versions as Record<string, string | undefined>).bun;
  return {
    name: bun === undefined ? "node" : "bun",
    tcpConnect: (host, port) => tcpConnect({ host, port }),
    tlsConnect: (host, port, ca) => tlsConnect({ host, port, ...(ca === undefined ? {} : { ca }) }),
    webSocketConnect: (url) => wsConnect({ url }),
    tcpListen: (host, port) => tcpListen({ host, port }),
    tlsListen: (host, port, cert, key) => tlsListen({ host, port, cert, key }),
    webSocketListen: (host, port, allowedOrigins) =>
      webSocketListen({ host, port, allowedOrigins }),
    gatewayListen: (options) =>
      webSocketListen({
        host: options.host,
        port: options.port,
        maxPayload: options.maxFrameLength,
        // The gateway applies its own Origin rules in allowUpgrade.
        allowedOrigins: ["*"],
        allowUpgrade: options.allowUpgrade,
        onRequest: options.onRequest,
        pingIntervalMs: BROWSER_PING_INTERVAL_MS,
        headersTimeoutMs: UPGRADE_TIMEOUT_MS,
      }),
  };
}
