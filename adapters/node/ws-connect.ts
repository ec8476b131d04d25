/**
 * `wsConnect` for Node: a WebSocket client over this adapter's own TCP (`ws:`) or TLS (`wss:`)
 * connect, with Ferry's RFC 6455 framing (`src/websocket/`) instead of a WebSocket library. Over
 * TCP, reads use `onread`, so a large chunk's body goes from the kernel into the frame the decoder
 * hands out with no copy in between. The `ws` package, through `webSocketConnect`, remains the
 * choice for a WHATWG-style socket; both speak the same protocol to the same servers.
 *
 * @module
 */

import type { Connect } from "../../src/socket.ts";
import { webSocketOver } from "../../src/websocket/client-connect.ts";
import { planWsConnect, type WsConnectOptions } from "../ws-connect-options.ts";
import { tcpConnect } from "./tcp.ts";
import { tlsConnect } from "./tls.ts";

export type { WsConnectOptions } from "../ws-connect-options.ts";

/** A `Connect` that opens WebSocket connections to `options.url`. */
export function wsConnect(options: WsConnectOptions): Connect {
  const plan = planWsConnect(options, "wsConnect");
  const connect = plan.secure ? tlsConnect(plan.socket) : tcpConnect(plan.socket);
  return webSocketOver(connect, plan.webSocket);
}
