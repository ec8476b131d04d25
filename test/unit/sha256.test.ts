/**
 * The incremental SHA-256 against WebCrypto: the FIPS vectors, every length around the block and
 * padding boundaries, and random inputs split at random points.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Sha256, toHex } from "../../src/checksum/sha256.ts";

async function webCryptoHex(bytes: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource)));
}

const utf8 = (s: string) => new TextEncoder().encode(s);

test("known vectors", () => {
  assert.equal(
    new Sha256().hexDigest(),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assert.equal(
    new Sha256().update(utf8("abc")).hexDigest(),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(
    new Sha256().update(utf8("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
      .hexDigest(),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
});

test("every length from 0 to 300 bytes matches WebCrypto, fed whole and byte by byte", async () => {
  const data = new Uint8Array(300).map((_, i) => (i * 7 + 3) & 0xff);
  for (let length = 0; length <= 300; length++) {
    const input = data.subarray(0, length);
    const expected = await webCryptoHex(input);
    assert.equal(new Sha256().update(input).hexDigest(), expected, `length ${length} whole`);
    const bytewise = new Sha256();
    for (let i = 0; i < length; i++) bytewise.update(input.subarray(i, i + 1));
    assert.equal(bytewise.hexDigest(), expected, `length ${length} byte by byte`);
  }
});

test("random inputs split at random points (views with offsets) match WebCrypto", async () => {
  let seed = 0x2545f491;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  for (let round = 0; round < 40; round++) {
    const length = next() % 200_000;
    const backing = new Uint8Array(length + 16);
    for (let i = 0; i < backing.length; i++) backing[i] = next() >>> 24;
    const input = backing.subarray(7, 7 + length);
    const hash = new Sha256();
    let offset = 0;
    while (offset < length) {
      const size = Math.min(length - offset, 1 + (next() % 9000));
      hash.update(input.subarray(offset, offset + size));
      offset += size;
    }
    assert.equal(hash.byteLength, length);
    assert.equal(hash.hexDigest(), await webCryptoHex(input.slice()), `round ${round}`);
  }
});

test("a finished hash refuses more input", () => {
  const hash = new Sha256();
  hash.digest();
  assert.throws(() => hash.update(Uint8Array.of(1)), /already finished/);
  assert.throws(() => hash.digest(), /already finished/);
  assert.throws(() => new Sha256().update("x" as never), /expected a Uint8Array/);
});
