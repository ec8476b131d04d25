/**
 * Replays the recorded Spark 3.5.4 sessions through Ferry's DIGEST-MD5 state machines: with the
 * recorded cnonce injected, Ferry's client produces exactly the recorded client frames; with the
 * recorded nonce injected, Ferry's server produces exactly the recorded server frames and accepts
 * (or, for the wrong secret, rejects) the recorded client frames.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeMessage } from "../../src/protocol/encoder.ts";
import { MessageType } from "../../src/protocol/messages.ts";
import { DigestMd5Client } from "../../src/sasl/digest-client.ts";
import { DigestMd5Server } from "../../src/sasl/digest-server.ts";
import { type Qop, sparkSaslPassword } from "../../src/sasl/digest-md5.ts";
import { decodeSaslMessage, encodeSaslMessage } from "../../src/sasl/sasl-message.ts";
import { fromHex, hexOf, type Transcript, transcripts } from "./sasl-transcripts.ts";

function frameHex(type: MessageType, requestId: string, body: Uint8Array): string {
  const parts = encodeMessage(
    {
      type,
      requestId: BigInt(requestId),
      body,
    } as Parameters<typeof encodeMessage>[0],
  );
  return parts.map(hexOf).join("");
}

/** The body of a recorded Spark frame (after the 21-byte RPC header). */
const bodyOf = (hex: string) => fromHex(hex).subarray(21);

function roles(t: Transcript) {
  const config = (t as unknown as { config: Record<string, Record<string, string>> }).config;
  const clientQop: Qop = config.client!["spark.authenticate.enableSaslEncryption"] === "true"
    ? "auth-conf"
    : "auth";
  const serverQops: Qop[] = config.server!["spark.network.sasl.serverAlwaysEncrypt"] === "true"
    ? ["auth-conf"]
    : ["auth-conf", "auth"];
  return {
    clientSecret: config.client!.secret!,
    serverSecret: config.server!.secret!,
    clientQop,
    serverQops,
  };
}

for (const t of transcripts) {
  const { steps } = t.sasl;
  const c2s = t.frames.c2s, s2c = t.frames.s2c;
  const { clientSecret, serverSecret, clientQop, serverQops } = roles(t);

  test(`${t.name}: Ferry's client sends exactly the recorded client frames`, () => {
    const client = new DigestMd5Client({
      appId: t.credentials.appId,
      secret: clientSecret,
      qop: clientQop,
      cnonce: () => t.sasl.response.fields.cnonce!,
    });
    const first = encodeSaslMessage(t.credentials.appId, client.initialToken());
    assert.equal(frameHex(MessageType.RpcRequest, steps[0]!.requestId, first), c2s[0]!.hex);
    const response = client.respond(bodyOf(s2c[0]!.hex));
    const second = encodeSaslMessage(t.credentials.appId, response);
    assert.equal(frameHex(MessageType.RpcRequest, steps[2]!.requestId, second), c2s[1]!.hex);
    if (t.name === "c-wrong-secret") {
      assert.equal(s2c[1]!.hex.slice(16, 18), "05"); // an RpcFailure, no rspauth to check
      return;
    }
    client.verifyRspauth(bodyOf(s2c[1]!.hex));
    assert.equal(client.sessionKey.byteLength, 16);
  });

  test(`${t.name}: Ferry's server sends exactly the recorded server frames`, () => {
    const server = new DigestMd5Server({
      qops: serverQops,
      nonce: () => t.sasl.challenge.fields.nonce!,
    });
    const hello = decodeSaslMessage(bodyOf(c2s[0]!.hex));
    assert.equal(hello.appId, t.credentials.appId);
    assert.equal(hello.token.byteLength, 0);
    assert.equal(
      frameHex(MessageType.RpcResponse, steps[1]!.requestId, server.challenge()),
      s2c[0]!.hex,
    );
    const answer = decodeSaslMessage(bodyOf(c2s[1]!.hex));
    const password = sparkSaslPassword(serverSecret);
    if (t.name === "c-wrong-secret") {
      const recorded = new TextDecoder().decode(fromHex(s2c[1]!.hex).subarray(21)).split("\n")[0]!;
      assert.throws(
        () => server.verify(answer.token, password),
        (error: Error) => recorded.endsWith(error.message),
      );
      return;
    }
    const rspauth = server.verify(answer.token, password);
    assert.equal(frameHex(MessageType.RpcResponse, steps[3]!.requestId, rspauth), s2c[1]!.hex);
    assert.equal(server.qop, clientQop);
  });
}

test("a client that wants auth is told clearly when the server only encrypts", () => {
  const t = transcripts.find((x) => x.name === "b-auth-conf-always-encrypt")!;
  const client = new DigestMd5Client({ appId: "app-1", secret: "ferry-test-secret", qop: "auth" });
  assert.throws(
    () => client.respond(bodyOf(t.frames.s2c[0]!.hex)),
    /appId 'app-1'.*qop mismatch.*requires qop auth.*offers auth-conf.*encrypt: true/,
  );
});

test("the server refuses a qop it did not offer, a wrong digest-uri, a replayed stage", () => {
  const t = transcripts.find((x) => x.name === "a-auth")!;
  const token = decodeSaslMessage(bodyOf(t.frames.c2s[1]!.hex)).token;
  const password = sparkSaslPassword("ferry-test-secret");
  const nonce = () => t.sasl.challenge.fields.nonce!;
  const strict = new DigestMd5Server({ qops: ["auth-conf"], nonce });
  strict.challenge();
  assert.throws(() => strict.verify(token, password), /server does not support {2}qop: auth/);
  const server = new DigestMd5Server({ qops: ["auth-conf", "auth"], nonce });
  server.challenge();
  const badUri = new TextEncoder().encode(
    new TextDecoder().decode(token).replace("null/default", "spark/default"),
  );
  assert.throws(
    () => server.verify(badUri, password),
    /Mismatched URI: spark\/default; expecting: null\/default/,
  );
  // One attempt per exchange, as the JDK's "Server at illegal state".
  assert.throws(() => server.verify(token, password), /illegal state/);
});
