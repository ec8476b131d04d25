/**
 * Incremental SHA-256 (FIPS 180-4) in plain TypeScript, for every runtime: WebCrypto's
 * `crypto.subtle.digest` needs the whole input at once, so a download that verifies its file while
 * it streams (without holding it) hashes with this.
 *
 * ```ts
 * const hash = new Sha256();
 * for await (const chunk of chunks) hash.update(chunk);
 * const hex = hash.hexDigest();
 * ```
 *
 * Hot path: `update` compresses whole 64-byte blocks straight from the caller's bytes (no copy); only a partial block is buffered. No allocation per block.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

const K = Uint32Array.of(
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
);

const INITIAL = Uint32Array.of(
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
);

/**
 * An incremental SHA-256. `digest` finishes it; create a new one for the next input.
 *
 * @example
 * ```ts
 * import { Sha256 } from "ferry-transport/files";
 *
 * // Incremental: feed a file's chunks as they arrive, in order.
 * const hash = new Sha256();
 * for (const chunk of [new Uint8Array([1, 2]), new Uint8Array([3])]) hash.update(chunk);
 * console.log(hash.hexDigest());
 * ```
 */
export class Sha256 {
  readonly #state = INITIAL.slice();
  readonly #w = new Uint32Array(64);
  readonly #block = new Uint8Array(64);
  #blockLength = 0;
  /** Bytes hashed so far (exact up to 2^53). */
  #length = 0;
  #finished = false;

  /** Bytes fed so far. */
  get byteLength(): number {
    return this.#length;
  }

  /** Feeds `bytes`. Returns `this`. @throws InvalidArgumentError after `digest`. */
  update(bytes: Uint8Array): this {
    if (this.#finished) {
      throw new InvalidArgumentError("Sha256.update: the hash was already finished by digest()");
    }
    if (!(bytes instanceof Uint8Array)) {
      throw new InvalidArgumentError(`Sha256.update: expected a Uint8Array, got ${typeof bytes}`);
    }
    let offset = 0;
    const length = bytes.byteLength;
    this.#length += length;
    if (this.#blockLength > 0) {
      const take = Math.min(64 - this.#blockLength, length);
      this.#block.set(bytes.subarray(0, take), this.#blockLength);
      this.#blockLength += take;
      offset = take;
      if (this.#blockLength < 64) return this;
      this.#compress(this.#block, 0);
      this.#blockLength = 0;
    }
    const whole = offset + ((length - offset) & ~63);
    for (; offset < whole; offset += 64) this.#compress(bytes, offset);
    if (offset < length) {
      this.#block.set(bytes.subarray(offset), 0);
      this.#blockLength = length - offset;
    }
    return this;
  }

  /** Finishes the hash and returns the 32-byte digest. */
  digest(): Uint8Array {
    if (this.#finished) {
      throw new InvalidArgumentError("Sha256.digest: the hash was already finished");
    }
    this.#finished = true;
    const block = this.#block;
    const bitsHigh = Math.floor(this.#length / 0x2000_0000);
    const bitsLow = (this.#length * 8) >>> 0;
    block[this.#blockLength++] = 0x80;
    if (this.#blockLength > 56) {
      block.fill(0, this.#blockLength);
      this.#compress(block, 0);
      this.#blockLength = 0;
    }
    block.fill(0, this.#blockLength, 56);
    const tail = new DataView(block.buffer);
    tail.setUint32(56, bitsHigh);
    tail.setUint32(60, bitsLow);
    this.#compress(block, 0);
    const out = new Uint8Array(32);
    const view = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) view.setUint32(i * 4, this.#state[i]!);
    return out;
  }

  /** Finishes the hash and returns the digest as 64 lowercase hex digits. */
  hexDigest(): string {
    return toHex(this.digest());
  }

  #compress(bytes: Uint8Array, offset: number): void {
    const w = this.#w;
    const s = this.#state;
    for (let i = 0, o = offset; i < 16; i++, o += 4) {
      w[i] = (bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!;
    }
    for (let i = 16; i < 64; i++) {
      const w15 = w[i - 15]!;
      const w2 = w[i - 2]!;
      const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
      const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
    }
    let a = s[0]!, b = s[1]!, c = s[2]!, d = s[3]!, e = s[4]!, f = s[5]!, g = s[6]!, h = s[7]!;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (h + S1 + ch + K[i]! + w[i]!) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    s[0] = s[0]! + a;
    s[1] = s[1]! + b;
    s[2] = s[2]! + c;
    s[3] = s[3]! + d;
    s[4] = s[4]! + e;
    s[5] = s[5]! + f;
    s[6] = s[6]! + g;
    s[7] = s[7]! + h;
  }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/**
 * Lowercase hex of `bytes`.
 *
 * @example
 * ```ts
 * import { toHex } from "ferry-transport/files";
 *
 * console.log(toHex(new Uint8Array([0, 15, 255]))); // "000fff"
 * ```
 */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.byteLength; i++) out += HEX[bytes[i]!];
  return out;
}
