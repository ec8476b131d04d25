/**
 * The client side of RFC 6455 framing, writing: a pure encoder of masked frames (clients must mask
 * every frame, §5.3). Each frame is one fresh buffer, header then masked payload; the caller's
 * payload is never touched. Mask keys come from {@linkcode MaskKeys}, which draws them from the
 * platform's CSPRNG a few KiB at a time rather than one call per frame.
 *
 * @module
 */

import { closeReasonBytes } from "./close-codes.ts";
import { Opcode } from "./frame-parser.ts";

/** Random bytes drawn per refill: 1024 mask keys. */
const POOL_BYTES = 4096;
/** Room before the payload: the longest client header (2 + 8 length + 4 mask), 4-aligned. */
const HEAD_ROOM = 16;

/** Masking keys from `crypto.getRandomValues`, drawn in batches. */
export class MaskKeys {
  #pool = new Uint8Array(POOL_BYTES);
  #used = POOL_BYTES;

  /** The next 4-byte key, as a view into the pool (copy it before the next call). */
  next(): Uint8Array {
    if (this.#used === POOL_BYTES) {
      crypto.getRandomValues(this.#pool);
      this.#used = 0;
    }
    const key = this.#pool.subarray(this.#used, this.#used + 4);
    this.#used += 4;
    return key;
  }
}

/**
 * One masked client frame with FIN set: `opcode`, then `payload` masked with a key from `keys`.
 * The payload starts 4-byte aligned in the returned buffer, so large payloads mask a word at a time.
 */
export function encodeClientFrame(
  opcode: number,
  payload: Uint8Array,
  keys: MaskKeys,
): Uint8Array {
  const length = payload.byteLength;
  const lengthBytes = length < 126 ? 0 : length < 0x1_0000 ? 2 : 8;
  const headerSize = 2 + lengthBytes + 4;
  const buffer = new Uint8Array(HEAD_ROOM + length);
  const frame = buffer.subarray(HEAD_ROOM - headerSize);
  frame[0] = 0x80 | opcode;
  if (lengthBytes === 0) {
    frame[1] = 0x80 | length;
  } else if (lengthBytes === 2) {
    frame[1] = 0x80 | 126;
    frame[2] = length >>> 8;
    frame[3] = length & 0xff;
  } else {
    frame[1] = 0x80 | 127;
    const high = Math.floor(length / 0x1_0000_0000);
    new DataView(buffer.buffer, buffer.byteOffset + HEAD_ROOM - 12, 8).setUint32(0, high);
    new DataView(buffer.buffer, buffer.byteOffset + HEAD_ROOM - 8, 4).setUint32(0, length >>> 0);
  }
  const key = keys.next();
  buffer.set(key, HEAD_ROOM - 4);
  mask(payload, buffer, HEAD_ROOM, HEAD_ROOM - 4);
  return frame;
}

/** A close frame's payload: the code (big-endian) and a UTF-8 reason of at most 123 bytes. */
export function closePayload(code: number, reason = ""): Uint8Array {
  const text = closeReasonBytes(reason);
  const payload = new Uint8Array(2 + text.byteLength);
  payload[0] = code >>> 8;
  payload[1] = code & 0xff;
  payload.set(text, 2);
  return payload;
}

/** A binary frame for `payload`. */
export function encodeBinaryFrame(payload: Uint8Array, keys: MaskKeys): Uint8Array {
  return encodeClientFrame(Opcode.binary, payload, keys);
}

/**
 * Writes `source` XOR the 4-byte key at `out[keyAt]` into `out` from `at` (4-aligned in its
 * buffer). Word-wise where `source` is 4-aligned too, byte-wise for the rest.
 */
function mask(source: Uint8Array, out: Uint8Array, at: number, keyAt: number): void {
  const length = source.byteLength;
  let i = 0;
  if (length >= 64 && (source.byteOffset & 3) === 0 && ((out.byteOffset + at) & 3) === 0) {
    const words = length >>> 2;
    const from = new Uint32Array(source.buffer, source.byteOffset, words);
    const to = new Uint32Array(out.buffer, out.byteOffset + at, words);
    const key = new Uint32Array(
      out.buffer.slice(out.byteOffset + keyAt, out.byteOffset + keyAt + 4),
    )[0]!;
    for (let w = 0; w < words; w++) to[w] = from[w]! ^ key;
    i = words << 2;
  }
  const k0 = out[keyAt]!, k1 = out[keyAt + 1]!, k2 = out[keyAt + 2]!, k3 = out[keyAt + 3]!;
  for (; i < length; i++) {
    const k = (i & 3) === 0 ? k0 : (i & 3) === 1 ? k1 : (i & 3) === 2 ? k2 : k3;
    out[at + i] = source[i]! ^ k;
  }
}
