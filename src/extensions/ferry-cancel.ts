/**
 * Ferry's cancel extension. Client side: when a caller abandons a chunk fetch or a stream request
 * (its deadline passed or its `AbortSignal` aborted), tell a Ferry peer, which stops producing the
 * reply, releases what it held for it and frees its budget and serving slots. Server side:
 * {@linkcode ferryCancelResponder}, an inbound interceptor that decodes the cancel and asks the
 * responder to stop serving the request (`TransportClient.cancelServing`, a generic operation of
 * the core, which knows nothing of this message).
 *
 * Without it nothing breaks: the client already drops a late chunk reply and reads an abandoned
 * stream's body off the socket and discards it. With it the server stops reading the source and
 * sending bytes nobody wants. How the responder stops a request is in `src/responder/`
 * (`ChunkFetchReplies`, `StreamReplyQueue`, `CancellableBody`); the wire form is in
 * `ferry-cancel-message.ts`. The client side plugs in through the client's generic
 * `onAbandoned` hook.
 *
 * A plain Spark server would hand the cancel (a OneWayMessage) to its application handler, so it
 * is only sent to peers known to be Ferry: call {@linkcode enableFerryCancel} yourself for such a
 * peer, or let {@linkcode ferryCancelBootstrap} enable it on pooled connections whose
 * `peerFeatures` contain `"ferry"` (configured per route, or learned by Ferry's authentication).
 *
 * @module
 */

import type { InboundInterceptor } from "../client/client-options.ts";
import type { TransportClient } from "../client/transport-client.ts";
import { InvalidArgumentError } from "../errors.ts";
import type { ClientBootstrap } from "../pool/pool-options.ts";
import { MessageType } from "../protocol/messages.ts";
import { type CancelTarget, decodeCancel, encodeCancel, isCancel } from "./ferry-cancel-message.ts";
import { FERRY_PEER_FEATURE } from "./ferry-peer.ts";

export type { CancelTarget } from "./ferry-cancel-message.ts";

/** Stops sending cancels (idempotent); the subscription also ends with the connection. */
export type DisableFerryCancel = () => void;

/**
 * Sends one cancel to `client`'s peer, which must be a Ferry server. Returns whether it was sent
 * (`false` when the connection is already closed: nothing is being served for it any more).
 * @throws InvalidArgumentError when `target` cannot be encoded.
 *
 * @example
 * ```ts
 * import type { TransportClient } from "ferry-transport";
 * import { sendFerryCancel } from "ferry-transport/extensions";
 *
 * declare const client: TransportClient; // connected to a Ferry server
 * sendFerryCancel(client, { kind: "chunk", streamId: 7n, chunkIndex: 3 });
 * sendFerryCancel(client, { kind: "stream", streamId: "logs/2" });
 * ```
 */
export function sendFerryCancel(client: TransportClient, target: CancelTarget): boolean {
  const body = encodeCancel(checkTarget(target));
  if (!client.isActive) return false;
  try {
    client.send(body);
    return true;
  } catch {
    return false; // closed between the check and the send
  }
}

/**
 * From now on, every chunk fetch and stream request abandoned on `client` is cancelled at its
 * peer, which must be a Ferry server.
 *
 * @example
 * ```ts
 * import type { TransportClient } from "ferry-transport";
 * import { enableFerryCancel } from "ferry-transport/extensions";
 *
 * declare const client: TransportClient; // connected to a Ferry server
 * const disable = enableFerryCancel(client);
 * // An abandoned fetch (deadline passed, signal aborted) now stops the server producing it too.
 * await client.fetchChunk(7n, 0, { signal: AbortSignal.timeout(100) }).catch(() => {});
 * disable();
 * ```
 */
export function enableFerryCancel(client: TransportClient): DisableFerryCancel {
  const unsubscribe = client.onAbandoned((request, owner) => {
    sendFerryCancel(
      owner,
      request.kind === "chunk"
        ? { kind: "chunk", streamId: request.streamId, chunkIndex: request.chunkIndex }
        : { kind: "stream", streamId: request.streamId },
    );
  });
  client.closed.then(unsubscribe);
  return unsubscribe;
}

