/**
 * Liveness checks that really round-trip — only where the peer is known to be Ferry.
 *
 * The ping is an RpcRequest carrying a control body (`src/protocol/ferry-control.ts`): kind 0x01 and an 8-byte
 * random nonce. A Ferry server's {@linkcode ferryPingResponder} interceptor answers it with kind
 * 0x81 and the same nonce, without calling the application's `RpcHandler`. A plain Spark server
 * would pass the ping to its handler, so the pool never pings a peer it does not know to be Ferry:
 * The pool's `ferryPingValidator` (`src/pool/ferry-ping-validator.ts`) pings a connection only when its `peerFeatures` contain
 * {@linkcode FERRY_PEER_FEATURE} — configured per route (`routes: { key: { peerFeatures:
 * ["ferry"] } }`) or learned when Ferry's shared-secret authentication succeeds (only a Ferry
 * server completes it). For any other peer validation falls back to `isActive`, and TTL and idle
 * eviction bound how long a silently dead connection can linger.
 *
 * @module
 */

import type { InboundInterceptor } from "./client-options.ts";
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

/** The peer feature that says "this peer is a Ferry server; control messages are safe". */
export const FERRY_PEER_FEATURE = "ferry";

/** What a ping needs from a client. `TransportClient` satisfies it. */
export interface RpcCapableClient {
  sendRpc(body: Uint8Array, options?: CallOptions): Promise<Uint8Array>;
  readonly remoteAddress?: string;
}

/**
 * Sends one ping and waits for the matching pong. Rejects with `ProtocolError` when the reply is
 * not a Ferry pong carrying the nonce, or with the RPC's own error (timeout, closed, remote).
 *
 * @example
 * ```ts
 * import type { TransportClient } from "ferry-transport";
 * import { ferryPing } from "ferry-transport/pool";
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
 * Server side: answers pings without involving the `RpcHandler`. Install it as the server's
 * `interceptor` (behind the authentication gate when there is one: see `SharedSecretServer`).
 *
 * @example
 * ```ts
 * import { SharedSecretServer, TransportServer } from "ferry-transport";
 * import { chainInterceptors, ferryPingResponder } from "ferry-transport/pool";
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

/**
 * Chains interceptors: each sees the message in turn until one consumes it.
 *
 * @example
 * ```ts
 * import { type InboundInterceptor, TransportServer } from "ferry-transport";
 * import { chainInterceptors, ferryPingResponder } from "ferry-transport/pool";
 *
 * const countOneWay: InboundInterceptor = (message) => {
 *   console.log("message type", message.type);
 *   return false; // not consumed: the next interceptor and then the handler see it
 * };
 * const server = new TransportServer({
 *   rpcHandler: { receive: (_client, body) => body },
 *   interceptor: chainInterceptors(countOneWay, ferryPingResponder),
 * });
 * await server.close();
 * ```
 */
export function chainInterceptors(
  ...interceptors: readonly (InboundInterceptor | undefined)[]
): InboundInterceptor {
  const chain = interceptors.filter((entry): entry is InboundInterceptor => entry !== undefined);
  return (message, client) => {
    for (const interceptor of chain) {
      if (interceptor(message, client)) return true;
    }
    return false;
  };
}
