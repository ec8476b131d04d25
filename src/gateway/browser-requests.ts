/**
 * How each message a browser may send is performed on the backend client (`operationFor`), and
 * how its outcome becomes the reply the browser expects, with the browser's own ids: RpcRequest →
 * `sendRpc` → RpcResponse / RpcFailure (same requestId); ChunkFetchRequest → `fetchChunk` →
 * ChunkFetchSuccess / ChunkFetchFailure (same streamId and chunkIndex); StreamRequest → `stream`
 * → StreamResponse and its body / StreamFailure (request order); OneWayMessage → `send`;
 * MergedBlockMetaRequest → MergedBlockMetaSuccess / RpcFailure; UploadStream (when allowed) →
 * `uploadStream` fed from the browser's raw bytes → RpcResponse / RpcFailure.
 *
 * Ferry control RPCs (0xF5 prefix) are never forwarded: a ping is answered by the gateway itself,
 * anything else gets an RpcFailure. A one-way message with the control prefix (a Ferry cancel)
 * ends the session with 1008. A plain Spark backend never sees a Ferry-only message.
 *
 * @module
 */

import type { TransportClient } from "../client/transport-client.ts";
import type { ByteStream } from "../connection/inbound-body.ts";
import { describeError, RemoteError } from "../errors.ts";
import {
  controlFields,
  ControlKind,
  controlKind,
  encodeControl,
} from "../protocol/ferry-control.ts";
import { type Int64, type Message, MessageType, messageTypeName } from "../protocol/messages.ts";
import { GatewayCloseCode, GatewayClosedError } from "./close-codes.ts";
import { UploadBody } from "./upload-body.ts";
import { traceGatewayHop } from "./gateway-hop.ts";

/** A request, ready to run once the backend client is there. */
export type Operation = (client: TransportClient) => void;

/** What performing requests needs from the session. */
export interface RequestSession {
  readonly allowUpload: boolean;
  readonly uploadHighWaterMark: number;
  /** The gateway answers the browser itself. */
  answer(message: Message): void;
  /** A request with `bytes` of body is going to the backend. */
  begin(bytes: number): void;
  /** The backend's outcome of a request begun with `bytes`, as the browser's reply. */
  reply(bytes: number, message: Message): void;
  /**
   * Like `reply`, for a reply whose body the backend client only lends: resolves once the body's
   * memory is no longer needed (the browser's socket flushed it, or the session ended and its
   * socket closed).
   */
  replyLent(bytes: number, message: Message): Promise<void>;
  /** A stream the browser asked for opened; its body follows the StreamResponse. */
  streamOpened(streamId: string, body: ByteStream): void;
  /** A one-way message of `bytes` went to the backend's queue. */
  oneWaySent(bytes: number): void;
  /** An upload's raw bytes will arrive from the decoder. */
  uploadStarted(upload: UploadBody): void;
  /** The backend took upload bytes. */
  readonly uploadPulled: () => void;
}

/**
 * What to do on the backend for one browser message; undefined when there is nothing to forward
 * (answered here). Throws a `GatewayClosedError` (1008) for a message browsers may not send.
 */
