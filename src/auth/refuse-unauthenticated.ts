/**
 * How an authentication gate answers what arrives before its connection has authenticated, one
 * home for both gates — Ferry's shared-secret one (`shared-secret-server.ts`) and Spark's SASL one
 * (`../sasl/spark-sasl-server.ts`), which differ only in the words of the refusal.
 *
 * Requests get their failure reply (so the caller learns why at once instead of timing out);
 * one-way messages cannot be answered, and responses to requests this side never sent are dropped.
 * Either way nothing reaches the handler, and the connection stays open (the gate's own deadline
 * closes it if it never authenticates).
 *
 * @module
 */

import type { Peer } from "../responder/peer.ts";
import { type Message, MessageType } from "../protocol/messages.ts";

/** Answers `message` with its failure reply carrying `error`, or drops it if it has none. */
export function refuseUnauthenticated(
  message: Message,
  client: Peer,
  error: string,
): void {
  switch (message.type) {
    case MessageType.RpcRequest:
    case MessageType.UploadStream:
    case MessageType.MergedBlockMetaRequest:
      trySend(client, { type: MessageType.RpcFailure, requestId: message.requestId, error });
      return;
    case MessageType.ChunkFetchRequest:
      trySend(client, {
        type: MessageType.ChunkFetchFailure,
        streamId: message.streamId,
        chunkIndex: message.chunkIndex,
        error,
      });
      return;
    case MessageType.StreamRequest:
      trySend(client, { type: MessageType.StreamFailure, streamId: message.streamId, error });
      return;
    default:
      // One-way messages cannot be answered; responses to requests never sent are dropped.
      return;
  }
}

/** Sends `message` unless the connection has closed meanwhile (then there is no one to answer). */
export function trySend(client: Peer, message: Message): void {
  try {
    client.sendMessage(message);
  } catch {
    // Closed meanwhile: nothing to answer.
  }
}
