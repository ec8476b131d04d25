/**
 * Ferry's own 3DES-CBC, MD5 and HMAC-MD5 (src/sasl/, written out by hand for speed) against
 * OpenSSL's through `node:crypto`, on random keys, IVs and data of many lengths, with the CBC
 * state carried across uneven `update` calls as SASL's auth-conf does.
 *
 * @module
 */

import { createCipheriv, createHash, createHmac } from "node:crypto";
import assert from "node:assert/strict";
import { test } from "node:test";
import { HmacMd5, Md5 } from "../../src/sasl/md5.ts";
import { TripleDesCbc } from "../../src/sasl/triple-des.ts";

const random = (length: number) => crypto.getRandomValues(new Uint8Array(length));
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

test("3DES-CBC equals OpenSSL's des-ede3-cbc both ways, state carried across calls", () => {
  for (let i = 0; i < 100; i++) {
    const key = random(24), iv = random(8), data = random(8 * (1 + i * 3));
    const openssl = createCipheriv("des-ede3-cbc", key, iv).setAutoPadding(false).update(data);
    const encrypt = new TripleDesCbc(key, iv, "encrypt");
    const cut = 8 * (i % (data.byteLength / 8));
    const ours = [...encrypt.update(data.subarray(0, cut)), ...encrypt.update(data.subarray(cut))];
    assert.equal(hex(Uint8Array.from(ours)), openssl.toString("hex"), `case ${i}`);
    const decrypt = new TripleDesCbc(key, iv, "decrypt");
    const back = decrypt.update(Uint8Array.from(openssl));
    assert.equal(hex(back), hex(data), `case ${i}`);
  }
});

test("MD5 and HMAC-MD5 equal OpenSSL's for every length around the 64-byte block", () => {
  const data = random(300);
  for (let length = 0; length <= data.byteLength; length++) {
    const part = data.subarray(0, length);
    const split = length >> 1;
    const ours = new Md5().update(part.subarray(0, split)).update(part.subarray(split)).digest();
    assert.equal(hex(ours), createHash("md5").update(part).digest("hex"), `length ${length}`);
    const key = data.subarray(length % 100, (length % 100) + (length % 90));
    assert.equal(
      hex(new HmacMd5(key).mac(part.subarray(0, split), part.subarray(split))),
      createHmac("md5", key).update(part).digest("hex"),
      `length ${length}`,
    );
  }
});
