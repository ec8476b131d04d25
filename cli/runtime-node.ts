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
import type { WebSocketListenOptions } from "../adapters/node/ws-listen.ts";
import type { Connect, Listen } from "../src/socket.ts";
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

/**
 * A `Connect` whose adapter module is loaded on the first connect: `ferry get tcp://…` never
 * loads `node:tls` or the WebSocket client (~20 ms of CPU at start-up, measured with the
 * compiled CLI), and a `tls://` or `ws://` download loads only its own.
 */
function lazyConnect(load: () => Promise<Connect>): Connect {
  let connect: Promise<Connect> | undefined;
  return async (options) => (await (connect ??= load()))(options);
}

/** The TLS listener, loaded when `serve` listens with TLS (see {@linkcode lazyConnect}). */
function tlsListen(host: string, port: number, cert: string, key: string): Listen {
  return async (onSocket) => {
    const { tlsListen } = await import("../adapters/node/tls.ts");
    return tlsListen({ host, port, cert, key })(onSocket);
  };
}

export function nodeCliRuntime(): CliRuntime {
  // Bun says so in process.versions; everything else here is its Node compatibility.
  const bun = (process.versions as Record<string, string | undefined>).bun;
  return {
    name: bun === undefined ? "node" : "bun",
    tcpConnect: (host, port) => tcpConnect({ host, port }),
    tlsConnect: (host, port, ca) =>
      lazyConnect(async () => {
        const { tlsConnect } = await import("../adapters/node/tls.ts");
        return tlsConnect({ host, port, ...(ca === undefined ? {} : { ca }) });
      }),
    webSocketConnect: (url) =>
      lazyConnect(async () => {
        const { wsConnect } = await import("../adapters/node/ws-connect.ts");
        return wsConnect({ url });
      }),
    tcpListen: (host, port) => tcpListen({ host, port }),
    tlsListen,
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