export function operationFor(message: Message, session: RequestSession): Operation | undefined {
  switch (message.type) {
    case MessageType.RpcRequest: {
      const { requestId, body } = message;
      const kind = controlKind(body);
      if (kind >= 0) {
        session.answer(
          kind === ControlKind.Ping
            ? {
              type: MessageType.RpcResponse,
              requestId,
              body: encodeControl(ControlKind.Pong, controlFields(body)),
            }
            : {
              type: MessageType.RpcFailure,
              requestId,
              error: `The gateway does not forward Ferry control messages (kind 0x${
                kind.toString(16)
              })`,
            },
        );
        return undefined;
      }
      session.begin(body.byteLength);
      return (client) =>
        relayRpcOutcome(
          session,
          requestId,
          body.byteLength,
          traceGatewayHop(body, client.remoteAddress, (sent) => client.sendRpc(sent)),
        );
    }
    case MessageType.ChunkFetchRequest: {
      const { streamId, chunkIndex } = message;
      session.begin(0);
      // Lent, not owned: the buffer a large chunk was assembled in goes back to the backend
      // connection once the browser's socket has sent it, and the next chunk reuses it (no fresh
      // 1 MiB buffer per chunk for the garbage collector).
      let replied = false;
      return (client) =>
        client.fetchChunkWith(streamId, chunkIndex, (body) => {
          replied = true;
          return session.replyLent(0, {
            type: MessageType.ChunkFetchSuccess,
            streamId,
            chunkIndex,
            body,
          });
        }).then(
          () => {},
          (error) => {
            if (replied) return; // replyLent never rejects; nothing else can fail after the reply
            session.reply(0, {
              type: MessageType.ChunkFetchFailure,
              streamId,
              chunkIndex,
              error: failureText(error),
            });
          },
        );
    }
    case MessageType.StreamRequest: {
      const { streamId } = message;
      session.begin(0);
      return (client) =>
        client.stream(streamId).then(
          (body) => session.streamOpened(streamId, body),
          (error) =>
            session.reply(0, {
              type: MessageType.StreamFailure,
              streamId,
              error: failureText(error),
            }),
        );
    }
    case MessageType.OneWayMessage: {
      const { body } = message;
      if (controlKind(body) >= 0) {
        // Ferry cancels (and any other control one-way message) name stream ids and chunks of the
        // gateway's own backend connection, not the browser's: never forward them.
        throw notAllowed(
          message,
          `Ferry control messages (kind 0x${controlKind(body).toString(16)}) are the gateway's own`,
        );
      }
      return (client) => {
        try {
          client.send(body);
        } catch {
          return; // the backend closed: its `closed` handler ends the session with 4502
        }
        session.oneWaySent(body.byteLength);
      };
    }
    case MessageType.MergedBlockMetaRequest: {
      const { requestId, appId, shuffleId, shuffleMergeId, reduceId } = message;
      session.begin(0);
      return (client) =>
        client.sendMergedBlockMetaRequest(appId, shuffleId, shuffleMergeId, reduceId).then(
          (meta) =>
            session.reply(0, {
              type: MessageType.MergedBlockMetaSuccess,
              requestId,
              numChunks: meta.numChunks,
              body: meta.body,
            }),
          (error) =>
            session.reply(0, {
              type: MessageType.RpcFailure,
              requestId,
              error: failureText(error),
            }),
        );
    }
    case MessageType.UploadStream: {
      if (!session.allowUpload) {
        throw notAllowed(message, "uploads are disabled (allowUpload)");
      }
      const { requestId, meta, bodyByteCount } = message;
      const upload = new UploadBody(session.uploadHighWaterMark, session.uploadPulled);
      if (bodyByteCount > 0) session.uploadStarted(upload);
      else upload.end();
      session.begin(meta.byteLength);
      return (client) =>
        relayRpcOutcome(
          session,
          requestId,
          meta.byteLength,
          client.uploadStream(meta, upload.stream, { byteLength: bodyByteCount }),
        );
    }
    default:
      throw notAllowed(message, "browsers send requests only");
  }
}

/**
 * Relays the backend's outcome of an RPC-like request (an RPC or an upload) begun with `bytes`:
 * the reply as an RpcResponse, a failure as an RpcFailure carrying its text.
 */
function relayRpcOutcome(
  session: RequestSession,
  requestId: Int64,
  bytes: number,
  outcome: Promise<Uint8Array>,
): void {
  outcome.then(
    (reply) => session.reply(bytes, { type: MessageType.RpcResponse, requestId, body: reply }),
    (error) =>
      session.reply(bytes, { type: MessageType.RpcFailure, requestId, error: failureText(error) }),
  );
}

/** The text a browser gets for a failed request: the backend's own text for remote failures. */
export function failureText(error: unknown): string {
  return error instanceof RemoteError ? error.remoteMessage : describeError(error);
}

export function notAllowed(message: Message, why: string): GatewayClosedError {
  return new GatewayClosedError(
    GatewayCloseCode.PolicyViolation,
    "message-not-allowed",
    `The gateway does not forward ${messageTypeName[message.type]} from browsers: ${why}`,
  );
}
