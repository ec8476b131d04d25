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

// deno-fmt-ignore
const IP = [
  58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4,
  62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
  57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3,
  61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
];
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

/** SP[box][six bits] = P(S_box(six bits) placed at the box's four output bits). */
const SP = S.map((box, index) =>
  Int32Array.from({ length: 64 }, (_, v) => {
    const row = ((v >> 4) & 2) | (v & 1);
    const column = (v >> 1) & 15;
    const placed = box[row * 16 + column]! << (28 - 4 * index);
    let out = 0;
    for (let i = 0; i < 32; i++) {
      if ((placed >>> (32 - P[i]!)) & 1) out |= 1 << (31 - i);
    }
    return out | 0;
  })
);

/**
 * A 64-bit permutation as lookup tables: for input byte `i` with value `v`, the (hi, lo) words
 * it contributes. Eight lookups per block instead of 64 bit moves.
 */
function permutationTables(table: readonly number[]): Int32Array[] {
  return Array.from({ length: 8 }, (_, byteIndex) => {
    const out = new Int32Array(512);
    for (let v = 0; v < 256; v++) {
      let hi = 0, lo = 0;
      for (let o = 0; o < 64; o++) {
        const source = table[o]! - 1; // 0-based input bit, MSB first
        if ((source >> 3) !== byteIndex || ((v >> (7 - (source & 7))) & 1) === 0) continue;
        if (o < 32) hi |= 1 << (31 - o);
        else lo |= 1 << (63 - o);
      }
      out[v * 2] = hi;
      out[v * 2 + 1] = lo;
    }
    return out;
  });
}

const FP = Array.from({ length: 64 }, (_, o) => IP.indexOf(o + 1) + 1);
const IP_TABLES = permutationTables(IP);
const FP_TABLES = permutationTables(FP);

/**
 * The 16 round keys of one DES key, two words per round: the even 6-bit groups (0, 2, 4, 6) at
 * bit offsets 26, 18, 10, 2 of the first word and the odd ones (1, 3, 5, 7) likewise in the
 * second, matching how `rounds` cuts the expansion E(r) out of two rotations of r.
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

const SP0 = SP[0]!, SP1 = SP[1]!, SP2 = SP[2]!, SP3 = SP[3]!;
const SP4 = SP[4]!, SP5 = SP[5]!, SP6 = SP[6]!, SP7 = SP[7]!;

/**
 * 48 Feistel rounds with a 96-word schedule (three DES stages), on `block` after IP; each stage
 * ends with the swap DES's output has (between stages, FP and IP cancel out).
 */
function rounds(block: Int32Array, keys: Int32Array): void {
  let l = block[0]!, r = block[1]!;
  for (let k = 0; k < 96;) {
    for (let round = 0; round < 16; round++, k += 2) {
      // E(r) in two halves: r rotated right by 1 (even groups) and left by 3 (odd groups).
      const u = ((r >>> 1) | (r << 31)) ^ keys[k]!;
      const t = ((r << 3) | (r >>> 29)) ^ keys[k + 1]!;
      const f = SP0[(u >>> 26) & 63]! ^ SP2[(u >>> 18) & 63]! ^ SP4[(u >>> 10) & 63]! ^
        SP6[(u >>> 2) & 63]! ^ SP1[(t >>> 26) & 63]! ^ SP3[(t >>> 18) & 63]! ^
        SP5[(t >>> 10) & 63]! ^ SP7[(t >>> 2) & 63]!;
      const next = l ^ f;
      l = r;
      r = next;
    }
    const swap = l;
    l = r;
    r = swap;
  }
  block[0] = l;
  block[1] = r;
}

function permute(tables: Int32Array[], block: Int32Array): void {
  const a = block[0]!, b = block[1]!;
  const t0 = tables[0]!, t1 = tables[1]!, t2 = tables[2]!, t3 = tables[3]!;
  const t4 = tables[4]!, t5 = tables[5]!, t6 = tables[6]!, t7 = tables[7]!;
  const i0 = (a >>> 23) & 510, i1 = (a >>> 15) & 510, i2 = (a >>> 7) & 510, i3 = (a << 1) & 510;
  const i4 = (b >>> 23) & 510, i5 = (b >>> 15) & 510, i6 = (b >>> 7) & 510, i7 = (b << 1) & 510;
  block[0] = t0[i0]! | t1[i1]! | t2[i2]! | t3[i3]! | t4[i4]! | t5[i5]! | t6[i6]! | t7[i7]!;
  block[1] = t0[i0 + 1]! | t1[i1 + 1]! | t2[i2 + 1]! | t3[i3 + 1]! | t4[i4 + 1]! | t5[i5 + 1]! |
    t6[i6 + 1]! | t7[i7 + 1]!;
}

