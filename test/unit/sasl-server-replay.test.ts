/**
 * Ferry's server end to end against the recorded Spark client: the recorded client bytes go in
 * through a socket, one step at a time, to a TransportServer behind SparkSaslServer (with the
 * recorded nonce injected, a handler scripted to give the recorded answers); every byte the server
 * writes — challenge, rspauth, and for auth-conf the 3DES-wrapped replies — must equal what the
 * Spark server wrote. (b-auth-conf-large is left out: Ferry wraps a 70 000-byte reply per flush,
 * not per Spark message, so its blocks are cut differently — equally valid for a Spark receiver,
 * as sasl-encryption-replay.test.ts shows.)
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { RpcHandler } from "../../src/responder/rpc-handler.ts";
import type { StreamManager } from "../../src/responder/stream-manager.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { SaslSocket } from "../../src/sasl/sasl-socket.ts";
import { SparkSaslServer } from "../../src/sasl/spark-sasl-server.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";
import { fromHex, hexOf, transcript } from "./sasl-transcripts.ts";

/** A Spark frame's body after its 21-byte RPC header (RpcResponse) or 21-byte chunk header. */
const bodyAfter = (hex: string, header: number) => fromHex(hex).subarray(header);

for (
  const name of ["a-auth", "a-auth-long-secret", "b-auth-conf", "b-auth-conf-always-encrypt"]
) {
  test(`${name}: Ferry's server writes exactly what the Spark server wrote`, async () => {
    const t = transcript(name);
    const config = (t as unknown as { config: { server: Record<string, string> } }).config.server;
    const encrypted = t.sasl.negotiated.qop === "auth-conf";
    // What the Spark server answered after authentication, in clear.
    const inner = (t as unknown as { encryption?: { inner: { s2c: { hex: string }[] } } })
      .encryption?.inner.s2c.map((f) => f.hex) ?? t.frames.s2c.slice(2).map((f) => f.hex);
    const openReply = bodyAfter(inner[1]!, 21);
    const chunk = bodyAfter(inner[2]!, 8 + 1 + 12);
    const rpcHandler: RpcHandler = {
      receive: (_c, message) =>
        new TextDecoder().decode(message).startsWith("open:") ? openReply : message,
    };
    const streamManager: StreamManager = {
      getChunk: () => Promise.resolve(chunk),
      openStream: () => Promise.reject(new Error("not recorded")),
      connectionTerminated: () => {},
    };
    const sasl = new SparkSaslServer({
      secret: config.secret!,
      alwaysEncrypt: config["spark.network.sasl.serverAlwaysEncrypt"] === "true",
      nonce: () => t.sasl.challenge.fields.nonce!,
      authTimeoutMs: 0,
    });
    const server = new TransportServer(sasl.serverOptions({ rpcHandler, streamManager }));
    const [client, serverEnd] = memorySocketPair();
    server.accept(new SaslSocket(serverEnd));
    let received = "";
    let waiting: { length: number; resolve: () => void } | undefined;
    client.attach({
      data(chunk) {
        received += hexOf(chunk);
        if (waiting !== undefined && received.length >= waiting.length) waiting.resolve();
      },
      drain() {},
      close: () => waiting?.resolve(), // a server that closes fails the comparison below
    });
    let expected = "";
    for (let step = 0; step < t.frames.c2s.length; step++) {
      client.write(fromHex(t.frames.c2s[step]!.hex));
      expected += t.frames.s2c[step]!.hex;
      if (received.length < expected.length) {
        await new Promise<void>((resolve) => (waiting = { length: expected.length, resolve }));
      }
      assert.equal(received, expected, `${name}: the server's answer to client frame ${step}`);
    }
    assert.equal(encrypted, t.frames.s2c.at(-1)!.layer === "sasl-wrapped");
    client.close();
    await server.close();
  });
}
