/**
 * The encoder's first step: validates every field of a {@linkcode Message} and computes the sizes
 * of its frame, so that a message that cannot be encoded fails with an `InvalidArgumentError`
 * naming the field and the value before a single byte is written anywhere.
 *
 * {@linkcode measureFrame} returns one shared, reused {@linkcode FrameLayout} (no allocation per
 * frame on the hot path); it is valid until the next call, and encoding is synchronous.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { type Int64, type Message, MessageType, messageTypeName } from "./messages.ts";
import { utf8ByteLength } from "./utf8.ts";

/**
 * Largest body copied into the header buffer; larger bodies are passed through as their own chunk.
 *
 * 16 KiB: copying that much costs on the order of a microsecond, while every extra chunk costs an
 * extra write call in the adapter (a syscall or a libuv/tokio request for TCP, a separate message
 * or a concatenation for WebSockets) which is several microseconds on its own. Above this size the
 * copy starts to dominate and zero-copy wins; it is also one TLS record's worth of plaintext.
 *
 * @example
 * ```ts
 * import { INLINE_BODY_MAX } from "ferry-transport/protocol";
 *
 * console.log(`bodies up to ${INLINE_BODY_MAX} bytes are copied into the frame`);
 * ```
 */
export const INLINE_BODY_MAX = 16 * 1024;

/** Bytes before the fields: frame length (int64) and type (uint8). */
export const PREFIX_LENGTH = 9;

/** Sizes of one frame, as {@linkcode measureFrame} computed them. */
export interface FrameLayout {
  /** Bytes of fields after the type byte, excluding an in-frame body (and a passed-through meta). */
  fieldsLength: number;
  /** The frame-length field. */
  frameLength: number;
  /** The in-frame body (RPC payload, chunk, bitmap) when the message has one. */
  body: Uint8Array | undefined;
  /** UTF-8 byte lengths of the message's first and second string, in wire order (0 if none). */
  string0: number;
  string1: number;
}

const INT32_MAX = 0x7fff_ffff;
const INT32_MIN = -0x8000_0000;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const layout: FrameLayout = {
  fieldsLength: 0,
  frameLength: 0,
  body: undefined,
  string0: 0,
  string1: 0,
};

/**
 * Validates every field of `message` and computes its sizes into the shared layout.
 * @throws InvalidArgumentError naming the field and the value when a field cannot be encoded.
 */
export function measureFrame(message: Message): FrameLayout {
  if (message === null || typeof message !== "object") {
    throw new InvalidArgumentError(
      `Cannot encode message: expected a message object, got ${
        message === null ? "null" : typeof message
      }`,
    );
  }
  switch (message.type) {
    case MessageType.ChunkFetchRequest:
      checkInt64(message.streamId, message, "streamId");
      checkInt32(message.chunkIndex, message, "chunkIndex");
      return fixed(12);
    case MessageType.ChunkFetchSuccess:
      checkInt64(message.streamId, message, "streamId");
      checkInt32(message.chunkIndex, message, "chunkIndex");
      return withBody(12, checkBytes(message.body, message, "body", false));
    case MessageType.ChunkFetchFailure: {
      checkInt64(message.streamId, message, "streamId");
      checkInt32(message.chunkIndex, message, "chunkIndex");
      return strings(12, stringLength(message.error, message, "error"), -1);
    }
    case MessageType.RpcRequest:
    case MessageType.RpcResponse:
      checkInt64(message.requestId, message, "requestId");
      return withBody(12, checkBytes(message.body, message, "body", true));
    case MessageType.RpcFailure:
      checkInt64(message.requestId, message, "requestId");
      return strings(8, stringLength(message.error, message, "error"), -1);
    case MessageType.StreamRequest:
      return strings(0, stringLength(message.streamId, message, "streamId"), -1);
    case MessageType.StreamResponse:
      checkByteCount(message.byteCount, message, "byteCount");
      return strings(8, stringLength(message.streamId, message, "streamId"), -1);
    case MessageType.StreamFailure:
      return strings(
        0,
        stringLength(message.streamId, message, "streamId"),
        stringLength(message.error, message, "error"),
      );
    case MessageType.OneWayMessage:
      return withBody(4, checkBytes(message.body, message, "body", true));
    case MessageType.UploadStream: {
      checkInt64(message.requestId, message, "requestId");
      const meta = checkBytes(message.meta, message, "meta", true);
      checkByteCount(message.bodyByteCount, message, "bodyByteCount");
      const fields = 8 + 4 + 8;
      fixed(fields + meta.length);
      // A large meta is passed through as its own chunk, so it is not part of the header buffer.
      if (meta.length > INLINE_BODY_MAX) layout.fieldsLength = 8 + 4;
      return layout;
    }
    case MessageType.MergedBlockMetaRequest:
      checkInt64(message.requestId, message, "requestId");
      checkInt32(message.shuffleId, message, "shuffleId");
      checkInt32(message.shuffleMergeId, message, "shuffleMergeId");
      checkInt32(message.reduceId, message, "reduceId");
      return strings(8 + 12, stringLength(message.appId, message, "appId"), -1);
    case MessageType.MergedBlockMetaSuccess:
      checkInt64(message.requestId, message, "requestId");
      checkInt32(message.numChunks, message, "numChunks");
      return withBody(12, checkBytes(message.body, message, "body", false));
    default: {
      const type = (message as { type: unknown }).type;
      throw new InvalidArgumentError(
        `Cannot encode message: unknown message type ${String(type)} (expected 0..12)`,
      );
    }
  }
}

