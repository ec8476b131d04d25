/**
 * Ferry's Spark SASL client bootstrap against Ferry's Spark SASL server gate, over in-memory
 * sockets: qop auth and auth-conf (RPCs, large bodies split into blocks, chunk fetches of a stream
 * owned by the appId), a wrong secret, a qop mismatch, a server without SASL, and a tampered
 * encrypted block.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TransportClient } from "../../src/client/transport-client.ts";
import { AuthError, ConnectionClosedError, LimitError } from "../../src/errors.ts";
import { OneForOneStreamManager } from "../../src/responder/one-for-one-stream-manager.ts";
import type { Peer } from "../../src/responder/peer.ts";
import type { RpcHandler } from "../../src/responder/rpc-handler.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { SaslCipher, SaslIntegrityError } from "../../src/sasl/sasl-cipher.ts";
import { saslLayerOf, SaslSocket } from "../../src/sasl/sasl-socket.ts";
import { sparkSaslBootstrap } from "../../src/sasl/spark-sasl-bootstrap.ts";
import { SparkSaslServer, type SparkSaslServerOptions } from "../../src/sasl/spark-sasl-server.ts";
import type { Socket } from "../../src/socket.ts";
import { ForwardingSocket } from "../helpers/forwarding-socket.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";
import { FakeClock, settle } from "../helpers/fake-clock.ts";
import { pattern, text, utf8 } from "../helpers/engine-fixtures.ts";

const SECRET = "f1c7aa04bf6786382da8866a63f933ae3de6fc80fdb1350343ab6ed47556a7ac";
const context = () => ({ timeoutMs: 10_000, signal: new AbortController().signal });

function setup(
  gateOptions: Partial<SparkSaslServerOptions> = {},
  wrapClientSocket: (socket: Socket) => Socket = (s) => s,
) {
  const calls: string[] = [];
  const serverSide: Peer[] = [];
  const gate = new SparkSaslServer({ secret: SECRET, authTimeoutMs: 0, ...gateOptions });
  const streams = new OneForOneStreamManager({ principalOf: gate.principalOf });
  const rpcHandler: RpcHandler = {
    receive(client, message) {
      calls.push(`rpc:${message.byteLength}`);
      if (text(message.subarray(0, 5)) === "open:") {
        const id = streams.registerStream(gate.principalOf(client)!, [pattern(1000, 1), utf8("b")]);
        const out = new Uint8Array(8);
        new DataView(out.buffer).setBigInt64(0, BigInt(id));
        return out;
      }
      return message;
    },
    channelActive: (client) => void serverSide.push(client),
  };
  const server = new TransportServer(gate.serverOptions({ rpcHandler, streamManager: streams }));
  const [a, b] = memorySocketPair();
  server.accept(new SaslSocket(b));
  const client = new TransportClient(new SaslSocket(wrapClientSocket(a)));
  return { client, server, calls, gate, serverSide };
}

for (const encrypt of [false, true]) {
  test(`qop ${encrypt ? "auth-conf" : "auth"}: RPCs and a stream owned by the appId`, async () => {
    let wire: Recorder | undefined;
    const { client, server, calls, gate, serverSide } = setup({}, (s) => (wire = new Recorder(s)));
    await sparkSaslBootstrap({ appId: "app-1", secret: SECRET, encrypt })(client, context());
    assert.equal(saslLayerOf(client)!.encrypting, encrypt);
    wire!.written = "";
    assert.equal(text(await client.sendRpc(utf8("hello"))), "hello");
    assert.equal(wire!.written.includes("hello"), !encrypt, "the RPC is unreadable on the wire");
    // 200 000 bytes: four wrapped blocks each way when encrypting.
    const big = pattern(200_000, 7);
    assert.deepEqual(await client.sendRpc(big), big);
    const reply = await client.sendRpc(utf8("open:1"));
    const id = new DataView(reply.buffer, reply.byteOffset, reply.byteLength).getBigInt64(0);
    const chunk = await client.fetchChunk(id, 0);
    assert.deepEqual(chunk, pattern(1000, 1));
    assert.equal(gate.principalOf(serverSide[0]!), "app-1");
    assert.equal(saslLayerOf(serverSide[0]!)!.encrypting, encrypt);
    assert.deepEqual(calls, ["rpc:5", "rpc:200000", "rpc:6"]);
    await client.close();
    await server.close();
  });
}

test("a wrong secret: AuthError naming the appId, connection closed, nothing processed", async () => {
  const failures: unknown[] = [];
  const { client, server, calls } = setup({ onAuthFailure: (_a, r) => failures.push(r) });
  await assert.rejects(
    sparkSaslBootstrap({ appId: "app-1", secret: "wrong-secret" })(client, context()),
    (error: unknown) =>
      error instanceof AuthError && /appId 'app-1'/.test(error.message) &&
      /Mismatched response/.test(error.message) && !error.message.includes("\n"),
  );
  const closed = await client.closed;
  assert.equal(closed.error, undefined, "the server closed the connection gracefully");
  assert.deepEqual(calls, []);
  assert.match(String(failures[0]), /appId 'app-1'.*Mismatched response/);
  await server.close();
});

test("qop mismatch: a client without encryption against an always-encrypt server", async () => {
  const { client, server } = setup({ alwaysEncrypt: true });
  await assert.rejects(
    sparkSaslBootstrap({ appId: "app-1", secret: SECRET })(client, context()),
    /appId 'app-1'.*qop mismatch.*offers auth-conf.*encrypt: true/,
  );
  await client.close();
  await server.close();
});

test("a server without SASL: the client says so instead of hanging or guessing", async () => {
  const server = new TransportServer({ rpcHandler: { receive: (_c, m) => m } });
  const [a, b] = memorySocketPair();
  server.accept(b);
  const client = new TransportClient(a);
  await assert.rejects(
    sparkSaslBootstrap({ appId: "app-1", secret: SECRET })(client, context()),
    (error: unknown) =>
      error instanceof AuthError && /not a DIGEST-MD5 challenge/.test(error.message),
  );
  await client.close();
  await server.close();
});

test("a Spark-style refusal (no SASL on the server) is named as such", async () => {
  const server = new TransportServer({
    rpcHandler: {
      receive: () => {
        throw new Error(
          "java.lang.IllegalStateException: Expected SaslMessage, received something else\n\tat x",
        );
      },
    },
    onHandlerError: () => {},
  });
  const [a, b] = memorySocketPair();
  server.accept(b);
  const client = new TransportClient(a);
  await assert.rejects(
    sparkSaslBootstrap({ appId: "app-1", secret: SECRET })(client, context()),
    /appId 'app-1'.*refused the SASL hello.*is spark.authenticate enabled/,
  );
  await client.close();
  await server.close();
});

test("encrypt: true without the SASL layer is refused before anything is sent", async () => {
  const [a, b] = memorySocketPair();
  const client = new TransportClient(a);
  await assert.rejects(
    sparkSaslBootstrap({ appId: "app-1", secret: SECRET, encrypt: true })(client, context()),
    /withSaslLayer/,
  );
  await client.close(new Error("test over"));
  b.close();
});

/** Keeps what was written, as latin1 text. */
class Recorder extends ForwardingSocket {
  written = "";
  override write(chunk: Uint8Array): boolean {
    this.written += String.fromCharCode(...chunk.subarray(0, 4096));
    return super.write(chunk);
  }
}

