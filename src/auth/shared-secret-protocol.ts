/**
 * Ferry's shared-secret authentication: a mutual HMAC-SHA-256 challenge–response over WebCrypto,
 * carried in control bodies of ordinary RpcRequests (see `src/protocol/ferry-control.ts`), so it
 * works through any Spark-compatible transport and a plain Spark peer simply refuses it.
 *
 * ```
 * client → server  RpcRequest  AuthHello      version(1) · principal(u16 len + UTF-8) · cNonce(32)
 * server → client  RpcResponse AuthChallenge  sNonce(32) · serverProof(32)
 * client → server  RpcRequest  AuthProof      clientProof(32)
 * server → client  RpcResponse AuthOk
 *
 * serverProof = HMAC(secret, "ferry-auth-v1 server" · 0x00 · principal(u16 len + UTF-8) · cNonce · sNonce)
 * clientProof = HMAC(secret, "ferry-auth-v1 client" · 0x00 · principal(u16 len + UTF-8) · cNonce · sNonce)
 * ```
 *
 * Both sides contribute a fresh 32-byte nonce, so no proof can be replayed on another connection;
 * the two labels keep a server's proof from being reflected back as a client's. The server proves
 * itself first, so a client never sends a proof to an impostor. Proofs are checked with
 * `crypto.subtle.verify` (constant time). The secret itself never crosses the wire.
 *
 * @module
 */

import { AuthError, InvalidArgumentError } from "../errors.ts";

/** Protocol version carried in the hello. */
export const AUTH_VERSION = 1;
/** Bytes in each nonce and each proof. */
export const NONCE_LENGTH = 32;
export const PROOF_LENGTH = 32;
/** Shortest accepted secret (128 bits). */
export const MIN_SECRET_LENGTH = 16;
/** Longest principal name, in UTF-8 bytes. */
export const MAX_PRINCIPAL_LENGTH = 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const SERVER_LABEL = encoder.encode("ferry-auth-v1 server\0");
const CLIENT_LABEL = encoder.encode("ferry-auth-v1 client\0");

/** A shared secret: raw bytes, or a string used as its UTF-8 bytes. */
export type SharedSecret = Uint8Array | string;

/** Imports a secret as an HMAC-SHA-256 key; throws `InvalidArgumentError` if too short. */
export function importSecret(secret: SharedSecret, where: string): Promise<CryptoKey> {
  const bytes = typeof secret === "string" ? encoder.encode(secret) : secret;
  if (!(bytes instanceof Uint8Array) || bytes.byteLength < MIN_SECRET_LENGTH) {
    throw new InvalidArgumentError(
      `${where}: the shared secret must be at least ${MIN_SECRET_LENGTH} bytes, received ${
        bytes instanceof Uint8Array ? `${bytes.byteLength} bytes` : typeof secret
      }`,
    );
  }
  return crypto.subtle.importKey(
    "raw",
    bytes.slice(),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
}

/** A principal's UTF-8 bytes; throws `InvalidArgumentError` when empty or too long. */
export function encodePrincipal(principal: string, where: string): Uint8Array {
  if (typeof principal !== "string" || principal.length === 0) {
    throw new InvalidArgumentError(
      `${where}: principal must be a non-empty string, received ${JSON.stringify(principal)}`,
    );
  }
  const bytes = encoder.encode(principal);
  if (bytes.byteLength > MAX_PRINCIPAL_LENGTH) {
    throw new InvalidArgumentError(
      `${where}: principal must be at most ${MAX_PRINCIPAL_LENGTH} UTF-8 bytes, received ${bytes.byteLength}`,
    );
  }
  return bytes;
}

/** A fresh random nonce. */
export function newNonce(): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(NONCE_LENGTH));
}

/** The fields of an AuthHello. */
export function encodeHello(principal: Uint8Array, clientNonce: Uint8Array): Uint8Array {
  const fields = new Uint8Array(1 + 2 + principal.byteLength + NONCE_LENGTH);
  fields[0] = AUTH_VERSION;
  new DataView(fields.buffer).setUint16(1, principal.byteLength);
  fields.set(principal, 3);
  fields.set(clientNonce, 3 + principal.byteLength);
  return fields;
}

/** A decoded AuthHello. */
export interface Hello {
  readonly principal: string;
  readonly principalBytes: Uint8Array;
  readonly clientNonce: Uint8Array;
}

/** Parses AuthHello fields; throws `AuthError` saying what was wrong. */
export function decodeHello(fields: Uint8Array): Hello {
  if (fields.byteLength < 3) {
    throw new AuthError(`Malformed auth hello: ${fields.byteLength} bytes, need at least 3`);
  }
  if (fields[0] !== AUTH_VERSION) {
    throw new AuthError(
      `Unsupported auth version ${fields[0]} in the hello (this server speaks ${AUTH_VERSION})`,
    );
  }
  const length = new DataView(fields.buffer, fields.byteOffset, fields.byteLength).getUint16(1);
  if (fields.byteLength !== 3 + length + NONCE_LENGTH || length === 0) {
    throw new AuthError(
      `Malformed auth hello: principal length ${length} does not fit ${fields.byteLength} bytes`,
    );
  }
  const principalBytes = fields.slice(3, 3 + length);
  let principal: string;
  try {
    principal = decoder.decode(principalBytes);
  } catch (error) {
    throw new AuthError("Malformed auth hello: the principal is not valid UTF-8", {
      cause: error,
    });
  }
  return { principal, principalBytes, clientNonce: fields.slice(3 + length) };
}

function transcript(
  label: Uint8Array,
  principal: Uint8Array,
  clientNonce: Uint8Array,
  serverNonce: Uint8Array,
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(label.byteLength + 2 + principal.byteLength + 2 * NONCE_LENGTH);
  out.set(label, 0);
  let offset = label.byteLength;
  new DataView(out.buffer).setUint16(offset, principal.byteLength);
  offset += 2;
  out.set(principal, offset);
  offset += principal.byteLength;
  out.set(clientNonce, offset);
  out.set(serverNonce, offset + NONCE_LENGTH);
  return out;
}

/** Which side a proof is for. */
export type ProofSide = "server" | "client";

/** Computes a proof. */
export async function sign(
  key: CryptoKey,
  side: ProofSide,
  principal: Uint8Array,
  clientNonce: Uint8Array,
  serverNonce: Uint8Array,
): Promise<Uint8Array> {
  const data = transcript(
    side === "server" ? SERVER_LABEL : CLIENT_LABEL,
    principal,
    clientNonce,
    serverNonce,
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, data));
}

/** Checks a proof in constant time. */
export function verify(
  key: CryptoKey,
  side: ProofSide,
  proof: Uint8Array,
  principal: Uint8Array,
  clientNonce: Uint8Array,
  serverNonce: Uint8Array,
): Promise<boolean> {
  if (proof.byteLength !== PROOF_LENGTH) return Promise.resolve(false);
  const data = transcript(
    side === "server" ? SERVER_LABEL : CLIENT_LABEL,
    principal,
    clientNonce,
    serverNonce,
  );
  return crypto.subtle.verify("HMAC", key, proof.slice(), data);
}
