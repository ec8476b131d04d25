/**
 * The upload path of a connection's request handler: an UploadStream is handed to the
 * {@linkcode RpcHandler}'s `receiveStream(meta, body)` and answered with RpcResponse / RpcFailure.
 * Without `receiveStream`, or with the connection at `maxConcurrentRequestsPerConnection`, the
 * upload is refused and its bytes are read and discarded, so the connection stays in sync; bytes the
 * handler has not read when it settles are discarded too.
 *
 * @module
 */

import type { Peer } from "./peer.ts";
import type { Connection } from "../connection/connection.ts";
import { discardBody, type InboundBody, InboundStream } from "../connection/inbound-body.ts";
import { describeError, TransportError } from "../errors.ts";
import type { Int64, UploadStream } from "../protocol/messages.ts";
import type { RpcHandler } from "./rpc-handler.ts";

/** What the upload path needs from the request handler that owns it. */
export interface UploadHost {
  readonly client: Peer;
  readonly connection: Connection;
  /** The refusal text when the connection already serves its limit of requests. */
  overCapacity(what: string): string | undefined;
  /** An upload started (+1) or finished (-1) being served. */
  serving(delta: 1 | -1): void;
  /** Sends the handler's reply (checked to be a Uint8Array) as the RpcResponse. */
  reply(requestId: Int64, reply: unknown, source: string): void;
  /** Sends an RpcFailure. */
  fail(requestId: Int64, error: string): void;
}

/** Serves one UploadStream; returns where the connection delivers its body. */
export function receiveUpload(
  message: UploadStream,
  handler: RpcHandler | undefined,
  host: UploadHost,
): InboundBody {
  const requestId = message.requestId;
  if (handler?.receiveStream === undefined) {
    host.fail(
      requestId,
      `UploadStream refused: ${
        handler === undefined ? "no RpcHandler serves" : "the RpcHandler has no receiveStream for"
      } this connection; its ${message.bodyByteCount} bytes were discarded`,
    );
    return discardBody;
  }
  const refused = host.overCapacity(`upload ${requestId}`);
  if (refused !== undefined) {
    host.fail(requestId, `${refused}; its ${message.bodyByteCount} bytes were discarded`);
    return discardBody;
  }
  const connection = host.connection;
  const body = new InboundStream(
    message.bodyByteCount,
    connection,
    connection.options.streamHighWaterMark,
  );
  host.serving(1);
  const settle = (ok: boolean, outcome: unknown) => {
    host.serving(-1);
    // Bytes the handler did not read are discarded so the connection stays in sync.
    body.abandon(
      new TransportError(
        `Upload ${requestId}: the handler settled before the body of ` +
          `${message.bodyByteCount} bytes was read; the rest is discarded`,
      ),
    );
    if (ok) host.reply(requestId, outcome, "RpcHandler.receiveStream");
    else host.fail(requestId, describeError(outcome));
  };
  try {
    const result = handler.receiveStream(host.client, message.meta, body.stream);
    if (isPromiseLike(result)) {
      result.then((reply) => settle(true, reply), (error) => settle(false, error));
    } else {
      settle(true, result);
    }
  } catch (error) {
    settle(false, error);
  }
  return body;
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}