/** Flips one bit of the first byte written after `armed` is set. */
class TamperingSocket extends ForwardingSocket {
  armed = false;
  override write(chunk: Uint8Array): boolean {
    if (!this.armed) return super.write(chunk);
    this.armed = false;
    const copy = chunk.slice();
    copy[12] = copy[12]! ^ 1;
    return super.write(copy);
  }
}

test("a tampered encrypted block closes the connection with a SaslIntegrityError", async () => {
  let tamper: TamperingSocket | undefined;
  const { client, server, serverSide, calls } = setup({}, (s) => (tamper = new TamperingSocket(s)));
  await sparkSaslBootstrap({ appId: "app-1", secret: SECRET, encrypt: true })(client, context());
  tamper!.armed = true;
  await assert.rejects(client.sendRpc(utf8("hello")), ConnectionClosedError);
  const closed = await serverSide[0]!.closed;
  assert.ok(closed.error instanceof SaslIntegrityError, String(closed.error));
  assert.match(String(closed.error), /MAC does not match|bad padding/);
  assert.deepEqual(calls, []);
  await server.close();
});

test("an unknown appId fails like a wrong secret; the server alone learns why", async () => {
  const failures: string[] = [];
  const { client, server, calls } = setup({
    secret: undefined,
    secretFor: (appId) => Promise.resolve(appId === "app-1" ? SECRET : undefined),
    onAuthFailure: (_a, reason) => failures.push(String(reason)),
  });
  await assert.rejects(
    sparkSaslBootstrap({ appId: "app-2", secret: SECRET })(client, context()),
    /appId 'app-2'.*Mismatched response/,
  );
  assert.match(failures[0]!, /unknown appId 'app-2'/);
  assert.deepEqual(calls, []);
  await client.closed;
  await server.close();
});

test("a connection that does not authenticate in time is closed; onAuthFailure says why", async () => {
  const failures: unknown[] = [];
  const clock = new FakeClock();
  const { client, server, calls } = setup({
    authTimeoutMs: 20,
    clock,
    onAuthFailure: (_address, reason) => failures.push(reason),
  });
  // The deadline runs on the gate's clock: 19 ms of silence are allowed, the 20th is not.
  await settle();
  clock.advance(19);
  await settle();
  assert.equal(client.isActive, true, "open until authTimeoutMs has passed");
  assert.equal(failures.length, 0);
  clock.advance(1);
  await client.closed;
  assert.equal(failures.length, 1);
  assert.ok(failures[0] instanceof AuthError);
  assert.match(failures[0].message, /did not complete SASL authentication within 20 ms$/);
  assert.deepEqual(calls, []);
  await server.close();
});

test("an oversized digest-response is refused before it is parsed", async () => {
  const { client, server } = setup();
  const hello = new Uint8Array([0xea, 0, 0, 0, 1, 0x61, 0, 0, 0, 0]);
  await client.sendRpc(hello); // the challenge
  const big = new Uint8Array(10 + 100_000);
  big.set([0xea, 0, 0, 0, 1, 0x61]);
  new DataView(big.buffer).setInt32(6, 100_000);
  await assert.rejects(client.sendRpc(big), /digest-response of 100000 bytes, more than 4096/);
  await client.closed;
  await server.close();
});

test("the layer's sizes are validated, and a block longer than the limit closes the connection", async () => {
  const [a, b] = memorySocketPair();
  assert.throws(() => new SaslSocket(a, { blockSize: 0 }), /blockSize/);
  assert.throws(() => new SaslSocket(a, { maxBlockLength: 1.5 }), /maxBlockLength/);
  const layer = new SaslSocket(b, { maxBlockLength: 1000 });
  layer.attach({ data() {}, drain() {}, close() {} });
  a.attach({ data() {}, drain() {}, close() {} });
  layer.encryptAfterResponse(1, new SaslCipher(new Uint8Array(16), "server"));
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigInt64(0, 8n + 1001n);
  a.write(prefix);
  const closed = await layer.closed;
  assert.ok(closed.error instanceof LimitError);
  assert.match(String(closed.error), /1001 bytes, more than maxSaslBlockLength \(1000\)/);
});
