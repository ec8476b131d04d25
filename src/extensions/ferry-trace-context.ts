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
 * The wire form (`src/observability/chunk-trace-message.ts`) stays with the connection's tap, which
 * encodes it on the client and reads it on the server (below the connection layer, it sees every
 * message before any interceptor): the tap makes the fetch's SERVER span a child of the client's
 * span. {@linkcode ferryTraceContextResponder} then consumes the message so the application never
 * sees it. A Spark peer never receives it.
 *
 * @module
 */

import type { InboundInterceptor } from "../client/client-options.ts";
import type { TransportClient } from "../client/transport-client.ts";
import { InvalidArgumentError } from "../errors.ts";
import { isChunkTraceContext } from "../observability/chunk-trace-message.ts";
import { tapOf } from "../observability/observe.ts";
import type { ClientBootstrap } from "../pool/pool-options.ts";
import { MessageType } from "../protocol/messages.ts";
import { FERRY_PEER_FEATURE } from "./ferry-peer.ts";

/**
 * Sends the trace context of this client's traced chunk fetches to its peer, which must be a Ferry
 * server (a Spark server would hand the extra one-way messages to its handler). Works on
 * connections observed by a tracer (an SDK was registered when the connection opened); returns
 * whether it was enabled.
 *
 * @example
 * ```ts
 * import { TransportClient } from "ferry-transport";
 * import { enableFerryTraceContext } from "ferry-transport/extensions";
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
 * import { sharedSecretBootstrap, TransportClient } from "ferry-transport";
 * import { ferryTraceContextBootstrap } from "ferry-transport/extensions";
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

/**
 * Server side: consumes the chunk trace contexts a Ferry peer sends (OneWayMessages, control kind
 * 0x22) after the connection's tap has read them, so the application's `RpcHandler` never sees
 * them. Install it as (part of) the server's `interceptor`; `ferryResponder`
 * (`ferry-responder.ts`) installs it with the other Ferry extensions.
 *
 * @example
 * ```ts
 * import { TransportServer } from "ferry-transport";
 * import { ferryTraceContextResponder } from "ferry-transport/extensions";
 *
 * const server = new TransportServer({
 *   rpcHandler: { receive: (_client, body) => body },
 *   interceptor: ferryTraceContextResponder,
 * });
 * await server.close();
 * ```
 */
export const ferryTraceContextResponder: InboundInterceptor = (message) =>
  message.type === MessageType.OneWayMessage && isChunkTraceContext(message.body);
