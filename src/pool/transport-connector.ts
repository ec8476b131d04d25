/**
 * The connector that makes a `ConnectionPool` pool real `TransportClient`s: for each route it asks
 * `connectFor` for a `Connect` (an adapter's `tcpConnect({ host, port })`, a WebSocket connect, an
 * in-memory one in tests) and opens a client over it with the given client options, under the
 * pool's connect deadline and abort signal.
 *
 * ```ts
 * import { tcpConnect } from "ferry/node";
 * const pool = new ConnectionPool({
 *   connector: transportConnector((route) => tcpConnect(route as RouteAddress)),
 *   validate: ferryPingValidator(),
 * });
 * ```
 *
 * @module
 */

import type { ClientOptions } from "../client/client-options.ts";
import { TransportClient } from "../client/transport-client.ts";
import type { Connect } from "../socket.ts";
import type { Connector } from "./pool-options.ts";
import type { Route } from "./route.ts";

/**
 * A pool connector opening `TransportClient`s over `connectFor(route)`.
 *
 * @example
 * ```ts
 * import { ConnectionPool, type Route, transportConnector } from "ferry-transport/pool";
 * import { tcpConnect } from "ferry-transport/node";
 *
 * const address = (route: Route) =>
 *   typeof route === "string" ? { host: route, port: 7337 } : route;
 * const pool = new ConnectionPool({
 *   connector: transportConnector((route) => tcpConnect(address(route)), {
 *     maxReplyFrameLength: 512 * 1024 * 1024, // for every connection it opens
 *   }),
 * });
 * await pool.close();
 * ```
 */
export function transportConnector(
  connectFor: (route: Route) => Connect,
  clientOptions: ClientOptions = {},
): Connector<TransportClient> {
  return (route, options) =>
    TransportClient.connect(connectFor(route), {
      ...clientOptions,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
}
