/**
 * DIGEST-MD5's security layer for qop `auth-conf` with the `3des` cipher, as the JDK implements
 * it (RFC 2831 §2.4 and `com.sun.security.sasl.digest.DigestMD5Base`): the per-direction keys,
 * and wrap / unwrap of one message.
 *
 * ```
 * Kc = MD5(H(A1) ‖ "Digest H(A1) to <dir> sealing key magic constant")   (16 bytes for 3des)
 * Ki = MD5(H(A1) ‖ "Digest session key to <dir> signing key magic constant")
 * 3DES key = k1 ‖ k2 ‖ k1 with k1, k2 = Kc[0..7], Kc[7..14] spread to 8 bytes (odd parity)
 * IV = Kc[8..16]
 * wrap(msg) = 3DES-CBC(msg ‖ pad ‖ HMAC-MD5(Ki, seq ‖ msg)[0..10]) ‖ 00 01 ‖ seq
 * ```
 *
 * `seq` is a u32 counter per direction from 0; `pad` is 1..8 bytes each equal to the pad length;
 * the CBC state carries from one message to the next. The client seals with the client-to-server
 * keys, the server with the server-to-client ones.
 *
 * @module
 */

import { AuthError } from "../errors.ts";
import { HmacMd5, md5 } from "./md5.ts";
import { TripleDesCbc } from "./triple-des.ts";

/** A wrapped message's overhead beyond the padded plaintext: 10-byte MAC, type and seq. */
const MAC_LENGTH = 10;
const TRAILER_LENGTH = 6;

/**
 * Raised when a wrapped message fails its checks; the connection it came on must close.
 *
 * @example
 * ```ts
 * import { AuthError } from "ferry-transport";
 * import { SaslIntegrityError } from "ferry-transport/sasl";
 *
 * const error = new SaslIntegrityError("a wrapped message failed its MAC check");
 * console.log(error instanceof AuthError); // true: the connection is closed
 * ```
 */
export class SaslIntegrityError extends AuthError {}

/** Which side this layer is. */
export type SaslSide = "client" | "server";

/** The four keys of one session, for tests and diagnostics. */
export interface SaslKeys {
  readonly kcc: Uint8Array;
  readonly kcs: Uint8Array;
  readonly kic: Uint8Array;
  readonly kis: Uint8Array;
}

/** Derives the sealing (Kc*) and signing (Ki*) keys from the raw H(A1). */
export function deriveKeys(ha1: Uint8Array): SaslKeys {
  return {
    kcc: md5(ha1, "Digest H(A1) to client-to-server sealing key magic constant"),
    kcs: md5(ha1, "Digest H(A1) to server-to-client sealing key magic constant"),
    kic: md5(ha1, "Digest session key to client-to-server signing key magic constant"),
    kis: md5(ha1, "Digest session key to server-to-client signing key magic constant"),
  };
}

/** 7 key bytes → 8 DES key bytes: 7-bit groups in the top bits, bit 0 for odd parity. */
function spreadDesKey(seven: Uint8Array): Uint8Array {
  const out = new Uint8Array(8);
  let bits = 0n;
  for (const byte of seven) bits = (bits << 8n) | BigInt(byte);
  for (let i = 0; i < 8; i++) {
    const group = Number((bits >> BigInt(49 - 7 * i)) & 0x7fn);
    let ones = 0;
    for (let b = group; b !== 0; b >>= 1) ones += b & 1;
    out[i] = (group << 1) | (ones % 2 === 0 ? 1 : 0);
  }
  return out;
}

/** The 24-byte 3DES key (k1 ‖ k2 ‖ k1) and the IV that a 16-byte Kc yields. */
export function tripleDesKey(kc: Uint8Array): { key: Uint8Array; iv: Uint8Array } {
  const k1 = spreadDesKey(kc.subarray(0, 7));
  const k2 = spreadDesKey(kc.subarray(7, 14));
  const key = new Uint8Array(24);
  key.set(k1, 0);
  key.set(k2, 8);
  key.set(k1, 16);
  return { key, iv: kc.slice(8, 16) };
}

/** One direction-aware security layer: wraps what this side sends, unwraps what it receives. */
export class SaslCipher {
  readonly #encrypt: TripleDesCbc;
  readonly #decrypt: TripleDesCbc;
  readonly #sendMac: HmacMd5;
  readonly #receiveMac: HmacMd5;
  readonly #seq = new Uint8Array(4);
  #sendSeq = 0;
  #receiveSeq = 0;

