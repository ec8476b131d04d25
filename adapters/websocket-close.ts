/**
 * What a WebSocket is closed with when Ferry ends it because of an error: the code (one the error
 * carries, e.g. a gateway refusal, else {@linkcode resetCloseCode}) and a reason the protocol
 * accepts.
 *
 * @module
 */

import { describeError } from "../src/errors.ts";

/** Close code Ferry sends for `close(error)` where the socket cannot be terminated. */
export const resetCloseCode = 4000;

/**
 * The close code an error asks for (`error.closeCode`), when it is one an endpoint may send: 1000,
 * 1001, 1002, 1003, 1007–1014, or 3000–4999. Anything else is ignored (the socket terminates).
 */
export function carriedCloseCode(error: unknown): number | undefined {
  if (error === null || typeof error !== "object") return undefined;
  const code = (error as { closeCode?: unknown }).closeCode;
  if (typeof code !== "number" || !Number.isInteger(code)) return undefined;
  const sendable = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999);
  return sendable ? code : undefined;
}

/** A close reason from an error: at most 123 UTF-8 bytes, as the protocol allows. */
export function closeReason(error: unknown): string {
  let reason = describeError(error);
  const encoder = new TextEncoder();
  while (encoder.encode(reason).byteLength > 123) reason = reason.slice(0, -1);
  return reason;
}
