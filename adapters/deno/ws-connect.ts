/**
 * `wsConnect` for Deno: a WebSocket client over this adapter's own TCP (`ws:`) or TLS (`wss:`)
 * connect, with Ferry's RFC 6455 framing (`src/websocket/`). Over TCP, reads go into the buffer the
 * decoder offers (`conn.read(buffer)`), so a large chunk's body lands in its frame without a copy.
 * Deno's global WebSocket, through `webSocketConnect`, speaks the same protocol to the same servers.
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
