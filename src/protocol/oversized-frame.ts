/**
 * Frames over a limit that the decoder skips instead of failing the connection.
 *
 * A frame's header carries its type and its request id (or chunk id) before its body, so the
 * decoder can decide before buffering anything: for a frame over its limit it reads only the fixed
 * fields named here, then reads and discards the body, and reports an {@linkcode OversizedFrame}
 * once the last byte has passed. The connection stays in sync: the frame fails alone (a client's
 * request with a `LimitError`, a server's with a failure reply naming the limit).
 *
 * Only frames whose id comes first can be skipped this way: those whose body ends the frame, and
 * UploadStream, whose meta is skipped, then its body count (the frame's last 8 bytes) read, then
 * its raw body skipped too. An oversized frame of another type breaks the protocol: the others
 * are a few bytes long, except StreamResponse, whose only variable field is its stream id; a
 * server never answers with a stream id longer than the one the client asked for (which it sent
 * within its own limits), so a StreamResponse over the frame limit is a broken or hostile peer,
 * and which request it answers cannot be told without reading the id.
 *
 * @module
 */

import { readInt64 } from "./int64.ts";
import { type Int64, MessageType, messageTypeName } from "./messages.ts";

/**
 * Which limit a skipped frame was over: a frame limit, or (any other name) the request-body limit
 * its receiver's handler declared (`FrameDecoderOptions.maxRequestBodyBytes`).
 */
export type FrameLimitName =
  | "maxFrameLength"
  | "maxReplyFrameLength"
  | "maxInboundFrameBytes"
  | (string & Record<never, never>);

/** The limit a frame is over, as {@linkcode FrameLimits.exceeded} reports it. */
export interface FrameLimitExceeded {
  /** The limit in bytes, and its name. */
  readonly limit: number;
  readonly limitName: FrameLimitName;
  /** Set when the limit is on the request's body (its length here), not on the frame. */
  readonly bodyLength?: number;
}

interface OversizedBase extends FrameLimitExceeded {
  /** The announced frame length (the 8 length bytes included). */
  readonly frameLength: number;
}

/** A frame that was skipped for being over a limit; see the module documentation. */
export type OversizedFrame =
  | OversizedBase & {
    readonly type:
      | typeof MessageType.RpcRequest
      | typeof MessageType.RpcResponse
      | typeof MessageType.MergedBlockMetaSuccess;
    readonly requestId: Int64;
  }
  | OversizedBase & {
    readonly type: typeof MessageType.ChunkFetchSuccess;
    readonly streamId: Int64;
    readonly chunkIndex: number;
  }
  | OversizedBase & { readonly type: typeof MessageType.OneWayMessage }
  | OversizedBase & {
    readonly type: typeof MessageType.UploadStream;
    readonly requestId: Int64;
    /** Its raw body (skipped too), from the frame's last 8 bytes. */
    readonly bodyByteCount: number;
  };

/** The largest frame Spark's decoder accepts (its frame length is checked against int32). */
export const SPARK_MAX_FRAME_LENGTH = 0x7fff_ffff;

/**
 * Bytes of a frame of `type` (type byte first) the decoder needs to report it when skipped, or 0
 * when a frame of that type cannot be skipped.
 */
export function oversizedHeadLength(type: number): number {
  switch (type) {
    case MessageType.ChunkFetchSuccess: // type, streamId, chunkIndex
    case MessageType.RpcRequest: // type, requestId, bodyLength
    case MessageType.RpcResponse:
    case MessageType.MergedBlockMetaSuccess: // type, requestId, numChunks
      return 1 + 8 + 4;
    case MessageType.OneWayMessage: // type (its bodyLength does not matter once skipped)
      return 1;
    case MessageType.UploadStream: // type, requestId, metaLength (its body count ends the frame)
      return 1 + 8 + 4;
    default:
      return 0;
  }
}

/** Builds the report of a skipped frame from its first `oversizedHeadLength(type)` bytes. */
export function readOversizedFrame(
  head: Uint8Array,
  view: DataView,
  frameLength: number,
  over: FrameLimitExceeded,
): OversizedFrame {
  const limits: OversizedBase = { frameLength, ...over };
  switch (head[0]) {
    case MessageType.ChunkFetchSuccess:
      return {
        type: MessageType.ChunkFetchSuccess,
        streamId: readInt64(view, 1),
        chunkIndex: view.getInt32(9),
        ...limits,
      };
    case MessageType.RpcRequest:
      return { type: MessageType.RpcRequest, requestId: readInt64(view, 1), ...limits };
    case MessageType.RpcResponse:
      return { type: MessageType.RpcResponse, requestId: readInt64(view, 1), ...limits };
    case MessageType.MergedBlockMetaSuccess:
      return { type: MessageType.MergedBlockMetaSuccess, requestId: readInt64(view, 1), ...limits };
    case MessageType.UploadStream: // its body count is filled in once the frame's tail is read
      return {
        type: MessageType.UploadStream,
        requestId: readInt64(view, 1),
        bodyByteCount: 0,
        ...limits,
      };
    default:
      return { type: MessageType.OneWayMessage, ...limits };
  }
}

/**
 * `RpcResponse frame of 314572808 bytes is over maxReplyFrameLength (268435456 bytes)`, or for a
 * request-body limit `RpcRequest body of 9437184 bytes is over maxServiceRequestBytes (8388608
 * bytes)`.
 */
export function describeOversizedFrame(frame: OversizedFrame): string {
  const what = frame.bodyLength === undefined
    ? `frame of ${frame.frameLength}`
    : `body of ${frame.bodyLength}`;
  return `${messageTypeName[frame.type]} ${what} bytes is over ${frame.limitName} ` +
    `(${frame.limit} bytes)`;
}

/** Bytes of an RpcRequest frame (length field included) around its body. */
export const RPC_REQUEST_OVERHEAD = 8 + 1 + 8 + 4;
/** Bytes of a OneWayMessage frame (length field included) around its body. */
export const ONE_WAY_OVERHEAD = 8 + 1 + 4;
