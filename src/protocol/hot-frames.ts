/**
 * Hand-written codecs of the hottest frames: RpcRequest / RpcResponse and ChunkFetchRequest /
 * ChunkFetchSuccess, the frames of every RPC and chunk fetch, plus the split form of the frames
 * whose large body may arrive as a chunk of its own (the decoder's `"frame-body"` state).
 *
 * Everything else, and these frames in any uncommon form (a `bigint` id, a malformed length), goes
 * to the general, table-driven path (message-fields.ts), whose validation and errors then apply
 * unchanged: each function here returns `false` without side effects for what it does not handle.
 * test/unit/protocol/hot-frames.test.ts checks, for random and corrupted messages of every type,
 * that whatever these functions handle comes out exactly as the general path makes it.
 *
 * @module
 */

import type { FrameOutput } from "./encoder.ts";
import type { FrameHandler } from "./frame-handler.ts";
import { INLINE_BODY_MAX } from "./frame-layout.ts";
import { readInt64 } from "./int64.ts";
import {
  type ChunkFetchRequest,
  type ChunkFetchSuccess,
  type Int64,
  type Message,
  MessageType,
  type RpcRequest,
  type RpcResponse,
} from "./messages.ts";

/**
 * An RPC or chunk-fetch header: frame length, type, id (int64), then an int32 (the body length or
 * the chunk index); a ChunkFetchRequest is exactly this.
 */
const ID_HEADER = 8 + 1 + 8 + 4;
/** The same after the frame length: the bytes before an RPC's or a chunk's body. */
const ID_FIELDS = ID_HEADER - 8;
const TWO_POW_32 = 4_294_967_296;

/**
 * Encodes `message` into `output` when it is a hot frame in its common form: an RPC with a uint32
 * id and an inline body, a chunk fetch with a safe-integer `number` stream id and an int32 index.
 * Returns false, having touched nothing, for anything else.
 */
export function encodeHotFrame(message: Message, output: FrameOutput): boolean {
  // A small dispatcher over small functions, so that each inlines into the encoder.
  switch (message.type) {
    case MessageType.RpcRequest:
    case MessageType.RpcResponse:
      return encodeRpc(message, output);
    case MessageType.ChunkFetchRequest:
      return encodeChunkFetchRequest(message, output);
    case MessageType.ChunkFetchSuccess:
      return encodeChunkFetchSuccess(message, output);
    default:
      return false;
  }
}

function encodeRpc(message: RpcRequest | RpcResponse, output: FrameOutput): boolean {
  return encodeRpcFrame(message.type, message.requestId, message.body, output);
}

/**
 * Encodes an RpcRequest or RpcResponse given as its fields (no message object: the writers'
 * per-RPC path) when it is in its common form: a uint32 id and an inline `Uint8Array` body.
 * Returns false, having touched nothing, for anything else (the general path then encodes or
 * refuses the message built from the same fields).
 */
export function encodeRpcFrame(
  type: (RpcRequest | RpcResponse)["type"],
  requestId: Int64,
  body: Uint8Array,
  output: FrameOutput,
): boolean {
  // The fields are valid by construction here, and both int64s (frame length, id) have a zero
  // high word.
  if (
    typeof requestId !== "number" || (requestId >>> 0) !== requestId ||
    !(body instanceof Uint8Array) || body.length > INLINE_BODY_MAX
  ) return false;
  const length = ID_HEADER + body.length;
  output.reserve(length);
  const view = output.view;
  const at = output.offset;
  view.setUint32(at, 0);
  view.setUint32(at + 4, length);
  output.bytes[at + 8] = type;
  view.setUint32(at + 9, 0);
  view.setUint32(at + 13, requestId);
  view.setInt32(at + 17, body.length);
  output.bytes.set(body, at + ID_HEADER);
  return true;
}

function encodeChunkFetchRequest(message: ChunkFetchRequest, output: FrameOutput): boolean {
  const { streamId, chunkIndex } = message;
  if (!isSafeNumber(streamId) || !isInt32(chunkIndex)) return false;
  output.reserve(ID_HEADER);
  const view = output.view;
  const at = output.offset;
  view.setUint32(at, 0);
  view.setUint32(at + 4, ID_HEADER);
  output.bytes[at + 8] = MessageType.ChunkFetchRequest;
  writeSafeInt64(view, at + 9, streamId);
  view.setInt32(at + 17, chunkIndex);
  return true;
}

function encodeChunkFetchSuccess(message: ChunkFetchSuccess, output: FrameOutput): boolean {
  const { streamId, chunkIndex, body } = message;
  if (!isSafeNumber(streamId) || !isInt32(chunkIndex) || !(body instanceof Uint8Array)) {
    return false;
  }
  const inline = body.length <= INLINE_BODY_MAX;
  output.reserve(inline ? ID_HEADER + body.length : ID_HEADER);
  const view = output.view;
  const at = output.offset;
  writeSafeInt64(view, at, ID_HEADER + body.length);
  output.bytes[at + 8] = MessageType.ChunkFetchSuccess;
  writeSafeInt64(view, at + 9, streamId);
  view.setInt32(at + 17, chunkIndex);
  // A large chunk is passed through by reference, never copied.
  if (inline) output.bytes.set(body, at + ID_HEADER);
  else output.passThrough(body);
  return true;
}

