/**
 * The wire form of Ferry's cancel extension: a OneWayMessage whose body is a Ferry control body
 * (`src/protocol/ferry-control.ts`) saying "I no longer want the reply to this request".
 *
 * ```
 * cancel a chunk fetch (kind 0x20), body 21 bytes:
 *   F5 46 45 52 52 59 00 01   control magic, version 1
 *   20                        kind: cancel chunk
 *   ss ss ss ss ss ss ss ss   streamId, int64 BE (as in the ChunkFetchRequest)
 *   ii ii ii ii               chunkIndex, int32 BE
 *
 * cancel a stream request (kind 0x21), body 13 + n bytes:
 *   F5 46 45 52 52 59 00 01   control magic, version 1
 *   21                        kind: cancel stream
 *   nn nn nn nn               byte length of the stream id, int32 BE
 *   ...                       the StreamRequest's stream id, UTF-8 (n bytes)
 * ```
 *
 * Bytes after these fields are ignored, so a later version may append fields. A OneWayMessage,
 * not an RpcRequest: a cancel needs no reply, takes no request id or pending-reply slot, and is
 * never refused by the per-connection request cap (it is what frees a slot). A Ferry server's
 * `ferryCancelResponder` consumes it without calling its `RpcHandler`; a plain Spark server would
 * hand it to its handler as an application message, so it is only sent to peers known to be Ferry
 * (`ferry-cancel.ts`).
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import { readInt64, writeInt64 } from "../protocol/int64.ts";
import type { Int64 } from "../protocol/messages.ts";
import {
  CONTROL_HEADER_LENGTH,
  ControlKind,
  controlKind,
  describeBody,
  encodeControl,
} from "../protocol/ferry-control.ts";

/** What a cancel names: one chunk fetch, or one stream request. */
export type CancelTarget =
  | { readonly kind: "chunk"; readonly streamId: Int64; readonly chunkIndex: number }
  | { readonly kind: "stream"; readonly streamId: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * The OneWayMessage body cancelling `target`.
 * @throws InvalidArgumentError when the stream id or chunk index cannot be encoded.
 */
export function encodeCancel(target: CancelTarget): Uint8Array {
  if (target.kind === "chunk") {
    const fields = new Uint8Array(12);
    const view = new DataView(fields.buffer);
    writeInt64(view, 0, target.streamId, "cancel streamId");
    view.setInt32(8, target.chunkIndex);
    return encodeControl(ControlKind.CancelChunk, fields);
  }
  const id = encoder.encode(target.streamId);
  const length = new Uint8Array(4);
  new DataView(length.buffer).setInt32(0, id.byteLength);
  return encodeControl(ControlKind.CancelStream, length, id);
}

/** Whether a OneWayMessage body is a Ferry cancel (cheap: checks the prefix and kind byte). */
export function isCancel(body: Uint8Array): boolean {
  const kind = controlKind(body);
  return kind === ControlKind.CancelChunk || kind === ControlKind.CancelStream;
}

/**
 * Decodes a body for which {@linkcode isCancel} is true.
 * @throws ProtocolError when its fields are truncated or the stream id is not UTF-8.
 */
export function decodeCancel(body: Uint8Array): CancelTarget {
  const kind = controlKind(body);
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const offset = CONTROL_HEADER_LENGTH;
  if (kind === ControlKind.CancelChunk) {
    if (body.byteLength < offset + 12) throw truncated(body, "a chunk cancel", offset + 12);
    return {
      kind: "chunk",
      streamId: readInt64(view, offset),
      chunkIndex: view.getInt32(offset + 8),
    };
  }
  if (kind !== ControlKind.CancelStream) {
    throw new ProtocolError(`Not a Ferry cancel: ${describeBody(body)}`);
  }
  if (body.byteLength < offset + 4) throw truncated(body, "a stream cancel", offset + 4);
  const length = view.getInt32(offset);
  if (length < 0 || body.byteLength < offset + 4 + length) {
    throw truncated(body, `a stream cancel with a ${length}-byte id`, offset + 4 + length);
  }
  try {
    const streamId = decoder.decode(body.subarray(offset + 4, offset + 4 + length));
    return { kind: "stream", streamId };
  } catch (error) {
    throw new ProtocolError(
      `Malformed Ferry stream cancel: its stream id is not valid UTF-8 (${describeBody(body)})`,
      { cause: error },
    );
  }
}

function truncated(body: Uint8Array, what: string, needed: number): ProtocolError {
  return new ProtocolError(
    `Malformed Ferry cancel: ${what} needs at least ${needed} bytes, received ${
      describeBody(body)
    }`,
  );
}
