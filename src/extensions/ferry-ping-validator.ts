/**
 * The pool's connection validator for Ferry peers: a real round trip ({@linkcode ferryPing}) where
 * the peer is known to be Ferry, `isActive` elsewhere (a Spark server would hand a ping to its
 * application). It plugs into the pool through its generic `validate` option; see
 * `ferry-ping.ts` for the exchange.
 *
 * @module
 */

import type { RpcCapableClient } from "../client/rpc-capable-client.ts";
import type { ConnectionValidator, PooledClient } from "../pool/pool-options.ts";
import { FERRY_PEER_FEATURE } from "./ferry-peer.ts";
import { ferryPing } from "./ferry-ping.ts";

/**
 * A pool validator: a real ping for peers with the `"ferry"` feature, `isActive` otherwise.
 * Resolves true when the connection may be handed out.
 *
 * @example
 * ```ts
 * import { ConnectionPool, type Route, transportConnector } from "ferry-transport/pool";
 * import { ferryPingValidator } from "ferry-transport/extensions";
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