function isSafeNumber(value: Int64): value is number {
  return typeof value === "number" && Number.isSafeInteger(value);
}

function isInt32(value: number): boolean {
  // `| 0` would throw for a bigint, which the general path names in its error.
  return typeof value === "number" && (value | 0) === value;
}

/** Writes a safe integer as an int64 (the arithmetic of `writeInt64`, without its checks). */
function writeSafeInt64(view: DataView, at: number, value: number): void {
  const hi = Math.floor(value / TWO_POW_32);
  view.setInt32(at, hi);
  view.setUint32(at + 4, value - hi * TWO_POW_32);
}

/**
 * Decodes the complete frame in `bytes[start, end)` (type byte first; `view` covers `bytes`) and
 * delivers it to `handler` when it is a well-formed hot frame. Returns false for anything else,
 * malformed hot frames included (the general reader then names what is wrong).
 */
export function readHotFrame(
  bytes: Uint8Array,
  view: DataView,
  start: number,
  end: number,
  handler: FrameHandler,
): boolean {
  const type = bytes[start];
  const size = end - start;
  switch (type) {
    case MessageType.RpcRequest:
    case MessageType.RpcResponse:
      if (size < ID_FIELDS || view.getInt32(start + 9) !== size - ID_FIELDS) return false;
      deliverRpc(handler, type, readInt64(view, start + 1), bytes.subarray(start + ID_FIELDS, end));
      return true;
    case MessageType.ChunkFetchRequest:
      if (size !== ID_FIELDS) return false;
      handler.message({
        type: MessageType.ChunkFetchRequest,
        streamId: readInt64(view, start + 1),
        chunkIndex: view.getInt32(start + 9),
      });
      return true;
    case MessageType.ChunkFetchSuccess:
      if (size < ID_FIELDS) return false;
      handler.message({
        type: MessageType.ChunkFetchSuccess,
        streamId: readInt64(view, start + 1),
        chunkIndex: view.getInt32(start + 9),
        body: bytes.subarray(start + ID_FIELDS, end),
      });
      return true;
    default:
      return false;
  }
}

/**
 * Delivers a well-formed RpcRequest / RpcResponse (via `rpcRequest` / `rpcResponse` where the
 * handler has them).
 */
function deliverRpc(handler: FrameHandler, type: number, requestId: Int64, body: Uint8Array): void {
  if (type === MessageType.RpcRequest) {
    if (handler.rpcRequest !== undefined) handler.rpcRequest(requestId, body);
    else handler.message({ type: MessageType.RpcRequest, requestId, body });
  } else if (handler.rpcResponse !== undefined) {
    handler.rpcResponse(requestId, body);
  } else {
    handler.message({ type: MessageType.RpcResponse, requestId, body });
  }
}

/** The longest head {@linkcode splitHeadLength} returns. */
export const MAX_SPLIT_HEAD = ID_FIELDS;

/**
 * Bytes before the body of a frame of `type` (type byte first) whose body may be received as a
 * chunk of its own, the body ending the frame; 0 for the other types.
 */
export function splitHeadLength(type: number): number {
  switch (type) {
    case MessageType.ChunkFetchSuccess: // type, streamId, chunkIndex
    case MessageType.RpcRequest: // type, requestId, bodyLength
    case MessageType.RpcResponse:
      return ID_FIELDS;
    case MessageType.OneWayMessage: // type, bodyLength
      return 1 + 4;
    default:
      return 0;
  }
}

/**
 * Delivers the frame whose head (`splitHeadLength` bytes, type byte first) is in `head` / `view`
 * and whose body is `body`. Returns false when its body length field disagrees with `body` (the
 * caller joins head and body for the general reader, which names what is wrong).
 */
export function readSplitFrame(
  head: Uint8Array,
  view: DataView,
  body: Uint8Array,
  handler: FrameHandler,
): boolean {
  const type = head[0]!;
  if (type === MessageType.ChunkFetchSuccess) {
    const streamId = readInt64(view, 1);
    const chunkIndex = view.getInt32(9);
    handler.message({ type: MessageType.ChunkFetchSuccess, streamId, chunkIndex, body });
    return true;
  }
  if (type === MessageType.OneWayMessage) {
    if (view.getInt32(1) !== body.length) return false;
    handler.message({ type: MessageType.OneWayMessage, body });
    return true;
  }
  if (view.getInt32(9) !== body.length) return false;
  deliverRpc(handler, type, readInt64(view, 1), body);
  return true;
}
