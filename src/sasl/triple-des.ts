/**
 * DES and 3DES (DES-EDE3, FIPS 46-3 / SP 800-67) in CBC mode, in plain TypeScript.
 *
 * Spark's SASL encryption (qop `auth-conf`) is negotiated by the JDK as DIGEST-MD5's `3des`
 * cipher: DES-EDE3-CBC with a CBC state that carries on from one wrapped message to the next.
 * WebCrypto has no DES at all, so Ferry carries this small implementation: one code path in Node,
 * Deno and browsers, checked against NIST's DES vectors, OpenSSL's `des-ede3-cbc` and the blocks
 * recorded from a live Spark pair. The tables are the standard's; the round function uses the
 * usual combined S-box/P tables, computed once at load.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";

// deno-fmt-ignore
const PC1 = [
  57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19, 11, 3,
  60, 52, 44, 36, 63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22, 14, 6, 61, 53, 45, 37,
  29, 21, 13, 5, 28, 20, 12, 4,
];
// deno-fmt-ignore
const PC2 = [
  14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
  41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
];
const ROTATIONS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];
// deno-fmt-ignore
const P = [
  16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10,
  2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25,
];
// deno-fmt-ignore
const S = [
  [14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7, 0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
   4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0, 15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13],
  [15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10, 3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
   0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15, 13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9],
  [10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8, 13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
   13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7, 1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12],
  [7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15, 13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
   10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4, 3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14],
  [2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9, 14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
   4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14, 11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3],
  [12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11, 10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
   9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6, 4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13],
  [4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1, 13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
   1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2, 6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12],
  [13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7, 1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
   7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8, 2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11],
];

/**
 * SP[box][six bits] = P(S_box(six bits) placed at the box's four output bits), rotated right by
 * one bit: the rounds keep both halves rotated that way (see `cbc`), which saves a rotation per
 * round. All eight boxes in one table, 64 entries apart.
 */
const SP = new Int32Array(512);
S.forEach((box, index) => {
  for (let v = 0; v < 64; v++) {
    const row = ((v >> 4) & 2) | (v & 1);
    const column = (v >> 1) & 15;
    const placed = box[row * 16 + column]! << (28 - 4 * index);
    let out = 0;
    for (let i = 0; i < 32; i++) {
      if ((placed >>> (32 - P[i]!)) & 1) out |= 1 << (31 - i);
    }
    SP[index * 64 + v] = (out >>> 1) | (out << 31);
  }
});

/**
 * The 16 round keys of one DES key, two words per round: the even 6-bit groups (0, 2, 4, 6) at
 * bit offsets 26, 18, 10, 2 of the first word and the odd ones (1, 3, 5, 7) likewise in the
 * second, matching how `cbc` cuts the expansion E(r) out of two rotations of r.
 */
function roundKeys(key: Uint8Array, offset: number): Int32Array {
  const bit = (n: number) => (key[offset + ((n - 1) >> 3)]! >> (7 - ((n - 1) & 7))) & 1;
  const c = PC1.slice(0, 28).map(bit);
  const d = PC1.slice(28).map(bit);
  const out = new Int32Array(32);
  for (let round = 0; round < 16; round++) {
    for (let r = 0; r < ROTATIONS[round]!; r++) {
      c.push(c.shift()!);
      d.push(d.shift()!);
    }
    const cd = c.concat(d);
    for (let group = 0; group < 8; group++) {
      let six = 0;
      for (let j = 0; j < 6; j++) six = (six << 1) | cd[PC2[group * 6 + j]! - 1]!;
      const word = round * 2 + (group & 1);
      out[word] = out[word]! | (six << (26 - 8 * (group >> 1)));
    }
  }
  return out;
}

/** The same keys in reverse round order (decryption). */
function reversed(keys: Int32Array): Int32Array {
  const out = new Int32Array(32);
  for (let round = 0; round < 16; round++) {
    out[round * 2] = keys[30 - round * 2]!;
    out[round * 2 + 1] = keys[31 - round * 2]!;
  }
  return out;
}

/**
 * The 96-word schedule of one EDE direction: E(k1), D(k2), E(k3) to encrypt; D(k3), E(k2), D(k1)
 * to decrypt. A key of 8 bytes is single DES (k1 = k2 = k3).
 */
function schedule(key: Uint8Array, direction: "encrypt" | "decrypt"): Int32Array {
  if (key.byteLength !== 24 && key.byteLength !== 8) {
    throw new InvalidArgumentError(
      `A 3DES key is 24 bytes (or 8 for single DES), got ${key.byteLength}`,
    );
  }
  const k1 = roundKeys(key, 0);
  const k2 = key.byteLength === 8 ? k1 : roundKeys(key, 8);
  const k3 = key.byteLength === 8 ? k1 : roundKeys(key, 16);
  const out = new Int32Array(96);
  if (direction === "encrypt") {
    out.set(k1, 0);
    out.set(reversed(k2), 32);
    out.set(k3, 64);
  } else {
    out.set(reversed(k3), 0);
    out.set(k2, 32);
    out.set(reversed(k1), 64);
  }
  return out;
}

/**
 * 3DES-CBC over `data[0..length)` into `out` (may be `data`), the chaining words in `chain`
 * updated. One function with every value in a local: per 8-byte block it allocates nothing and
 * calls nothing. IP and FP are the usual five masked bit swaps (the layout of Outerbridge's
 * d3des), and between the three DES stages they cancel out, so each block pays them once.
 */
