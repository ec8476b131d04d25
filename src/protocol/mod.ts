/**
 * Ferry's codec for Spark's `network-common` wire protocol: message types, the frame encoder and
 * the incremental frame decoder. Pure: bytes in, bytes out, no I/O.
 *
 * @module
 */

export * from "./messages.ts";
export { canonicalInt64, readInt64, writeInt64 } from "./int64.ts";
export { encodeMessage, frameLength, INLINE_BODY_MAX } from "./encoder.ts";
export {
  type DecoderState,
  FrameDecoder,
  type FrameDecoderOptions,
  type FrameHandler,
  type FrameMemory,
} from "./decoder.ts";
export {
  type FrameLimitName,
  type OversizedFrame,
  SPARK_MAX_FRAME_LENGTH,
} from "./oversized-frame.ts";
