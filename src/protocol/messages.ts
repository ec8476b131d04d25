/**
 * The 13 messages of Spark's `network-common` wire protocol, as plain data.
 *
 * Frame: `frameLength:int64 BE` (counts itself) · `type:uint8` · fields · body (if in frame).
 * See `docs/wire-format.md` for the table. Pure types: no I/O here.
 *
 * @module
 */

/**
 * An int64 from the wire in canonical form: a `number` when it is a safe integer
 * (|v| ≤ 2^53 − 1), a `bigint` otherwise. The decoder always produces the canonical form, so two
 * equal wire values are always `===` (and usable as the same Map key). Encoders accept either.
 */
export type Int64 = number | bigint;

/**
 * Message type ids (the byte after the frame length).
 *
 * @example
 * ```ts
 * import { type Message, MessageType } from "ferry-transport";
 *
 * function describe(message: Message): string {
 *   switch (message.type) {
 *     case MessageType.RpcRequest:
 *       return `RPC ${message.requestId}, ${message.body.byteLength} bytes`;
 *     case MessageType.ChunkFetchRequest:
 *       return `chunk ${message.chunkIndex} of stream ${message.streamId}`;
 *     default:
 *       return `message type ${message.type}`;
 *   }
 * }
 * console.log(describe({ type: MessageType.RpcRequest, requestId: 1, body: new Uint8Array(3) }));
 * ```
 */
export const MessageType = {
  ChunkFetchRequest: 0,
  ChunkFetchSuccess: 1,
  ChunkFetchFailure: 2,
  RpcRequest: 3,
  RpcResponse: 4,
  RpcFailure: 5,
  StreamRequest: 6,
  StreamResponse: 7,
  StreamFailure: 8,
  OneWayMessage: 9,
  UploadStream: 10,
  MergedBlockMetaRequest: 11,
  MergedBlockMetaSuccess: 12,
} as const;

/** A message type id. */
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/**
 * Message type names by id, for error messages and stats.
 *
 * @example
 * ```ts
 * import { messageTypeName } from "ferry-transport/protocol";
 *
 * console.log(messageTypeName[3]); // "RpcRequest"
 * ```
 */
export const messageTypeName: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(MessageType).map(([name, id]) => [id, name]),
);

export interface ChunkFetchRequest {
  readonly type: typeof MessageType.ChunkFetchRequest;
  readonly streamId: Int64;
  readonly chunkIndex: number;
}

export interface ChunkFetchSuccess {
  readonly type: typeof MessageType.ChunkFetchSuccess;
  readonly streamId: Int64;
  readonly chunkIndex: number;
  readonly body: Uint8Array;
}

export interface ChunkFetchFailure {
  readonly type: typeof MessageType.ChunkFetchFailure;
  readonly streamId: Int64;
  readonly chunkIndex: number;
  readonly error: string;
}

export interface RpcRequest {
  readonly type: typeof MessageType.RpcRequest;
  readonly requestId: Int64;
  readonly body: Uint8Array;
}

export interface RpcResponse {
  readonly type: typeof MessageType.RpcResponse;
  readonly requestId: Int64;
  readonly body: Uint8Array;
}

export interface RpcFailure {
  readonly type: typeof MessageType.RpcFailure;
  readonly requestId: Int64;
  readonly error: string;
}

export interface StreamRequest {
  readonly type: typeof MessageType.StreamRequest;
  readonly streamId: string;
}

/** Followed on the wire by exactly `byteCount` raw bytes outside the frame. */
export interface StreamResponse {
  readonly type: typeof MessageType.StreamResponse;
  readonly streamId: string;
  readonly byteCount: number;
}

export interface StreamFailure {
  readonly type: typeof MessageType.StreamFailure;
  readonly streamId: string;
  readonly error: string;
}

export interface OneWayMessage {
  readonly type: typeof MessageType.OneWayMessage;
  readonly body: Uint8Array;
}

/** Followed on the wire by exactly `bodyByteCount` raw bytes outside the frame. */
export interface UploadStream {
  readonly type: typeof MessageType.UploadStream;
  readonly requestId: Int64;
  readonly meta: Uint8Array;
  readonly bodyByteCount: number;
}

export interface MergedBlockMetaRequest {
  readonly type: typeof MessageType.MergedBlockMetaRequest;
  readonly requestId: Int64;
  readonly appId: string;
  readonly shuffleId: number;
  readonly shuffleMergeId: number;
  readonly reduceId: number;
}

export interface MergedBlockMetaSuccess {
  readonly type: typeof MessageType.MergedBlockMetaSuccess;
  readonly requestId: Int64;
  readonly numChunks: number;
  readonly body: Uint8Array;
}

/** Any message of the protocol. */
export type Message =
  | ChunkFetchRequest
  | ChunkFetchSuccess
  | ChunkFetchFailure
  | RpcRequest
  | RpcResponse
  | RpcFailure
  | StreamRequest
  | StreamResponse
  | StreamFailure
  | OneWayMessage
  | UploadStream
  | MergedBlockMetaRequest
  | MergedBlockMetaSuccess;

/** Messages a requester sends (Spark's `RequestMessage`). */
export type RequestMessage =
  | ChunkFetchRequest
  | RpcRequest
  | StreamRequest
  | OneWayMessage
  | UploadStream
  | MergedBlockMetaRequest;

/** Messages a responder sends (Spark's `ResponseMessage`). */
export type ResponseMessage =
  | ChunkFetchSuccess
  | ChunkFetchFailure
  | RpcResponse
  | RpcFailure
  | StreamResponse
  | StreamFailure
  | MergedBlockMetaSuccess;

/** Whether a message is a request (handled by the request side of a connection). */
export function isRequest(message: Message): message is RequestMessage {
  switch (message.type) {
    case MessageType.ChunkFetchRequest:
    case MessageType.RpcRequest:
    case MessageType.StreamRequest:
    case MessageType.OneWayMessage:
    case MessageType.UploadStream:
    case MessageType.MergedBlockMetaRequest:
      return true;
    default:
      return false;
  }
}