function fixed(fieldsLength: number): FrameLayout {
  layout.fieldsLength = fieldsLength;
  layout.frameLength = PREFIX_LENGTH + fieldsLength;
  layout.body = undefined;
  layout.string0 = 0;
  layout.string1 = 0;
  return layout;
}

function withBody(fieldsLength: number, body: Uint8Array): FrameLayout {
  layout.fieldsLength = fieldsLength;
  layout.frameLength = PREFIX_LENGTH + fieldsLength + body.length;
  layout.body = body;
  layout.string0 = 0;
  layout.string1 = 0;
  return layout;
}

/** `second` is -1 when the message has one string. */
function strings(otherFields: number, first: number, second: number): FrameLayout {
  const fieldsLength = otherFields + 4 + first + (second < 0 ? 0 : 4 + second);
  layout.fieldsLength = fieldsLength;
  layout.frameLength = PREFIX_LENGTH + fieldsLength;
  layout.body = undefined;
  layout.string0 = first;
  layout.string1 = second < 0 ? 0 : second;
  return layout;
}

function fieldName(message: Message, field: string): string {
  return `${messageName(message)}.${field}`;
}

function messageName(message: Message): string {
  return messageTypeName[message.type] ?? `message type ${message.type}`;
}

function checkInt32(value: number, message: Message, field: string): void {
  if (!Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
    throw new InvalidArgumentError(
      `Cannot encode ${fieldName(message, field)}: expected an int32 integer ` +
        `(-2147483648..2147483647), got ${describe(value)}`,
    );
  }
}

function checkInt64(value: Int64, message: Message, field: string): void {
  if (
    typeof value === "number" ? Number.isSafeInteger(value) : (
      typeof value === "bigint" && value >= INT64_MIN && value <= INT64_MAX
    )
  ) return;
  throw new InvalidArgumentError(
    `Cannot encode ${fieldName(message, field)}: expected an integer number within ±(2^53 − 1) ` +
      `or a bigint within the signed int64 range, got ${describe(value)}`,
  );
}

function checkByteCount(value: number, message: Message, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(
      `Cannot encode ${fieldName(message, field)}: expected a non-negative safe integer, got ` +
        describe(value),
    );
  }
}

/** `int32Length`: the bytes' length goes into an int32 field (RPC bodies, meta). */
function checkBytes(
  value: Uint8Array,
  message: Message,
  field: string,
  int32Length: boolean,
): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new InvalidArgumentError(
      `Cannot encode ${fieldName(message, field)}: expected a Uint8Array, got ${describe(value)}`,
    );
  }
  if (int32Length && value.length > INT32_MAX) {
    throw new InvalidArgumentError(
      `Cannot encode ${fieldName(message, field)}: ${value.length} bytes exceed the int32 length ` +
        `field (at most 2147483647)`,
    );
  }
  return value;
}

function stringLength(value: string, message: Message, field: string): number {
  if (typeof value !== "string") {
    throw new InvalidArgumentError(
      `Cannot encode ${fieldName(message, field)}: expected a string, got ${describe(value)}`,
    );
  }
  const length = utf8ByteLength(value);
  if (length > INT32_MAX) {
    throw new InvalidArgumentError(
      `Cannot encode ${fieldName(message, field)}: its UTF-8 form is ${length} bytes, more than ` +
        `the int32 length field allows (2147483647)`,
    );
  }
  return length;
}

function describe(value: unknown): string {
  if (typeof value === "number") {
    // Show an unsafe integer exactly: String(2 ** 60) prints a rounded decimal.
    return Number.isInteger(value) && !Number.isSafeInteger(value)
      ? `${value} (exactly ${BigInt(value)})`
      : String(value);
  }
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string") return JSON.stringify(value.slice(0, 100));
  if (value === null) return "null";
  if (typeof value === "object") return (value.constructor?.name ?? "object");
  return typeof value;
}
