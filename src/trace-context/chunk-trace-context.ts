/**
 * Ferry's trace-context extension for chunk fetches. A ChunkFetchRequest is a Spark frame with no
 * room for a `traceparent`, and its bytes must never change; so, only towards a peer known to be
 * Ferry and only while the fetch has a recording span, the client follows the request with a
 * OneWayMessage carrying a Ferry control body (kind 0x22):
 *
 * ```
 * F5 46 45 52 52 59 00 01 22 · streamId int64 · chunkIndex int32 · traceparent (55 ASCII bytes)
 * ```
 *
 * (Wire form: `src/observability/chunk-trace-message.ts`.) A Ferry server never hands it to the application (the request handler drops it); its tap makes
 * the fetch's SERVER span a child of the client's span. A Spark peer never receives it.
 *
 * @module
 */

import type { TransportClient } from "../client/transport-client.ts";
import { FERRY_PEER_FEATURE } from "../client/ferry-ping.ts";
import { InvalidArgumentError } from "../errors.ts";
import type { ClientBootstrap } from "../pool/pool-options.ts";
import { tapOf } from "../observability/observe.ts";

/**
 * Sends the trace context of this client's traced chunk fetches to its peer, which must be a Ferry
 * server (a Spark server would hand the extra one-way messages to its handler). Works on
 * connections observed by a tracer (an SDK was registered when the connection opened); returns
 * whether it was enabled.
 *
 * @example
 * ```ts
 * import { enableFerryTraceContext, TransportClient } from "ferry-transport";
 * import { tcpConnect } from "ferry-transport/node";
 *
 * // With an OpenTelemetry tracer registered, the server's span of a fetch joins the caller's trace.
 * const client = await TransportClient.connect(tcpConnect({ host: "127.0.0.1", port: 7337 }));
 * console.log(enableFerryTraceContext(client) ? "traced" : "no tracer registered");
 * await client.close();
 * ```
 */
export function enableFerryTraceContext(client: TransportClient): boolean {
  if (typeof client?.send !== "function") {
    throw new InvalidArgumentError(
      `enableFerryTraceContext: expected a TransportClient, got ${typeof client}`,
    );
  }
  const tap = tapOf(client);
  if (tap === undefined || !tap.traced) return false;
  tap.correlate = (body) => {
    try {
      client.send(body);
    } catch {
      // The connection closed: the fetch fails anyway, and nothing is left to correlate.
    }
  };
  return true;
}

/**
 * A pool bootstrap that enables {@linkcode enableFerryTraceContext} on connections to peers known
 * to be Ferry (`peerFeatures` contain `"ferry"`), and does nothing for any other peer.
 *
 * @example
 * ```ts
 * import {
 *   ferryTraceContextBootstrap,
 *   sharedSecretBootstrap,
 *   TransportClient,
 * } from "ferry-transport";
 * import { ConnectionPool, type Route } from "ferry-transport/pool";
 * import { tcpConnect } from "ferry-transport/node";
 *
 * const address = (route: Route) =>
 *   typeof route === "string" ? { host: route, port: 7337 } : route;
 * const pool = new ConnectionPool({
 *   connector: (route, options) => TransportClient.connect(tcpConnect(address(route)), options),
 *   bootstraps: [
 *     sharedSecretBootstrap({ principal: "app-1", secret: "at least sixteen bytes of secret" }),
 *     ferryTraceContextBootstrap(),
 *   ],
 * });
 * await pool.close();
 * ```
 */
export function ferryTraceContextBootstrap(): ClientBootstrap<TransportClient> {
  return (client, context) => {
    if (context.peerFeatures.has(FERRY_PEER_FEATURE)) enableFerryTraceContext(client);
  };
}