function cbc(
  data: Uint8Array,
  out: Uint8Array,
  length: number,
  keys: Int32Array,
  chain: Int32Array,
  decrypt: boolean,
): void {
  // A local, not the module binding: loaded as an ES module (Node 20), reading SP through the
  // module binding in the loop ran about a fifth slower (presumably its TDZ checks).
  const sp = SP;
  let c0 = chain[0]!, c1 = chain[1]!;
  for (let p = 0; p < length; p += 8) {
    const a = (data[p]! << 24) | (data[p + 1]! << 16) | (data[p + 2]! << 8) | data[p + 3]!;
    const b = (data[p + 4]! << 24) | (data[p + 5]! << 16) | (data[p + 6]! << 8) | data[p + 7]!;
    let l = decrypt ? a : a ^ c0, r = decrypt ? b : b ^ c1, t = 0;
    // IP.
    t = ((l >>> 4) ^ r) & 0x0f0f0f0f;
    r ^= t;
    l ^= t << 4;
    t = ((l >>> 16) ^ r) & 0x0000ffff;
    r ^= t;
    l ^= t << 16;
    t = ((r >>> 2) ^ l) & 0x33333333;
    l ^= t;
    r ^= t << 2;
    t = ((r >>> 8) ^ l) & 0x00ff00ff;
    l ^= t;
    r ^= t << 8;
    t = ((l >>> 1) ^ r) & 0x55555555;
    r ^= t;
    l ^= t << 1;
    // Both halves rotated right by one: then E(r)'s even groups are x itself and the odd ones x
    // rotated left by 4 (SP is rotated to match).
    l = (l >>> 1) | (l << 31);
    r = (r >>> 1) | (r << 31);
    for (let k = 0; k < 96; k += 32) {
      for (let i = k; i < k + 32; i += 4) {
        // Two rounds per pass, so the halves never need swapping inside a stage.
        let u = r ^ keys[i]!;
        let v = ((r << 4) | (r >>> 28)) ^ keys[i + 1]!;
        l ^= sp[(u >>> 26) & 63]! ^ sp[128 | ((u >>> 18) & 63)]! ^
          sp[256 | ((u >>> 10) & 63)]! ^ sp[384 | ((u >>> 2) & 63)]! ^
          sp[64 | ((v >>> 26) & 63)]! ^ sp[192 | ((v >>> 18) & 63)]! ^
          sp[320 | ((v >>> 10) & 63)]! ^ sp[448 | ((v >>> 2) & 63)]!;
        u = l ^ keys[i + 2]!;
        v = ((l << 4) | (l >>> 28)) ^ keys[i + 3]!;
        r ^= sp[(u >>> 26) & 63]! ^ sp[128 | ((u >>> 18) & 63)]! ^
          sp[256 | ((u >>> 10) & 63)]! ^ sp[384 | ((u >>> 2) & 63)]! ^
          sp[64 | ((v >>> 26) & 63)]! ^ sp[192 | ((v >>> 18) & 63)]! ^
          sp[320 | ((v >>> 10) & 63)]! ^ sp[448 | ((v >>> 2) & 63)]!;
      }
      // DES ends each stage with the halves swapped.
      t = l;
      l = r;
      r = t;
    }
    l = (l << 1) | (l >>> 31);
    r = (r << 1) | (r >>> 31);
    // FP.
    t = ((l >>> 1) ^ r) & 0x55555555;
    r ^= t;
    l ^= t << 1;
    t = ((r >>> 8) ^ l) & 0x00ff00ff;
    l ^= t;
    r ^= t << 8;
    t = ((r >>> 2) ^ l) & 0x33333333;
    l ^= t;
    r ^= t << 2;
    t = ((l >>> 16) ^ r) & 0x0000ffff;
    r ^= t;
    l ^= t << 16;
    t = ((l >>> 4) ^ r) & 0x0f0f0f0f;
    r ^= t;
    l ^= t << 4;
    if (decrypt) {
      l ^= c0;
      r ^= c1;
      c0 = a;
      c1 = b;
    } else {
      c0 = l;
      c1 = r;
    }
    out[p] = l >>> 24;
    out[p + 1] = l >>> 16;
    out[p + 2] = l >>> 8;
    out[p + 3] = l;
    out[p + 4] = r >>> 24;
    out[p + 5] = r >>> 16;
    out[p + 6] = r >>> 8;
    out[p + 7] = r;
  }
  chain[0] = c0;
  chain[1] = c1;
}

/**
 * 3DES in CBC mode with a state that carries on across calls — the JDK's `Cipher.update` without
 * `doFinal`, which is how DIGEST-MD5 chains one wrapped message into the next. The key is
 * scheduled once, at construction.
 */
export class TripleDesCbc {
  readonly #keys: Int32Array;
  readonly #decrypt: boolean;
  readonly #chain = new Int32Array(2);

  constructor(key: Uint8Array, iv: Uint8Array, direction: "encrypt" | "decrypt") {
    if (iv.byteLength !== 8) {
      throw new InvalidArgumentError(`A 3DES IV is 8 bytes, got ${iv.byteLength}`);
    }
    this.#keys = schedule(key, direction);
    this.#decrypt = direction === "decrypt";
    const view = new DataView(iv.buffer, iv.byteOffset, 8);
    this.#chain[0] = view.getInt32(0);
    this.#chain[1] = view.getInt32(4);
  }

  /** Transforms `data` (a multiple of 8 bytes) into `out` (same length; may be `data`). */
  update(data: Uint8Array, out: Uint8Array = new Uint8Array(data.byteLength)): Uint8Array {
    if (data.byteLength % 8 !== 0 || out.byteLength < data.byteLength) {
      throw new InvalidArgumentError(
        `3DES-CBC works on whole 8-byte blocks, got ${data.byteLength} bytes`,
      );
    }
    cbc(data, out, data.byteLength, this.#keys, this.#chain, this.#decrypt);
    return out.subarray(0, data.byteLength);
  }
}
