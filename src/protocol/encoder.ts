/**
 * Encodes {@linkcode Message}s into Spark `network-common` frames, byte for byte what Spark's
 * `MessageEncoder` writes.
 *
 * `encodeMessage` returns the frame as chunks to write in order. The header (frame length, type,
 * fields) always goes into one region exactly as long as needed: for small headers a region of a
 * shared slab, never handed out twice (see header-allocator.ts: a header chunk may share its
 * `ArrayBuffer` with other headers, so never transfer its `.buffer`). A body of at most
 * {@linkcode INLINE_BODY_MAX} bytes is copied behind the header, so a small message is a single
 * chunk (one socket write, one WebSocket message); a larger body is returned as its own chunk, by
 * reference, never copied.
 *
 * StreamResponse and UploadStream frames do not contain their payload: the caller writes the
 * `byteCount` / `bodyByteCount` raw bytes after the frame itself.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { HeaderAllocator } from "./header-allocator.ts";
import { writeInt64 } from "./int64.ts";
import { type Int64, type Message, MessageType, messageTypeName } from "./messages.ts";
import { utf8ByteLength, writeUtf8 } from "./utf8.ts";

/**
 * Largest body copied into the header buffer; larger bodies are passed through as their own chunk.
 *
 * 16 KiB: copying that much costs on the order of a microsecond, while every extra chunk costs an
 * extra write call in the adapter (a syscall or a libuv/tokio request for TCP, a separate message
 * or a concatenation for WebSockets) which is several microseconds on its own. Above this size the
 * copy starts to dominate and zero-copy wins; it is also one TLS record's worth of plaintext.
 */
export const INLINE_BODY_MAX = 16 * 1024;

/** Shared by every encode; see header-allocator.ts for why headers come from slabs. */
const headers = new HeaderAllocator();

/** Bytes before the fields: frame length (int64) and type (uint8). */
const PREFIX_LENGTH = 9;
const INT32_MAX = 0x7fff_ffff;
const INT32_MIN = -0x8000_0000;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * The value of the frame-length field for `message`: the header, its fields and the body when the
 * body travels inside the frame (not the raw bytes after a StreamResponse / UploadStream).
 *
 * @throws InvalidArgumentError when a field is invalid (as {@linkcode encodeMessage}).
 */
export function frameLength(message: Message): number {
  return measure(message).frameLength;
}

/**
 * Encodes one frame. Returns its bytes as chunks to write in order: the header (with a small body
 * inlined), then, for a body above {@linkcode INLINE_BODY_MAX}, the body itself (same object, not a
 * copy). The caller must not mutate a passed-through body until it has been written.
 *
 * @throws InvalidArgumentError naming the field and the value when a field cannot be encoded.
 */
export function encodeMessage(message: Message): Uint8Array[] {
  const layout = measure(message);
  const body = layout.body;
  const inline = body !== undefined && body.length <= INLINE_BODY_MAX;
  const headerLength = PREFIX_LENGTH + layout.fieldsLength + (inline ? body.length : 0);
  headers.allocate(headerLength);
  const bytes = headers.bytes;
  const view = headers.view;
  const start = headers.offset;
  writeInt64(view, start, layout.frameLength, "frame length");
  bytes[start + 8] = message.type;
  let at = start + PREFIX_LENGTH;

  switch (message.type) {
    case MessageType.ChunkFetchRequest:
    case MessageType.ChunkFetchSuccess:
    case MessageType.ChunkFetchFailure:
      writeInt64(view, at, message.streamId, "streamId");
      view.setInt32(at + 8, message.chunkIndex);
      at += 12;
      if (message.type === MessageType.ChunkFetchFailure) {
        at = writeString(bytes, view, at, message.error, layout.stringLengths[0]!);
      }
      break;
    case MessageType.RpcRequest:
    case MessageType.RpcResponse:
      writeInt64(view, at, message.requestId, "requestId");
      view.setInt32(at + 8, message.body.length);
      at += 12;
      break;
    case MessageType.RpcFailure:
      writeInt64(view, at, message.requestId, "requestId");
      at = writeString(bytes, view, at + 8, message.error, layout.stringLengths[0]!);
      break;
    case MessageType.StreamRequest:
      at = writeString(bytes, view, at, message.streamId, layout.stringLengths[0]!);
      break;
    case MessageType.StreamResponse:
      at = writeString(bytes, view, at, message.streamId, layout.stringLengths[0]!);
      writeInt64(view, at, message.byteCount, "byteCount");
      at += 8;
      break;
    case MessageType.StreamFailure:
      at = writeString(bytes, view, at, message.streamId, layout.stringLengths[0]!);
      at = writeString(bytes, view, at, message.error, layout.stringLengths[1]!);
      break;
    case MessageType.OneWayMessage:
      view.setInt32(at, message.body.length);
      at += 4;
      break;
    case MessageType.UploadStream: {
      const meta = message.meta;
      writeInt64(view, at, message.requestId, "requestId");
      view.setInt32(at + 8, meta.length);
      at += 12;
      if (meta.length > INLINE_BODY_MAX) {
        // The meta sits between fields: pass it through between the header and an 8-byte tail.
        const header = headers.region(headerLength);
        headers.allocate(8);
        writeInt64(headers.view, headers.offset, message.bodyByteCount, "bodyByteCount");
        return [header, meta, headers.region(8)];
      }
      bytes.set(meta, at);
      writeInt64(view, at + meta.length, message.bodyByteCount, "bodyByteCount");
      break;
    }
    case MessageType.MergedBlockMetaRequest:
      writeInt64(view, at, message.requestId, "requestId");
      at = writeString(bytes, view, at + 8, message.appId, layout.stringLengths[0]!);
      view.setInt32(at, message.shuffleId);
      view.setInt32(at + 4, message.shuffleMergeId);
      view.setInt32(at + 8, message.reduceId);
      at += 12;
      break;
    case MessageType.MergedBlockMetaSuccess:
      writeInt64(view, at, message.requestId, "requestId");
      view.setInt32(at + 8, message.numChunks);
      at += 12;
      break;
  }

  if (body !== undefined && inline) bytes.set(body, at);
  const header = headers.region(headerLength);
  return body === undefined || inline ? [header] : [header, body];
}

