/**
 * Every message of Spark's `network-common` protocol described once: its fields in wire order and
 * how its body travels. This table is the codec's one description of the byte layout; the
 * encoder's measuring and validation (frame-layout.ts), its writing (encoder.ts) and the decoder's
 * reading (frame-reader.ts) interpret it, field by field. Adding a message is adding its type to
 * messages.ts and its row here.
 *
 * The hottest frames (RpcRequest / RpcResponse, ChunkFetchRequest / ChunkFetchSuccess) also have
 * hand-written codecs (hot-frames.ts); a property test checks that they produce exactly the bytes
 * and messages this table does (test/unit/protocol/hot-frames.test.ts).
 *
 * @module
 */

import { type Message, MessageType, messageTypeName } from "./messages.ts";

/** How one field is laid out on the wire (all integers big-endian). */
export type FieldKind =
  /** A signed int64 in canonical {@linkcode Int64} form: ids. */
  | "int64"
  /** A signed int32: indexes, counts and shuffle ids, passed through unchecked by the decoder. */
  | "int32"
  /** Spark's `Encoders.Strings`: an int32 UTF-8 byte length, then the UTF-8 bytes. */
  | "string"
  /**
   * An int64 counting raw bytes sent after the frame (a StreamResponse's or UploadStream's
   * payload), in [0, 2^53 − 1].
   */
  | "byteCount"
  /**
   * An int32 length, then that many bytes, with fields after it (UploadStream's meta). Above
   * `INLINE_BODY_MAX` the encoder passes the bytes through by reference, never copied.
   */
  | "bytes";

/** How a message's body travels. */
export type BodyKind =
  /** No body: the frame ends exactly after the last field (trailing bytes are an error). */
  | "none"
  /** `body` is the rest of the frame, with no length field (ChunkFetchSuccess, MergedBlock...). */
  | "rest"
  /**
   * An int32 body length after the fields, then `body`, the rest of the frame. Spark's decoder
   * ignores the length; Ferry's requires it to equal the rest of the frame.
   */
  | "sized"
  /**
   * The frame ends after its fields; then as many raw bytes as its `byteCount` field says follow
   * outside the frame (the decoder hands them to `FrameHandler.body`).
   */
  | "after";

/** One field: the property of the message object that holds it, and its layout. */
export interface FieldSpec {
  readonly name: string;
  readonly kind: FieldKind;
}

/** One message's row of the table. */
export interface MessageSpec {
  readonly type: MessageType;
  /** As `messageTypeName`: names the message in every error. */
  readonly name: string;
  /** In wire order, after the type byte (a `"sized"` body's length field is not listed). */
  readonly fields: readonly FieldSpec[];
  /** The body is the message's `body` property, except for `"after"`. */
  readonly body: BodyKind;
}

const int64 = (name: string): FieldSpec => ({ name, kind: "int64" });
const int32 = (name: string): FieldSpec => ({ name, kind: "int32" });
const string = (name: string): FieldSpec => ({ name, kind: "string" });
const byteCount = (name: string): FieldSpec => ({ name, kind: "byteCount" });
const bytes = (name: string): FieldSpec => ({ name, kind: "bytes" });

function row(type: MessageType, body: BodyKind, ...fields: FieldSpec[]): MessageSpec {
  return { type, name: messageTypeName[type]!, fields, body };
}

const T = MessageType;

/**
 * The table, indexed by message type id (docs/wire-format.md shows the same table in prose). Its
 * order is checked: `messageFields[id].type === id` for every id (message-fields.test.ts).
 */
export const messageFields: readonly MessageSpec[] = [
  row(T.ChunkFetchRequest, "none", int64("streamId"), int32("chunkIndex")),
  row(T.ChunkFetchSuccess, "rest", int64("streamId"), int32("chunkIndex")),
  row(T.ChunkFetchFailure, "none", int64("streamId"), int32("chunkIndex"), string("error")),
  row(T.RpcRequest, "sized", int64("requestId")),
  row(T.RpcResponse, "sized", int64("requestId")),
  row(T.RpcFailure, "none", int64("requestId"), string("error")),
  row(T.StreamRequest, "none", string("streamId")),
  row(T.StreamResponse, "after", string("streamId"), byteCount("byteCount")),
  row(T.StreamFailure, "none", string("streamId"), string("error")),
  row(T.OneWayMessage, "sized"),
  row(T.UploadStream, "after", int64("requestId"), bytes("meta"), byteCount("bodyByteCount")),
  row(
    T.MergedBlockMetaRequest,
    "none",
    int64("requestId"),
    string("appId"),
    int32("shuffleId"),
    int32("shuffleMergeId"),
    int32("reduceId"),
  ),
  row(T.MergedBlockMetaSuccess, "rest", int64("requestId"), int32("numChunks")),
];

/** The row for `type`, or undefined when `type` is no message type id (any value may come in). */
export function messageSpec(type: unknown): MessageSpec | undefined {
  return typeof type === "number" ? messageFields[type] : undefined;
}

/** The most fields one message has. */
export const MAX_FIELDS = Math.max(...messageFields.map((spec) => spec.fields.length));

/** The most strings one message has (the encoder keeps their measured lengths in an array). */
export const MAX_STRINGS = Math.max(
  ...messageFields.map((spec) => spec.fields.filter((field) => field.kind === "string").length),
);

/**
 * By type id: the `byteCount` field announcing the raw bytes after a frame of that type, for the
 * messages whose body is `"after"` (undefined for the others). The decoder reads it after
 * delivering such a message.
 */
export const rawBodyField: readonly (string | undefined)[] = messageFields.map((spec) =>
  spec.body === "after" ? spec.fields.find((field) => field.kind === "byteCount")?.name : undefined
);

/** The raw byte count announced by `message`, or -1 when nothing follows its frame. */
export function rawBodyLength(message: Message): number {
  const field = rawBodyField[message.type];
  return field === undefined ? -1 : (message as unknown as Record<string, number>)[field]!;
}
