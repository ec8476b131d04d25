/**
 * The encrypted halves of the recorded Spark sessions: with the keys both sides derive from the
 * recorded exchange, Ferry unwraps every SaslEncryption frame in both directions (MAC, padding,
 * sequence numbers) to the recorded plaintext, re-wraps that plaintext to the recorded bytes, and
 * the socket layer turns the recorded wire stream back into the recorded Spark frames.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type Qop,
  sessionKey,
  SPARK_DIGEST_URI,
  SPARK_REALM,
  sparkSaslPassword,
  sparkSaslUsername,
} from "../../src/sasl/digest-md5.ts";
import { SaslCipher, SaslIntegrityError } from "../../src/sasl/sasl-cipher.ts";
import { SaslSocket } from "../../src/sasl/sasl-socket.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";
import { fromHex, hexOf, type Transcript, transcripts } from "./sasl-transcripts.ts";

function ha1Of(t: Transcript): Uint8Array {
  const f = t.sasl.response.fields;
  return sessionKey({
    username: sparkSaslUsername(),
    password: sparkSaslPassword(t.credentials.secret),
    realm: SPARK_REALM,
    nonce: f.nonce!,
    cnonce: f.cnonce!,
    digestUri: SPARK_DIGEST_URI,
    qop: f.qop as Qop,
  });
}

const encrypted = transcripts.filter((t) => t.sasl.negotiated.qop === "auth-conf");

test("three recorded sessions use auth-conf", () => {
  assert.deepEqual(encrypted.map((t) => t.name), [
    "b-auth-conf",
    "b-auth-conf-always-encrypt",
    "b-auth-conf-large",
  ]);
});

for (const t of encrypted) {
  test(`${t.name}: every wrapped frame unwraps to the recorded plaintext and re-wraps exactly`, () => {
    const ha1 = ha1Of(t);
    for (
      const [dir, sender, receiver] of [
        ["c2s", new SaslCipher(ha1, "client"), new SaslCipher(ha1, "server")],
        ["s2c", new SaslCipher(ha1, "server"), new SaslCipher(ha1, "client")],
      ] as const
    ) {
      const frames = t.frames[dir].filter((f) => f.layer === "sasl-wrapped");
      assert.ok(frames.length >= 3);
      for (const frame of frames) {
        const wire = fromHex(frame.hex);
        const plain = receiver.unwrap(wire.slice(8));
        if (frame.unwrapped?.plaintextHex !== undefined) {
          assert.equal(hexOf(plain), frame.unwrapped.plaintextHex);
        }
        const out = new Uint8Array(SaslCipher.wrappedLength(plain.byteLength));
        sender.wrap(plain, out, 0);
        assert.equal(hexOf(out), hexOf(wire.subarray(8)), `${dir} block re-wrapped`);
      }
    }
  });
}

test("b-auth-conf-large: the socket layer unwraps the recorded stream, cut anywhere", async () => {
  const t = encrypted.find((x) => x.name === "b-auth-conf-large")!;
  const wrapped = t.frames.c2s.filter((f) => f.layer === "sasl-wrapped").map((f) => fromHex(f.hex));
  const wire = new Uint8Array(wrapped.reduce((n, f) => n + f.byteLength, 0));
  let offset = 0;
  for (const f of wrapped) (wire.set(f, offset), offset += f.byteLength);
  const plaintext = t.frames.c2s.filter((f) => f.layer === "sasl-wrapped")
    .map((f) => f.unwrapped?.plaintextHex ?? "").join("");
  const [a, b] = memorySocketPair();
  a.attach({ data() {}, drain() {}, close() {} });
  const layer = new SaslSocket(b);
  const received: string[] = [];
  let total = 0;
  const done = new Promise<void>((resolve) =>
    layer.attach({
      data(chunk) {
        received.push(hexOf(chunk));
        total += chunk.byteLength;
        if (total >= plaintext.length / 2) resolve();
      },
      drain() {},
      close() {},
    })
  );
  layer.encryptAfterResponse(1, new SaslCipher(ha1Of(t), "server"));
  // Odd-sized pieces so that length prefixes and blocks straddle chunk boundaries.
  for (let p = 0; p < wire.byteLength; p += 7001) a.write(wire.slice(p, p + 7001));
  await done;
  // hello (26) + open (30) + fetch (21) + the 70 021-byte RPC, in order.
  assert.equal(total, 26 + 30 + 21 + 70_021);
  const joined = received.join("");
  assert.equal(joined.slice(0, plaintext.length), plaintext, "the three small frames");
  // Then the 70 021-byte RpcRequest, joined from two blocks (65 536 + 4 485 bytes).
  assert.equal(joined.slice(plaintext.length, plaintext.length + 18), "000000000001118503");
  a.close();
  await layer.closed;
});

test("a wrong sequence number is refused", () => {
  const t = encrypted[0]!;
  const receiver = new SaslCipher(ha1Of(t), "server");
  const frames = t.frames.c2s.filter((f) => f.layer === "sasl-wrapped");
  assert.throws(() => receiver.unwrap(fromHex(frames[1]!.hex).slice(8)), SaslIntegrityError);
});
