/**
 * The protocol engine over real loopback TCP (Node adapter): the essentials of the memory-pair
 * tests, where kernel buffers, partial reads and real resets are in play.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { tcpConnect, tcpListen } from "../../adapters/node/tcp.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { ConnectionClosedError, RemoteError, TimeoutError } from "../../src/errors.ts";
import type { Peer } from "../../src/responder/peer.ts";
import type { RpcHandler } from "../../src/responder/rpc-handler.ts";
import type { StreamBody, StreamManager } from "../../src/responder/stream-manager.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import type { SocketListener } from "../../src/socket.ts";
import { concat, pattern, readAll, text, utf8 } from "../helpers/engine-fixtures.ts";

const host = "127.0.0.1";
const oneWayLog: string[] = [];
/** Server-side handles of connections that sent `hang`. */
const hangingClients: Peer[] = [];

const rpcHandler: RpcHandler = {
  receive(client, message) {
    const body = text(message.subarray(0, 16));
    if (body.startsWith("fail:")) throw new Error(text(message));
    if (body === "hang") {
      hangingClients.push(client);
      return new Promise<Uint8Array>(() => {});
    }
    if (body === "ask-back") return client.sendRpc(utf8("server asks"));
    return message;
  },
  receiveOneWay(_client, message) {
    oneWayLog.push(text(message));
  },
  async receiveStream(_client, meta, body) {
    const bytes = await readAll(body);
    return concat([meta, utf8(`:${bytes.byteLength}:${checksum(bytes)}`)]);
  },
};

const streamManager: StreamManager = {
  getChunk: (streamId, chunkIndex) =>
    Promise.resolve(pattern(70_000, Number(streamId) * 31 + chunkIndex)),
  openStream(streamId): Promise<StreamBody> {
    const match = /^gen:(\d+)$/.exec(streamId);
    if (!match) return Promise.reject(new Error(`Stream '${streamId}' was not found.`));
    const size = Number(match[1]);
    const data = pattern(size, 1);
    const pieces: Uint8Array[] = [];
    for (let at = 0; at < size; at += 256 * 1024) pieces.push(data.subarray(at, at + 256 * 1024));
    return Promise.resolve({ byteLength: size, body: pieces });
  },
  connectionTerminated() {},
};

function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (const byte of bytes) sum = (sum * 31 + byte) >>> 0;
  return sum;
}

let server: TransportServer;
let listener: SocketListener;
let client: TransportClient;

before(async () => {
  server = new TransportServer({ rpcHandler, streamManager });
  listener = await server.listen(tcpListen({ host, port: 0 }));
  client = await TransportClient.connect(tcpConnect({ host, port: listener.address.port }), {
    rpcHandler: { receive: (_c, m) => utf8(`client answers '${text(m)}'`) },
  });
});

after(async () => {
  await client.close();
  await server.close();
});

test("RPC over TCP: echo, empty, 4 MiB, 20 concurrent, failure, one-way", async () => {
  assert.equal(text(await client.sendRpc(utf8("hello"))), "hello");
  assert.equal((await client.sendRpc(new Uint8Array(0))).byteLength, 0);
  const big = pattern(4 * 1024 * 1024, 7);
  assert.deepEqual(await client.sendRpc(big), big);
  const replies = await Promise.all(
    Array.from({ length: 20 }, (_, i) => client.sendRpc(utf8(`msg-${i}`))),
  );
  assert.deepEqual(replies.map(text), Array.from({ length: 20 }, (_, i) => `msg-${i}`));
  const failure = await client.sendRpc(utf8("fail:boom")).catch((error) => error);
  assert.ok(failure instanceof RemoteError);
  assert.match(failure.remoteMessage, /boom/);
  client.send(utf8("ping-oneway-1"));
  client.send(utf8("ping-oneway-2"));
  assert.equal(text(await client.sendRpc(utf8("sync"))), "sync");
  assert.deepEqual(oneWayLog.slice(-2), ["ping-oneway-1", "ping-oneway-2"]);
});

