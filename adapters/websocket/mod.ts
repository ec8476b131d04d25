/**
 * Ferry's WebSocket client adapter (the package's `./websocket` entry), for any runtime with a
 * WHATWG `WebSocket` or an injected constructor, and the wrapper that turns an open WebSocket
 * into Ferry's `Socket` (used by the Node and Deno WebSocket listeners too).
 *
 * @module
 */

export { webSocketConnect } from "./connect.ts";
export type { WebSocketConnectOptions, WebSocketConstructor } from "./connect.ts";
export { wrapWebSocket } from "../websocket-socket.ts";
export { resetCloseCode } from "../../src/websocket/close-codes.ts";
export type { WebSocketLike } from "../websocket-like.ts";
export type { WebSocketSocketOptions } from "../websocket-socket.ts";
export type { UpgradeRequest } from "../websocket-upgrade-request.ts";
