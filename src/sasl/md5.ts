/**
 * MD5 (RFC 1321) and HMAC-MD5 (RFC 2104) in plain TypeScript.
 *
 * Spark's SASL (DIGEST-MD5, RFC 2831) is built on both, and WebCrypto offers neither, so Ferry
 * carries its own: no dependency, the same code in Node, Deno and browsers, checked against the
 * RFC test vectors and the JDK's intermediate values recorded from a live Spark pair
 * (`test/unit/sasl-primitives.test.ts`). MD5 is used here only because the peer's protocol
 * demands it; nothing else in Ferry relies on it.
 *
 * @module
 */

/** Per-round left rotations. */
const SHIFTS = [
  7,
  12,
  17,
  22,
  7,
  12,
  17,
  22,
  7,
  12,
  17,
  22,
  7,
  12,
  17,
  22,
  5,
  9,
  14,
  20,
  5,
  9,
  14,
  20,
  5,
  9,
  14,
  20,
  5,
  9,
  14,
  20,
  4,
  11,
  16,
  23,
  4,
  11,
  16,
  23,
  4,
  11,
  16,
  23,
  4,
  11,
  16,
  23,
  6,
  10,
  15,
  21,
  6,
  10,
  15,
  21,
  6,
  10,
  15,
  21,
  6,
  10,
  15,
  21,
];

/** floor(abs(sin(i + 1)) * 2^32), as RFC 1321 defines the table T. */
const T = Uint32Array.from(
  { length: 64 },
  (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 0x100000000) >>> 0,
);

/** An incremental MD5: `update` any number of times, then `digest` once. */
export class Md5 {
  readonly #state = new Uint32Array([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476]);
  readonly #block = new Uint8Array(64);
  readonly #words = new Uint32Array(16);
  #blockLength = 0;
  #total = 0;
  #done = false;

  /** Feeds `data`; returns this for chaining. */
  update(data: Uint8Array | string): this {
    if (this.#done) throw new Error("Md5.update after digest");
    const bytes = typeof data === "string" ? utf8.encode(data) : data;
    this.#total += bytes.byteLength;
    let offset = 0;
    if (this.#blockLength > 0) {
      const take = Math.min(64 - this.#blockLength, bytes.byteLength);
      this.#block.set(bytes.subarray(0, take), this.#blockLength);
      this.#blockLength += take;
      offset = take;
      if (this.#blockLength < 64) return this;
      this.#compress(this.#block, 0);
      this.#blockLength = 0;
    }
    for (; offset + 64 <= bytes.byteLength; offset += 64) this.#compress(bytes, offset);
    if (offset < bytes.byteLength) {
      this.#block.set(bytes.subarray(offset), 0);
      this.#blockLength = bytes.byteLength - offset;
    }
    return this;
  }

  /** The 16-byte digest. The hash cannot be updated afterwards. */
  digest(): Uint8Array {
    const bitLength = this.#total * 8;
    const tail = new Uint8Array(
      this.#blockLength < 56 ? 64 - this.#blockLength : 128 - this.#blockLength,
    );
    tail[0] = 0x80;
    const view = new DataView(tail.buffer);
    view.setUint32(tail.byteLength - 8, bitLength >>> 0, true);
    view.setUint32(tail.byteLength - 4, Math.floor(bitLength / 0x100000000), true);
    const total = this.#total;
    this.update(tail);
    this.#total = total;
    this.#done = true;
    const out = new Uint8Array(16);
    const outView = new DataView(out.buffer);
    for (let i = 0; i < 4; i++) outView.setUint32(i * 4, this.#state[i]!, true);
    return out;
  }

  #compress(bytes: Uint8Array, offset: number): void {
    const x = this.#words;
    for (let i = 0; i < 16; i++) {
      const p = offset + i * 4;
      x[i] = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24);
    }
    const s = this.#state;
    let a = s[0]!, b = s[1]!, c = s[2]!, d = s[3]!;
    for (let i = 0; i < 64; i++) {
      let f: number, g: number;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) & 15;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) & 15;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) & 15;
      }
      const sum = (a + f + T[i]! + x[g]!) | 0;
      const shift = SHIFTS[i]!;
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << shift) | (sum >>> (32 - shift)))) | 0;
    }
    s[0] = s[0]! + a;
    s[1] = s[1]! + b;
    s[2] = s[2]! + c;
    s[3] = s[3]! + d;
  }
}

const utf8 = new TextEncoder();

/** MD5 of the concatenation of `parts` (strings as UTF-8). */
export function md5(...parts: (Uint8Array | string)[]): Uint8Array {
  const hash = new Md5();
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** HMAC-MD5 (RFC 2104) of the concatenation of `parts` under `key`. */
export function hmacMd5(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const block = new Uint8Array(64);
  block.set(key.byteLength > 64 ? md5(key) : key);
  const inner = new Md5().update(block.map((b) => b ^ 0x36));
  for (const part of parts) inner.update(part);
  const innerDigest = inner.digest();
  return new Md5().update(block.map((b) => b ^ 0x5c)).update(innerDigest).digest();
}

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}