/**
 * A pool bootstrap that enables cancels on connections to peers known to be Ferry (`peerFeatures`
 * contain `"ferry"`) and does nothing for any other peer. List it after the bootstrap that
 * authenticates (which is how a peer may become known as Ferry).
 *
 * @example
 * ```ts
 * import { sharedSecretBootstrap, TransportClient } from "ferry-transport";
 * import { ferryCancelBootstrap } from "ferry-transport/extensions";
 * import { ConnectionPool, type Route } from "ferry-transport/pool";
 * import { tcpConnect } from "ferry-transport/node";
 *
 * const address = (route: Route) =>
 *   typeof route === "string" ? { host: route, port: 7337 } : route;
 * const pool = new ConnectionPool({
 *   connector: (route, options) => TransportClient.connect(tcpConnect(address(route)), options),
 *   bootstraps: [
 *     sharedSecretBootstrap({ principal: "app-1", secret: "at least sixteen bytes of secret" }),
 *     ferryCancelBootstrap(), // only for peers the bootstrap above proved to be Ferry
 *   ],
 * });
 * await pool.close();
 * ```
 */
export function ferryCancelBootstrap(): ClientBootstrap<TransportClient> {
  return (client, context) => {
    if (context.peerFeatures.has(FERRY_PEER_FEATURE)) enableFerryCancel(client);
  };
}

/**
 * Server side: consumes the peer's Ferry cancels (OneWayMessages with a cancel control body) and
 * stops serving the request each one names; the application's `RpcHandler` never sees them. A
 * cancel naming nothing being served (it came too late), or several requests at once, is ignored;
 * a malformed one is reported to the server's `onHandlerError` and ignored. Counted in the
 * connection's `stats()` (`cancelsReceived`, `cancelsApplied`). Install it as (part of) the
 * server's `interceptor`; `ferryResponder` (`ferry-responder.ts`) installs it with the other Ferry
 * extensions.
 *
 * @example
 * ```ts
 * import { OneForOneStreamManager, TransportServer } from "ferry-transport";
 * import { ferryCancelResponder } from "ferry-transport/extensions";
 *
 * const server = new TransportServer({
 *   rpcHandler: { receive: (_client, body) => body },
 *   streamManager: new OneForOneStreamManager(),
 *   interceptor: ferryCancelResponder, // abandoned fetches stop being produced here
 * });
 * await server.close();
 * ```
 */
export const ferryCancelResponder: InboundInterceptor = (message, client) => {
  if (message.type !== MessageType.OneWayMessage || !isCancel(message.body)) return false;
  let target: CancelTarget;
  try {
    target = decodeCancel(message.body);
  } catch (error) {
    client.reportError(error, "Ferry cancel");
    return true;
  }
  client.cancelServing(target);
  return true;
};

function checkTarget(target: CancelTarget): CancelTarget {
  const kind = (target as { kind?: unknown } | null)?.kind;
  if (kind === "chunk") {
    const index = target.kind === "chunk" ? target.chunkIndex : undefined;
    if (!Number.isInteger(index) || index! < 0 || index! > 0x7fff_ffff) {
      throw new InvalidArgumentError(
        `sendFerryCancel: chunkIndex must be an integer in [0, 2^31), got ${String(index)}`,
      );
    }
    return target;
  }
  if (kind === "stream") {
    if (typeof (target as { streamId?: unknown }).streamId !== "string") {
      throw new InvalidArgumentError(
        `sendFerryCancel: a stream cancel needs a string streamId, got ${typeof (target as {
          streamId?: unknown;
        }).streamId}`,
      );
    }
    return target;
  }
  throw new InvalidArgumentError(
    `sendFerryCancel: expected a target of kind "chunk" or "stream", got ${String(kind)}`,
  );
}
