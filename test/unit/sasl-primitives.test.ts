/**
 * MD5, HMAC-MD5, 3DES-CBC and Netty base64 against published vectors (RFC 1321, RFC 2104,
 * FIPS 46 / SP 800-67) and against the JDK's own intermediate values recorded from Spark.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { hmacMd5, Md5, md5, toHex } from "../../src/sasl/md5.ts";
import { TripleDesCbc } from "../../src/sasl/triple-des.ts";
import { InvalidArgumentError } from "../../src/errors.ts";
import { nettyBase64 } from "../../src/sasl/netty-base64.ts";
import {
  digestValue,
  sessionKey,
  SPARK_DIGEST_URI,
  SPARK_REALM,
  sparkSaslPassword,
  sparkSaslUsername,
  userRealmPass,
} from "../../src/sasl/digest-md5.ts";
import { deriveKeys, tripleDesKey } from "../../src/sasl/sasl-cipher.ts";
import { fromHex, hexOf, transcript, transcripts } from "./sasl-transcripts.ts";

const text = (s: string) => new TextEncoder().encode(s);

test("MD5 matches the RFC 1321 test suite", () => {
  const suite: [string, string][] = [
    ["", "d41d8cd98f00b204e9800998ecf8427e"],
    ["a", "0cc175b9c0f1b6a831c399e269772661"],
    ["abc", "900150983cd24fb0d6963f7d28e17f72"],
    ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
    ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
    [
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
      "d174ab98d277d9f5a5611c2c9f419d9f",
    ],
    ["1234567890".repeat(8), "57edf4a22be3c955ac49da2e2107b67a"],
  ];
  for (const [input, digest] of suite) assert.equal(toHex(md5(input)), digest, input);
});

test("MD5 fed in pieces of every size equals MD5 in one go", () => {
  const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 37) & 255);
  const whole = toHex(md5(data));
  for (const step of [1, 7, 55, 56, 63, 64, 65, 129]) {
    const hash = new Md5();
    for (let i = 0; i < data.length; i += step) hash.update(data.subarray(i, i + step));
    assert.equal(toHex(hash.digest()), whole, `step ${step}`);
  }
});

test("HMAC-MD5 matches the RFC 2104 / RFC 2202 vectors", () => {
  assert.equal(
    toHex(hmacMd5(new Uint8Array(16).fill(0x0b), text("Hi There"))),
    "9294727a3638bb1c13f48ef8158bfc9d",
  );
  assert.equal(
    toHex(hmacMd5(text("Jefe"), text("what do ya want for nothing?"))),
    "750c783e6ab0b503eaa86e310a5db738",
  );
  assert.equal(
    toHex(hmacMd5(new Uint8Array(16).fill(0xaa), new Uint8Array(50).fill(0xdd))),
    "56be34521d144c88dbb8c733f0e8b3f6",
  );
  // RFC 2202 test 6: a key longer than the block is hashed first.
  assert.equal(
    toHex(
      hmacMd5(
        new Uint8Array(80).fill(0xaa),
        text("Test Using Larger Than Block-Size Key - Hash Key First"),
      ),
    ),
    "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd",
  );
});

test("DES and 3DES match the FIPS 46 and SP 800-67 vectors, both ways", () => {
  const zeros = new Uint8Array(8);
  const cases: [string, string, string][] = [
    ["133457799bbcdff1", "0123456789abcdef", "85e813540f0ab405"],
    ["0123456789abcdef", "4e6f772069732074", "3fa40e8a984d4815"],
    [
      "0123456789abcdef23456789abcdef01456789abcdef0123",
      "5468652071756663",
      "a826fd8ce53b855f",
    ],
  ];
  for (const [key, plain, cipher] of cases) {
    const k = fromHex(key.length === 16 ? key.repeat(3) : key);
    assert.equal(hexOf(new TripleDesCbc(k, zeros, "encrypt").update(fromHex(plain))), cipher);
    assert.equal(hexOf(new TripleDesCbc(k, zeros, "decrypt").update(fromHex(cipher))), plain);
  }
});

test("3DES-CBC carries its chaining state across update calls", () => {
  const key = Uint8Array.from({ length: 24 }, (_, i) => i * 11);
  const iv = Uint8Array.from({ length: 8 }, (_, i) => 200 - i);
  const data = Uint8Array.from({ length: 96 }, (_, i) => i);
  const whole = new TripleDesCbc(key, iv, "encrypt").update(data);
  const pieces = new TripleDesCbc(key, iv, "encrypt");
  const joined = [...pieces.update(data.subarray(0, 24)), ...pieces.update(data.subarray(24))];
  assert.deepEqual(joined, [...whole]);
  const back = new TripleDesCbc(key, iv, "decrypt");
  assert.deepEqual(
    [...back.update(whole.subarray(0, 8)), ...back.update(whole.subarray(8))],
    [...data],
  );
  assert.throws(() => pieces.update(new Uint8Array(5)), InvalidArgumentError);
});

test("Netty base64 breaks lines after 76 characters, never at the end", () => {
  assert.equal(nettyBase64(text("sparkSaslUser")), "c3BhcmtTYXNsVXNlcg==");
  assert.equal(nettyBase64(text("ferry-test-secret")), "ZmVycnktdGVzdC1zZWNyZXQ=");
  const long = transcript("a-auth-long-secret");
  assert.equal(
    sparkSaslPassword(long.credentials.secret),
    (long.credentials as unknown as { saslPasswordUsed: string }).saslPasswordUsed,
  );
  assert.equal(nettyBase64(new Uint8Array(57)).includes("\n"), false); // exactly 76 characters
  assert.equal(nettyBase64(new Uint8Array(58)).split("\n").map((l) => l.length).join(), "76,4");
});

test("digests and auth-conf keys equal the JDK's own intermediates for every session", () => {
  for (const t of transcripts) {
    const f = t.sasl.response.fields;
    const config = (t as unknown as { config: Record<string, { secret: string }> }).config;
    const paramsFor = (secret: string) => ({
      username: sparkSaslUsername(),
      password: sparkSaslPassword(secret),
      realm: SPARK_REALM,
      nonce: f.nonce!,
      cnonce: f.cnonce!,
      digestUri: SPARK_DIGEST_URI,
      qop: f.qop as "auth" | "auth-conf",
    });
    assert.equal(f.username, sparkSaslUsername());
    // Each side with its own secret (they differ only in c-wrong-secret).
    for (const side of ["client", "server"] as const) {
      const params = paramsFor(config[side]!.secret);
      const trace = t.javaTrace[side];
      assert.equal(toHex(userRealmPass(params)), trace.userRealmPass[0].hex, t.name);
      assert.equal(toHex(sessionKey(params)), trace.HA1[0], t.name);
      assert.equal(digestValue(params, sessionKey(params), false), trace.responseValue[0], t.name);
    }
    if (t.name === "c-wrong-secret") continue;
    const params = paramsFor(t.credentials.secret);
    const ha1 = sessionKey(params);
    assert.equal(digestValue(params, ha1, false), t.expected.response, t.name);
    assert.equal(digestValue(params, ha1, true), t.expected.rspauth, t.name);
    if (t.encryption !== undefined) {
      const keys = deriveKeys(ha1);
      const e = t.encryption.keys;
      assert.deepEqual(
        [toHex(keys.kcc), toHex(keys.kcs), toHex(keys.kic), toHex(keys.kis)],
        [e.Kcc, e.Kcs, e.Kic, e.Kis],
      );
      const c2s = tripleDesKey(keys.kcc);
      assert.equal(toHex(c2s.key), t.javaTrace.client.encKey);
      assert.equal(toHex(c2s.iv), t.javaTrace.client.encIv);
      const s2c = tripleDesKey(keys.kcs);
      assert.equal(toHex(s2c.key), t.javaTrace.server.encKey);
      assert.equal(toHex(s2c.iv), t.javaTrace.server.encIv);
    }
  }
});
