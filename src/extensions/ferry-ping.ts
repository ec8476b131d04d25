/**
 * Ferry's ping extension: a liveness check that really round-trips — only where the peer is known
 * to be Ferry.
 *
 * The ping is an RpcRequest carrying a control body (`src/protocol/ferry-control.ts`): kind 0x01
 * and an 8-byte random nonce. A Ferry server's {@linkcode ferryPingResponder} interceptor answers
 * it with kind 0x81 and the same nonce, without calling the application's `RpcHandler`. A plain
 * Spark server would pass the ping to its handler, so nothing pings a peer not known to be Ferry:
 * the pool's `ferryPingValidator` (`ferry-ping-validator.ts`) and the heartbeat
 * (`ferry-heartbeat.ts`) ping a connection only when its `peerFeatures` contain
 * `FERRY_PEER_FEATURE` (`ferry-peer.ts`). For any other peer validation falls back to `isActive`,
 * and TTL and idle eviction bound how long a silently dead connection can linger.
 *
 * @module
 */

import type { InboundInterceptor } from "../client/client-options.ts";
import type { RpcCapableClient } from "../client/rpc-capable-client.ts";
import type { CallOptions } from "../deadline.ts";
import { ProtocolError } from "../errors.ts";
import { MessageType } from "../protocol/messages.ts";
import {
  controlFields,
  ControlKind,
  controlKind,
  describeBody,
  encodeControl,
} from "../protocol/ferry-control.ts";

/**
 * Sends one ping and waits for the matching pong. Rejects with `ProtocolError` when the reply is
 * not a Ferry pong carrying the nonce, or with the RPC's own error (timeout, closed, remote).
 *
 * @example
 * ```ts
 * import type { TransportClient } from "ferry-transport";
 * import { ferryPing } from "ferry-transport/extensions";
 *
 * declare const client: TransportClient; // connected to a Ferry server
 * await ferryPing(client, { timeoutMs: 1_000 }); // rejects unless a matching pong comes back
 * ```
 */
export async function ferryPing(client: RpcCapableClient, options?: CallOptions): Promise<void> {
  const nonce = crypto.getRandomValues(new Uint8Array(8));
  const reply = await client.sendRpc(encodeControl(ControlKind.Ping, nonce), options);
  const fields = controlFields(reply);
  if (
    controlKind(reply) !== ControlKind.Pong || fields.byteLength !== nonce.byteLength ||
    !fields.every((byte, i) => byte === nonce[i])
  ) {
    throw new ProtocolError(
      `Pinging ${
        client.remoteAddress ?? "the peer"
      } failed: expected a Ferry pong echoing the 8-byte nonce, received ${describeBody(reply)}`,
    );
  }
}

/**
 * Server side: answers pings without involving the `RpcHandler`. Install it as (part of) the
 * server's `interceptor`, behind the authentication gate when there is one; `ferryResponder`
 * (`ferry-responder.ts`) installs it with the other Ferry extensions, and `SharedSecretServer` /
 * `SparkSaslServer`'s `serverOptions` install that.
 *
 * @example
 * ```ts
 * import { chainInterceptors, SharedSecretServer, TransportServer } from "ferry-transport";
 * import { ferryPingResponder } from "ferry-transport/extensions";
 *
 * const auth = new SharedSecretServer({ secret: "at least sixteen bytes of secret" });
 * const server = new TransportServer({
 *   rpcHandler: { receive: (_client, body) => body },
 *   // Authentication first: pings are answered only on authenticated connections.
 *   interceptor: chainInterceptors(auth.interceptor, ferryPingResponder),
 * });
 * await server.close();
 * ```
 */
export const ferryPingResponder: InboundInterceptor = (message, client) => {
  if (message.type !== MessageType.RpcRequest || controlKind(message.body) !== ControlKind.Ping) {
    return false;
  }
  try {
    client.sendMessage({
      type: MessageType.RpcResponse,
      requestId: message.requestId,
      body: encodeControl(ControlKind.Pong, controlFields(message.body)),
    });
  } catch {
    // The connection closed under the ping: there is nobody left to answer.
  }
  return true;
};