/** DES-EDE3 with three keys (24 bytes: k1 ‖ k2 ‖ k3), one 8-byte block at a time. */
export class TripleDes {
  /** E(k1), D(k2), E(k3) as one schedule; and D(k3), E(k2), D(k1). */
  readonly #encrypt = new Int32Array(96);
  readonly #decrypt = new Int32Array(96);

  constructor(key: Uint8Array) {
    if (key.byteLength !== 24 && key.byteLength !== 8) {
      throw new RangeError(`A 3DES key is 24 bytes (or 8 for single DES), got ${key.byteLength}`);
    }
    const k1 = roundKeys(key, 0);
    const k2 = key.byteLength === 8 ? k1 : roundKeys(key, 8);
    const k3 = key.byteLength === 8 ? k1 : roundKeys(key, 16);
    this.#encrypt.set(k1, 0);
    this.#encrypt.set(reversed(k2), 32);
    this.#encrypt.set(k3, 64);
    this.#decrypt.set(reversed(k3), 0);
    this.#decrypt.set(k2, 32);
    this.#decrypt.set(reversed(k1), 64);
  }

  /** Encrypts `block` (two big-endian words) in place: E(k3, D(k2, E(k1, block))). */
  encryptBlock(block: Int32Array): void {
    permute(IP_TABLES, block);
    rounds(block, this.#encrypt);
    permute(FP_TABLES, block);
  }

  /** Decrypts `block` in place: D(k1, E(k2, D(k3, block))). */
  decryptBlock(block: Int32Array): void {
    permute(IP_TABLES, block);
    rounds(block, this.#decrypt);
    permute(FP_TABLES, block);
  }
}

/**
 * 3DES in CBC mode with a state that carries on across calls — the JDK's `Cipher.update` without
 * `doFinal`, which is how DIGEST-MD5 chains one wrapped message into the next.
 */
export class TripleDesCbc {
  readonly #cipher: TripleDes;
  readonly #decrypt: boolean;
  readonly #chain = new Int32Array(2);
  readonly #block = new Int32Array(2);

  constructor(key: Uint8Array, iv: Uint8Array, direction: "encrypt" | "decrypt") {
    if (iv.byteLength !== 8) throw new RangeError(`A 3DES IV is 8 bytes, got ${iv.byteLength}`);
    this.#cipher = new TripleDes(key);
    this.#decrypt = direction === "decrypt";
    const view = new DataView(iv.buffer, iv.byteOffset, 8);
    this.#chain[0] = view.getInt32(0);
    this.#chain[1] = view.getInt32(4);
  }

  /** Transforms `data` (a multiple of 8 bytes) into `out` (same length; may be `data`). */
  update(data: Uint8Array, out: Uint8Array = new Uint8Array(data.byteLength)): Uint8Array {
    if (data.byteLength % 8 !== 0 || out.byteLength < data.byteLength) {
      throw new RangeError(`3DES-CBC works on whole 8-byte blocks, got ${data.byteLength} bytes`);
    }
    const chain = this.#chain, block = this.#block;
    for (let p = 0; p < data.byteLength; p += 8) {
      const a = (data[p]! << 24) | (data[p + 1]! << 16) | (data[p + 2]! << 8) | data[p + 3]!;
      const b = (data[p + 4]! << 24) | (data[p + 5]! << 16) | (data[p + 6]! << 8) | data[p + 7]!;
      if (this.#decrypt) {
        block[0] = a;
        block[1] = b;
        this.#cipher.decryptBlock(block);
        block[0] = block[0]! ^ chain[0]!;
        block[1] = block[1]! ^ chain[1]!;
        chain[0] = a;
        chain[1] = b;
      } else {
        block[0] = a ^ chain[0]!;
        block[1] = b ^ chain[1]!;
        this.#cipher.encryptBlock(block);
        chain[0] = block[0]!;
        chain[1] = block[1]!;
      }
      const x = block[0]!, y = block[1]!;
      out[p] = x >>> 24;
      out[p + 1] = x >>> 16;
      out[p + 2] = x >>> 8;
      out[p + 3] = x;
      out[p + 4] = y >>> 24;
      out[p + 5] = y >>> 16;
      out[p + 6] = y >>> 8;
      out[p + 7] = y;
    }
    return out.subarray(0, data.byteLength);
  }
}
