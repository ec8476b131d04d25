/**
 * Options of the adapters' own WebSocket clients (`wsConnect` in `adapters/node/` and
 * `adapters/deno/`): a `ws:` or `wss:` URL, the TCP tuning and, for `wss:`, the TLS trust, split
 * into what the adapter's TCP or TLS connect takes and what `webSocketOver` takes. No runtime code.
 *
 * @module
 */

import { type WebSocketOverOptions, webSocketUrl } from "../src/websocket/client-connect.ts";
import type { TcpSocketOptions } from "./tcp-options.ts";
import type { TlsConnectOptions } from "./tls-options.ts";

export interface WsConnectOptions extends TcpSocketOptions {
  /** `ws://host:port/path` (over TCP) or `wss://…` (over TLS). */
  readonly url: string | URL;
  /** Subprotocols to offer; the server must pick one of them. */
  readonly protocols?: string | readonly string[];
  /** Default deadline for connect plus handshake (default `connectTimeoutMs`). */
  readonly timeoutMs?: number;
  /** `wss:` only: extra trusted certificates (PEM), e.g. a self-signed server certificate. */
  readonly ca?: string | readonly string[];
  /** `wss:` only: the name to verify the certificate against (default the URL's host). */
  readonly serverName?: string;
}

/** What the underlying connect gets and what `webSocketOver` gets. */
export interface WsConnectPlan {
  readonly secure: boolean;
  readonly socket: TlsConnectOptions;
  readonly webSocket: WebSocketOverOptions;
}

/** Splits `wsConnect` options; throws `InvalidArgumentError` for a bad URL. */
export function planWsConnect(options: WsConnectOptions, what: string): WsConnectPlan {
  const url = webSocketUrl(options?.url, what);
  const secure = url.protocol === "wss:";
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === "" ? (secure ? 443 : 80) : Number(url.port);
  const { protocols, timeoutMs, closeTimeoutMs, ca, serverName, ...tuning } = options;
  return {
    secure,
    socket: {
      ...tuning,
      host,
      port,
      closeTimeoutMs,
      ...(secure ? { ca, serverName, alpnProtocols: ["http/1.1"] } : {}),
    },
    webSocket: { url, protocols, timeoutMs, closeTimeoutMs },
  };
}
