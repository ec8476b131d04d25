/**
 * The pool's connection validator for Ferry peers: a real round trip ({@linkcode ferryPing}) where
 * the peer is known to be Ferry, `isActive` elsewhere (a Spark server would hand a ping to its
 * application). See `src/client/ferry-ping.ts` for the exchange.
 *
 * @module
 */

import { FERRY_PEER_FEATURE, ferryPing, type RpcCapableClient } from "../client/ferry-ping.ts";
import type { ConnectionValidator, PooledClient } from "./pool-options.ts";

/**
 * A pool validator: a real ping for peers with the `"ferry"` feature, `isActive` otherwise.
 * Resolves true when the connection may be handed out.
 *
 * @example
 * ```ts
 * import {
 *   ConnectionPool,
 *   ferryPingValidator,
 *   type Route,
 *   transportConnector,
 * } from "ferry-transport/pool";
 * import { tcpConnect } from "ferry-transport/node";
 *
 * const address = (route: Route) =>
 *   typeof route === "string" ? { host: route, port: 7337 } : route;
 * const pool = new ConnectionPool({
 *   connector: transportConnector((route) => tcpConnect(address(route))),
 *   validate: ferryPingValidator(), // a real ping for Ferry peers, isActive for the others
 *   validateAfterInactivityMs: 2_000,
 * });
 * await pool.close();
 * ```
 */
export function ferryPingValidator<
  C extends PooledClient & RpcCapableClient,
>(): ConnectionValidator<C> {
  return async (client, info, options) => {
    if (!info.peerFeatures.has(FERRY_PEER_FEATURE)) return client.isActive;
    await ferryPing(client, options);
    return true;
  };
}
