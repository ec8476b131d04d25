/**
 * Ferry's control messages: extensions that ride inside ordinary Spark RpcRequest/RpcResponse
 * bodies, so the wire protocol stays byte-compatible (`docs/wire-format.md`: "no handshake; extensions ride inside").
 *
 * A control body starts with an 8-byte magic prefix, then a kind byte, then the kind's fields:
 *
 * ```
 * F5 46 45 52 52 59 00 01   "\xF5FERRY\0" + version 1
 * kk                        kind (requests < 0x80, their replies = request | 0x80)
 * ...                       fields
 * ```
 *
 * The first byte 0xF5 was chosen so no body Spark itself sends can start with the prefix: Spark's
 * RPC bodies start with a `NettyRpcEnv` request (a boolean byte, 0 or 1), a `BlockTransferMessage`
 * type byte (< 0x20), a SASL message tag (0xEA) or an `AuthMessage` (int32 string length, first byte
 * 0 for any real length).
 *
 * A Ferry server consumes control requests in an inbound interceptor and answers them itself; its
 * `RpcHandler` never sees them. A plain Spark server would hand them to its handler, so a Ferry
 * client only sends them to a peer known to be Ferry (configured, or learned by completing Ferry's
 * authentication) — see `src/extensions/` — and every reply is checked to be the matching control
 * reply (an echo server returning the request verbatim is not mistaken for a Ferry peer).
 *
 * Kinds: 0x01 ping / 0x81 pong (8-byte nonce echoed); 0x10 auth hello / 0x90 auth challenge;
 * 0x11 auth proof / 0x91 auth ok (see `src/auth/`); 0x20 cancel chunk / 0x21 cancel stream, which
 * travel in OneWayMessage bodies and have no reply (see `src/extensions/`); 0x22 the trace context
 * of a chunk fetch, a OneWayMessage too (see `src/observability/chunk-trace-message.ts`).
 *
 * @module
 */

/** The 8 bytes every control body starts with. */
export const CONTROL_MAGIC: Uint8Array = Uint8Array.of(
  0xf5,
  0x46,
  0x45,
  0x52,
  0x52,
  0x59,
  0x00,
  0x01,
);

/** Offset of the kind byte; fields start right after it. */
export const CONTROL_HEADER_LENGTH = CONTROL_MAGIC.byteLength + 1;

/** Control message kinds. */
export const ControlKind = {
  Ping: 0x01,
  Pong: 0x81,
  AuthHello: 0x10,
  AuthChallenge: 0x90,
  AuthProof: 0x11,
  AuthOk: 0x91,
  CancelChunk: 0x20,
  CancelStream: 0x21,
  TraceChunk: 0x22,
} as const;

export type ControlKind = (typeof ControlKind)[keyof typeof ControlKind];

/** The kind byte of a control body, or -1 when `body` is not a control message. */
export function controlKind(body: Uint8Array): number {
  if (body.byteLength < CONTROL_HEADER_LENGTH) return -1;
  for (let i = 0; i < CONTROL_MAGIC.byteLength; i++) {
    if (body[i] !== CONTROL_MAGIC[i]) return -1;
  }
  return body[CONTROL_MAGIC.byteLength]!;
}

/** A control body: magic, `kind`, then `fields` concatenated. */
export function encodeControl(kind: ControlKind, ...fields: readonly Uint8Array[]): Uint8Array {
  let length = CONTROL_HEADER_LENGTH;
  for (const field of fields) length += field.byteLength;
  const body = new Uint8Array(length);
  body.set(CONTROL_MAGIC, 0);
  body[CONTROL_MAGIC.byteLength] = kind;
  let offset = CONTROL_HEADER_LENGTH;
  for (const field of fields) {
    body.set(field, offset);
    offset += field.byteLength;
  }
  return body;
}

/** The fields of a control body (a view, no copy). */
export function controlFields(body: Uint8Array): Uint8Array {
  return body.subarray(CONTROL_HEADER_LENGTH);
}

/** Short hex rendering of the start of a body, for error messages. */
export function describeBody(body: Uint8Array, max = 16): string {
  let hex = "";
  for (let i = 0; i < Math.min(body.byteLength, max); i++) {
    hex += body[i]!.toString(16).padStart(2, "0");
  }
  return `${body.byteLength} bytes${
    body.byteLength > 0 ? ` (${hex}${body.byteLength > max ? "…" : ""})` : ""
  }`;
}