  constructor(ha1: Uint8Array, side: SaslSide) {
    const keys = deriveKeys(ha1);
    const client = side === "client";
    const sealOut = tripleDesKey(client ? keys.kcc : keys.kcs);
    const sealIn = tripleDesKey(client ? keys.kcs : keys.kcc);
    this.#encrypt = new TripleDesCbc(sealOut.key, sealOut.iv, "encrypt");
    this.#decrypt = new TripleDesCbc(sealIn.key, sealIn.iv, "decrypt");
    this.#sendMac = new HmacMd5(client ? keys.kic : keys.kis);
    this.#receiveMac = new HmacMd5(client ? keys.kis : keys.kic);
  }

  /** The wrapped length of a `length`-byte message. */
  static wrappedLength(length: number): number {
    return length + (8 - ((length + MAC_LENGTH) % 8)) + MAC_LENGTH + TRAILER_LENGTH;
  }

  /** Wraps `message` into `out` at `offset` (which must have `wrappedLength` bytes free). */
  wrap(message: Uint8Array, out: Uint8Array, offset: number): void {
    const seq = this.#seq, n = this.#sendSeq;
    seq[0] = n >>> 24;
    seq[1] = n >>> 16;
    seq[2] = n >>> 8;
    seq[3] = n;
    const mac = this.#sendMac.mac(seq, message);
    const pad = 8 - ((message.byteLength + MAC_LENGTH) % 8);
    const sealedLength = message.byteLength + pad + MAC_LENGTH;
    const sealed = out.subarray(offset, offset + sealedLength);
    sealed.set(message, 0);
    sealed.fill(pad, message.byteLength, message.byteLength + pad);
    sealed.set(mac.subarray(0, MAC_LENGTH), message.byteLength + pad);
    this.#encrypt.update(sealed, sealed);
    out[offset + sealedLength] = 0;
    out[offset + sealedLength + 1] = 1;
    out.set(seq, offset + sealedLength + 2);
    this.#sendSeq = (this.#sendSeq + 1) >>> 0;
  }

  /**
   * Unwraps one received message (overwriting `wrapped` with plaintext). Throws
   * `SaslIntegrityError` for a bad length, type, sequence number, padding or MAC — unlike the
   * JDK, which silently drops a block with a bad MAC: here the connection is closed instead.
   */
  unwrap(wrapped: Uint8Array): Uint8Array {
    const sealedLength = wrapped.byteLength - TRAILER_LENGTH;
    if (sealedLength < 16 || sealedLength % 8 !== 0) {
      throw new SaslIntegrityError(
        `SASL unwrap failed: a wrapped block of ${wrapped.byteLength} bytes is not 6 + a multiple of 8 (≥ 16)`,
      );
    }
    const view = new DataView(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength);
    const type = view.getUint16(sealedLength);
    const seq = view.getUint32(sealedLength + 2);
    if (type !== 1) {
      throw new SaslIntegrityError(`SASL unwrap failed: message type ${type}, expected 1`);
    }
    if (seq !== this.#receiveSeq) {
      throw new SaslIntegrityError(
        `SASL unwrap failed: sequence number ${seq}, expected ${this.#receiveSeq}`,
      );
    }
    const sealed = wrapped.subarray(0, sealedLength);
    this.#decrypt.update(sealed, sealed);
    const pad = sealed[sealedLength - MAC_LENGTH - 1]!;
    const length = sealedLength - MAC_LENGTH - pad;
    let padOk = pad >= 1 && pad <= 8 && length >= 0;
    for (let i = length; padOk && i < length + pad; i++) padOk = sealed[i] === pad;
    if (!padOk) {
      throw new SaslIntegrityError(`SASL unwrap failed: bad padding (seq ${seq})`);
    }
    const message = sealed.subarray(0, length);
    const mac = this.#receiveMac.mac(wrapped.subarray(sealedLength + 2), message);
    let diff = 0;
    for (let i = 0; i < MAC_LENGTH; i++) diff |= mac[i]! ^ sealed[length + pad + i]!;
    if (diff !== 0) {
      throw new SaslIntegrityError(`SASL unwrap failed: the MAC does not match (seq ${seq})`);
    }
    this.#receiveSeq = (this.#receiveSeq + 1) >>> 0;
    return message;
  }
}