test("server → client RPC on the same TCP connection", async () => {
  assert.equal(text(await client.sendRpc(utf8("ask-back"))), "client answers 'server asks'");
});

test("chunks, streams and uploads over TCP", async () => {
  const chunks = await Promise.all([0, 1, 2, 3].map((k) => client.fetchChunk(2, k)));
  chunks.forEach((chunk, k) => assert.deepEqual(chunk, pattern(70_000, 62 + k)));
  const stream = await client.stream("gen:8000000");
  assert.equal(stream.byteLength, 8_000_000);
  assert.deepEqual(await readAll(stream), pattern(8_000_000, 1));
  assert.equal((await readAll(await client.stream("gen:0"))).byteLength, 0);
  await assert.rejects(client.stream("nope"), /Stream 'nope' was not found\./);
  const data = pattern(5 * 1024 * 1024, 3);
  async function* pieces() {
    for (let at = 0; at < data.byteLength; at += 100_000) yield data.subarray(at, at + 100_000);
  }
  const reply = await client.uploadStream(utf8("up1"), pieces(), { byteLength: data.byteLength });
  assert.equal(text(reply), `up1:${data.byteLength}:${checksum(data)}`);
  assert.equal(text(await client.sendRpc(utf8("bye"))), "bye");
});

test("a slow stream reader: backpressure holds the sender, every byte arrives", async () => {
  const stream = await client.stream("gen:16000000");
  const reader = stream.getReader();
  let received = 0;
  const parts: Uint8Array[] = [];
  await new Promise((resolve) => setTimeout(resolve, 50));
  // The sender cannot have pushed everything into a paused connection.
  assert.ok(client.stats().bytesReceived < 16_000_000);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    parts.push(value);
  }
  assert.equal(received, 16_000_000);
  assert.deepEqual(concat(parts), pattern(16_000_000, 1));
});

test("a server-side reset fails the client's in-flight requests with ConnectionClosedError", async () => {
  const other = await TransportClient.connect(tcpConnect({ host, port: listener.address.port }));
  const hanging = other.sendRpc(utf8("hang"));
  const fetching = other.fetchChunk(1, 0);
  await fetching;
  const serverSide = hangingClients.at(-1);
  assert.ok(serverSide, "the server saw the hanging RPC");
  serverSide.close(new Error("reset by test"));
  const error = await hanging.catch((error) => error);
  assert.ok(error instanceof ConnectionClosedError, String(error));
  assert.ok(error.cause !== undefined);
  assert.equal(other.isActive, false);
  // The first client is unaffected.
  assert.equal(text(await client.sendRpc(utf8("still"))), "still");
});

test("garbage from a raw TCP peer closes that connection only", async () => {
  const raw = net.connect(listener.address.port, host);
  await new Promise<void>((resolve) => raw.once("connect", () => resolve()));
  const closed = new Promise<void>((resolve) => raw.once("close", () => resolve()));
  raw.on("error", () => {});
  raw.write(Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 9, 77]));
  await closed;
  assert.equal(text(await client.sendRpc(utf8("unaffected"))), "unaffected");
});

test("connectionTimeoutMs closes a TCP connection whose peer went quiet", async () => {
  const silent = net.createServer((socket) => socket.on("error", () => {}));
  await new Promise<void>((resolve) => silent.listen(0, host, () => resolve()));
  const port = (silent.address() as net.AddressInfo).port;
  try {
    const quiet = await TransportClient.connect(tcpConnect({ host, port }), {
      connectionTimeoutMs: 50,
    });
    const error = await quiet.sendRpc(utf8("anyone?")).catch((error) => error);
    assert.ok(error instanceof ConnectionClosedError, String(error));
    assert.ok(error.cause instanceof TimeoutError);
    await quiet.closed;
  } finally {
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }
});
