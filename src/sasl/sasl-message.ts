/**
 * Spark's `SaslMessage`: how each SASL client token rides in the body of an ordinary RpcRequest
 * (the server's token comes back as the whole body of the RpcResponse).
 *
 * ```
 * 0xEA (tag) · i32 BE appId length · appId (UTF-8) · i32 BE token length · token
 * ```
 *
 * @module
 */

import { AuthError } from "../errors.ts";

/** The tag byte that starts every SaslMessage. */
export const SASL_MESSAGE_TAG = 0xea;
/** Longest appId accepted from a peer, in UTF-8 bytes. */
export const MAX_APP_ID_LENGTH = 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** A decoded SaslMessage. */
export interface SaslMessage {
  readonly appId: string;
  readonly token: Uint8Array;
}

/** Encodes a SaslMessage body. */
export function encodeSaslMessage(appId: string, token: Uint8Array): Uint8Array {
  const id = encoder.encode(appId);
  const out = new Uint8Array(1 + 4 + id.byteLength + 4 + token.byteLength);
  const view = new DataView(out.buffer);
  out[0] = SASL_MESSAGE_TAG;
  view.setInt32(1, id.byteLength);
  out.set(id, 5);
  view.setInt32(5 + id.byteLength, token.byteLength);
  out.set(token, 9 + id.byteLength);
  return out;
}

/** Whether `body` starts like a SaslMessage (the tag byte). */
export function isSaslMessage(body: Uint8Array): boolean {
  return body.byteLength > 0 && body[0] === SASL_MESSAGE_TAG;
}

/** Decodes a SaslMessage body; throws `AuthError` saying what is malformed. */
export function decodeSaslMessage(body: Uint8Array): SaslMessage {
  const fail = (why: string): never => {
    throw new AuthError(`Malformed SaslMessage (${body.byteLength} bytes): ${why}`);
  };
  if (!isSaslMessage(body)) {
    fail(`the first byte is not the tag 0x${SASL_MESSAGE_TAG.toString(16)}`);
  }
  if (body.byteLength < 9) fail("shorter than its two length fields");
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const idLength = view.getInt32(1);
  if (idLength < 0 || idLength > MAX_APP_ID_LENGTH || 9 + idLength > body.byteLength) {
    fail(`appId length ${idLength} does not fit (at most ${MAX_APP_ID_LENGTH})`);
  }
  const tokenLength = view.getInt32(5 + idLength);
  if (tokenLength !== body.byteLength - 9 - idLength) {
    fail(`token length ${tokenLength}, but ${body.byteLength - 9 - idLength} bytes follow`);
  }
  let appId = "";
  try {
    appId = decoder.decode(body.subarray(5, 5 + idLength));
  } catch (error) {
    throw new AuthError("Malformed SaslMessage: the appId is not valid UTF-8", { cause: error });
  }
  return { appId, token: body.slice(9 + idLength) };
}
