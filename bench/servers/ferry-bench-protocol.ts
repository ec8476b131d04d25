/**
 * The RPCs the Ferry bench server understands. The first byte of an RPC body selects the action:
 *
 * - `openStream` (`0x01`, `chunkCount:uint32 BE`, `chunkSize:uint32 BE`): registers, for the
 *   calling connection, a random-access stream of `chunkCount` chunks that all are the same
 *   preallocated `chunkSize`-byte buffer, and answers the stream id as decimal UTF-8.
 * - `certificate` (`0x02`, nothing else): answers the PEM certificate of the server process's TLS
 *   servers (`bench-certificate.ts`), so a TLS client can trust it.
 * - anything else: echoed back unchanged.
 *
 * @module
 */

import type { Int64 } from "../../src/protocol/messages.ts";

export const openStreamOpcode = 0x01;
export const certificateOpcode = 0x02;
/** Bytes of an `openStream` request. */
export const openStreamRequestBytes = 9;
/** Largest chunk the bench server preallocates. */
export const maxBenchChunkBytes = 64 * 1024 * 1024;

/** The body of an `openStream` RPC. */
export function encodeOpenStream(chunkCount: number, chunkSize: number): Uint8Array {
  const body = new Uint8Array(openStreamRequestBytes);
  const view = new DataView(body.buffer);
  body[0] = openStreamOpcode;
  view.setUint32(1, chunkCount);
  view.setUint32(5, chunkSize);
  return body;
}

/** Reads an `openStream` body; undefined when `body` is not one. */
export function decodeOpenStream(
  body: Uint8Array,
): { chunkCount: number; chunkSize: number } | undefined {
  if (body.byteLength !== openStreamRequestBytes || body[0] !== openStreamOpcode) return undefined;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return { chunkCount: view.getUint32(1), chunkSize: view.getUint32(5) };
}

/** The body of a `certificate` RPC. */
export function encodeCertificateRequest(): Uint8Array {
  return Uint8Array.of(certificateOpcode);
}

/** Whether `body` is a `certificate` request. */
export function isCertificateRequest(body: Uint8Array): boolean {
  return body.byteLength === 1 && body[0] === certificateOpcode;
}

/** The stream id answered by `openStream`, in Ferry's canonical Int64 form. */
export function decodeStreamId(reply: Uint8Array): Int64 {
  const text = new TextDecoder().decode(reply);
  if (!/^-?\d+$/.test(text)) throw new Error(`bench: openStream answered "${text}", not an id`);
  const big = BigInt(text);
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(big)
    : big;
}

/** The reply body carrying `streamId`. */
export function encodeStreamId(streamId: Int64): Uint8Array {
  return new TextEncoder().encode(String(streamId));
}

/** A payload that is never mistaken for `openStream` (first byte 0). */
export function echoPayload(bytes: number): Uint8Array {
  const payload = new Uint8Array(bytes);
  for (let i = 1; i < bytes; i++) payload[i] = i & 0xff;
  return payload;
}
