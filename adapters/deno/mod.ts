/**
 * Ferry's Deno adapters (the package's `./deno` entry): TCP and TLS connect and listen on
 * `Deno.connect`/`Deno.startTls` and `Deno.listen`/`Deno.listenTls`, and the wrapper that turns any
 * connected `Deno.Conn` into Ferry's `Socket`.
 *
 * @module
 */

export { tcpConnect, tcpListen } from "./tcp.ts";
export type { TcpConnectOptions, TcpListenOptions, TcpSocketOptions } from "./tcp.ts";
export { wrapDenoConn } from "./deno-socket.ts";
export type { DenoSocketOptions } from "./deno-socket.ts";
export { defaultCloseTimeoutMs } from "../tcp-options.ts";
export { tlsConnect, tlsListen } from "./tls.ts";
export type { TlsConnectOptions, TlsListenOptions } from "./tls.ts";
export { webSocketListen } from "./ws-listen.ts";
export type { UpgradeRequest, WebSocketListenOptions } from "./ws-listen.ts";
export { type DenoGatewayOptions, type RunningDenoGateway, startDenoGateway } from "./gateway.ts";
export { wsConnect } from "./ws-connect.ts";
export type { WsConnectOptions } from "./ws-connect.ts";
