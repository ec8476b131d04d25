/**
 * Ferry's WinterTC socket adapter: a `Connect` over any `connect(address, options)` that returns
 * a `{ readable, writable, opened, closed, close }` socket (Cloudflare Workers' `cloudflare:sockets`
 * shape), and the wrapper that turns one such open socket into Ferry's `Socket`. Web streams only.
 *
 * @module
 */

export { winterTcConnect } from "./connect.ts";
export type {
  WinterTcAddress,
  WinterTcConnectFunction,
  WinterTcConnectOptions,
  WinterTcSocketOptionsArg,
} from "./connect.ts";
export { wrapWinterTcSocket } from "./wintertc-socket.ts";
export type {
  WinterTcOpenedInfo,
  WinterTcSocketLike,
  WinterTcSocketOptions,
} from "./wintertc-api.ts";
