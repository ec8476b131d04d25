/**
 * The wire form of Ferry's trace-context extension for chunk fetches (a OneWayMessage body, Ferry
 * control kind 0x22; see `chunk-trace-context.ts` for when it is sent):
 *
 * ```
 * F5 46 45 52 52 59 00 01 22 · streamId int64 · chunkIndex int32 · traceparent (55 ASCII bytes)
 * ```
 *
 * @module
 */

import {
  CONTROL_HEADER_LENGTH,
  ControlKind,
  controlKind,
  encodeControl,
} from "../protocol/ferry-control.ts";
import { readInt64, writeInt64 } from "../protocol/int64.ts";
import type { Int64 } from "../protocol/messages.ts";

const FIELDS_LENGTH = 8 + 4 + 55;

/** Whether a OneWayMessage body is a chunk fetch's trace context (prefix and kind byte). */
export function isChunkTraceContext(body: Uint8Array): boolean {
  return controlKind(body) === ControlKind.TraceChunk;
}

/** The body naming `traceparent` as the trace context of chunk `chunkIndex` of `streamId`. */
export function encodeChunkTraceContext(
  streamId: Int64,
  chunkIndex: number,
  traceparent: string,
): Uint8Array {
  const fields = new Uint8Array(FIELDS_LENGTH);
  const view = new DataView(fields.buffer);
  writeInt64(view, 0, streamId, "trace context streamId");
  view.setInt32(8, chunkIndex);
  for (let i = 0; i < 55; i++) fields[12 + i] = traceparent.charCodeAt(i) & 0x7f;
  return encodeControl(ControlKind.TraceChunk, fields);
}

/** Decodes a body {@linkcode isChunkTraceContext} accepted; undefined when it is truncated. */
export function decodeChunkTraceContext(
  body: Uint8Array,
): { streamId: Int64; chunkIndex: number; traceparent: string } | undefined {
  if (body.byteLength < CONTROL_HEADER_LENGTH + FIELDS_LENGTH) return undefined;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const offset = CONTROL_HEADER_LENGTH;
  let traceparent = "";
  for (let i = 0; i < 55; i++) traceparent += String.fromCharCode(body[offset + 12 + i]!);
  return {
    streamId: readInt64(view, offset),
    chunkIndex: view.getInt32(offset + 8),
    traceparent,
  };
}
