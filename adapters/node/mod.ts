/**
 * Ferry's Node adapters (the package's `./node` entry): TCP and TLS connect and listen on
 * `node:net`/`node:tls`, and the wrapper that turns any connected `net.Socket` (or `TLSSocket`)
 * into Ferry's `Socket` contract. Importing it publishes Ferry's events on `diagnostics_channel`
 * (`ferry:client:request`, ...; see docs/observability.md).
 *
 * @module
 */

export { tcpConnect, tcpListen } from "./tcp.ts";
export type { TcpConnectOptions, TcpListenOptions, TcpSocketOptions } from "./tcp.ts";
export { wrapNodeSocket } from "./node-socket.ts";
export { defaultCloseTimeoutMs } from "../tcp-options.ts";
export type { NodeSocketOptions } from "./node-socket.ts";
export { tlsConnect, tlsListen } from "./tls.ts";
export type { TlsConnectOptions, TlsListenOptions } from "./tls.ts";
export { webSocketListen } from "./ws-listen.ts";
export type { UpgradeRequest, WebSocketListenOptions } from "./ws-listen.ts";
export { type NodeGatewayOptions, type RunningGateway, startNodeGateway } from "./gateway.ts";
export { wsConnect } from "./ws-connect.ts";
export type { WsConnectOptions } from "./ws-connect.ts";
export { installDiagnosticsChannels } from "./diagnostics-channels.ts";

import { installDiagnosticsChannels } from "./diagnostics-channels.ts";
installDiagnosticsChannels();
