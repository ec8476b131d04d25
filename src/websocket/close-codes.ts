/**
 * What a WebSocket is closed with when Ferry ends it because of an error, for both of Ferry's
 * WebSocket sockets (`src/websocket/client-socket.ts` and `adapters/websocket-socket.ts`): the code
 * (one the error carries, e.g. a gateway refusal, else {@linkcode resetCloseCode}) and a reason the
 * protocol accepts.
 *
 * @module
 */

import { describeError } from "../errors.ts";

/** Close code Ferry sends for `close(error)` where the socket cannot be terminated. */
export const resetCloseCode = 4000;

/** Codes an endpoint may put in a close frame (RFC 6455 §7.4): 1000–1003, 1007–1014, 3000–4999. */
export function sendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999);
}

/**
 * The close code an error asks for (`error.closeCode`), when it is one an endpoint may send.
 * Anything else is ignored (the socket terminates).
 */
export function carriedCloseCode(error: unknown): number | undefined {
  if (error === null || typeof error !== "object") return undefined;
  const code = (error as { closeCode?: unknown }).closeCode;
  if (typeof code !== "number" || !Number.isInteger(code)) return undefined;
  return sendableCloseCode(code) ? code : undefined;
}

/** `text` as UTF-8, cut to at most 123 bytes (all a close frame has room for) at a character. */
export function closeReasonBytes(text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  if (bytes.byteLength <= 123) return bytes;
  let end = 123; // cut before a character's continuation bytes, so it stays valid UTF-8
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

/** A close reason from an error: at most 123 UTF-8 bytes, as the protocol allows. */
export function closeReason(error: unknown): string {
  return new TextDecoder().decode(closeReasonBytes(describeError(error)));
}
