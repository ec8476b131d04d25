/**
 * Ferry's codec for Spark's `network-common` wire protocol: message types, the frame encoder and
 * the incremental frame decoder. Pure: bytes in, bytes out, no I/O.
 *
 * @module
 */

export {
  type ChunkFetchFailure,
  type ChunkFetchRequest,
  type ChunkFetchSuccess,
  type Int64,
  type MergedBlockMetaRequest,
  type MergedBlockMetaSuccess,
  type Message,
  MessageType,
  messageTypeName,
  type OneWayMessage,
  type RequestMessage,
  type ResponseMessage,
  type RpcFailure,
  type RpcRequest,
  type RpcResponse,
  type StreamFailure,
  type StreamRequest,
  type StreamResponse,
  type UploadStream,
} from "./messages.ts";
export { canonicalInt64, readInt64, writeInt64 } from "./int64.ts";
export { encodeMessage, frameLength, INLINE_BODY_MAX } from "./encoder.ts";
export {
  type DecoderState,
  type FrameAllocator,
  FrameDecoder,
  type FrameDecoderOptions,
  type FrameHandler,
  type FrameMemory,
} from "./decoder.ts";
export { type FrameLimitName, type OversizedFrame } from "./oversized-frame.ts";
