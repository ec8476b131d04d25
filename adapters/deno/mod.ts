/**
 * Ferry's Deno adapters (the package's `./deno` entry): TCP connect and listen on `Deno.connect`
 * and `Deno.listen`, and the wrapper that turns any connected `Deno.Conn` into Ferry's `Socket`.
 *
 * @module
 */

export { tcpConnect, tcpListen } from "./tcp.ts";
export type { TcpConnectOptions, TcpListenOptions, TcpSocketOptions } from "./tcp.ts";
export { wrapDenoConn } from "./deno-socket.ts";
export type { DenoSocketOptions } from "./deno-socket.ts";
export { defaultCloseTimeoutMs } from "../tcp-options.ts";