interface Layout {
  /** Bytes of fields after the type byte, excluding an in-frame body (and a passed-through meta). */
  fieldsLength: number;
  /** The frame-length field. */
  frameLength: number;
  /** The in-frame body (RPC payload, chunk, bitmap) when the message has one. */
  body: Uint8Array | undefined;
  /** UTF-8 lengths of the message's strings, in wire order. */
  stringLengths: number[];
}

/** Validates every field of `message` and computes its sizes. */
function measure(message: Message): Layout {
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
      return strings(12, [stringLength(message.error, message, "error")]);
    }
    case MessageType.RpcRequest:
    case MessageType.RpcResponse:
      checkInt64(message.requestId, message, "requestId");
      return withBody(12, checkBytes(message.body, message, "body", true));
    case MessageType.RpcFailure:
      checkInt64(message.requestId, message, "requestId");
      return strings(8, [stringLength(message.error, message, "error")]);
    case MessageType.StreamRequest:
      return strings(0, [stringLength(message.streamId, message, "streamId")]);
    case MessageType.StreamResponse:
      checkByteCount(message.byteCount, message, "byteCount");
      return strings(8, [stringLength(message.streamId, message, "streamId")]);
    case MessageType.StreamFailure:
      return strings(0, [
        stringLength(message.streamId, message, "streamId"),
        stringLength(message.error, message, "error"),
      ]);
    case MessageType.OneWayMessage:
      return withBody(4, checkBytes(message.body, message, "body", true));
    case MessageType.UploadStream: {
      checkInt64(message.requestId, message, "requestId");
      const meta = checkBytes(message.meta, message, "meta", true);
      checkByteCount(message.bodyByteCount, message, "bodyByteCount");
      const fields = 8 + 4 + 8;
      const layout = fixed(fields + meta.length);
      // A large meta is passed through as its own chunk, so it is not part of the header buffer.
      if (meta.length > INLINE_BODY_MAX) layout.fieldsLength = 8 + 4;
      return layout;
    }
    case MessageType.MergedBlockMetaRequest:
      checkInt64(message.requestId, message, "requestId");
      checkInt32(message.shuffleId, message, "shuffleId");
      checkInt32(message.shuffleMergeId, message, "shuffleMergeId");
      checkInt32(message.reduceId, message, "reduceId");
      return strings(8 + 12, [stringLength(message.appId, message, "appId")]);
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

function fixed(fieldsLength: number): Layout {
  return {
    fieldsLength,
    frameLength: PREFIX_LENGTH + fieldsLength,
    body: undefined,
    stringLengths: [],
  };
}

function withBody(fieldsLength: number, body: Uint8Array): Layout {
  return {
    fieldsLength,
    frameLength: PREFIX_LENGTH + fieldsLength + body.length,
    body,
    stringLengths: [],
  };
}

function strings(otherFields: number, stringLengths: number[]): Layout {
  let fieldsLength = otherFields;
  for (const length of stringLengths) fieldsLength += 4 + length;
  return {
    fieldsLength,
    frameLength: PREFIX_LENGTH + fieldsLength,
    body: undefined,
    stringLengths,
  };
}

function writeString(
  header: Uint8Array,
  view: DataView,
  at: number,
  text: string,
  byteLength: number,
): number {
  view.setInt32(at, byteLength);
  writeUtf8(header, at + 4, text, byteLength);
  return at + 4 + byteLength;
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
