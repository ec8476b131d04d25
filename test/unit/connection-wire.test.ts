/**
 * What the engine puts on the wire: frames of one tick coalesced into one socket write, large
 * bodies passed through without a copy, order preserved, and any 63-bit id a peer uses (Spark's
 * are random) answered exactly — checked with a raw peer that speaks only the codec.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TransportClient } from "../../src/client/transport-client.ts";
import { Connection } from "../../src/connection/connection.ts";
import { encodeMessage } from "../../src/protocol/encoder.ts";
import { type Message, MessageType } from "../../src/protocol/messages.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import type { Socket, SocketSink } from "../../src/socket.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";
import {
  concat,
  pattern,
  RawPeer,
  readAll,
  RecordingSocket,
  serve,
  settle,
  text,
  utf8,
} from "../helpers/engine-fixtures.ts";

test("many frames sent in one tick go out in ONE socket write", async () => {
  const served = serve({ rpcHandler: { receive: (_c, m) => m, receiveOneWay() {} } });
  try {
    await settle();
    const before = served.clientSocket.writes.length;
    const replies: Promise<Uint8Array>[] = [];
    for (let i = 0; i < 100; i++) {
      served.client.send(utf8(`one-way ${i}`));
      replies.push(served.client.sendRpc(utf8(`rpc ${i}`)));
    }
    await settle(1);
    assert.equal(served.clientSocket.writes.length - before, 1);
    const texts = (await Promise.all(replies)).map(text);
    assert.deepEqual(texts, Array.from({ length: 100 }, (_, i) => `rpc ${i}`));
    // The server's 100 replies were produced in one tick too: one write.
    assert.equal(served.serverSocket.writes.length, 1);
    const stats = served.client.stats();
    assert.equal(stats.messagesSent, 200);
    assert.equal(stats.socketWrites, 1);
  } finally {
    await served.close();
  }
});

test("a large body is handed to the socket as the caller's own buffer (no copy), in order", async () => {
  const [a, b] = memorySocketPair();
  const socket = new RecordingSocket(a);
  const peer = new RawPeer(b);
  const client = new TransportClient(socket);
  const big = pattern(200_000, 4);
  client.send(utf8("first"));
  client.send(big);
  client.send(utf8("last"));
  const messages = await peer.received(3);
  assert.ok(socket.writes.includes(big), "the 200 kB body was written by reference");
  assert.equal(socket.writes.length, 3); // [first + header of big], big, [last]
  const bodies = messages.map((m) => (m.type === MessageType.OneWayMessage ? m.body : undefined));
  assert.equal(text(bodies[0]!), "first");
  assert.deepEqual(bodies[1], big);
  assert.equal(text(bodies[2]!), "last");
  await client.close();
});

test("a raw peer's 63-bit ids (Spark uses random ones) are answered exactly", async () => {
  const server = new TransportServer({
    rpcHandler: { receive: (_c, m) => utf8(`re:${text(m)}`) },
    streamManager: {
      getChunk: (streamId, chunkIndex) => Promise.resolve(utf8(`${streamId}/${chunkIndex}`)),
      openStream: () => Promise.reject(new Error("no streams")),
      connectionTerminated() {},
    },
  });
  const [a, b] = memorySocketPair();
  server.accept(b);
  const peer = new RawPeer(a);
  const ids = [2n ** 63n - 1n, 2n ** 53n, 9_007_199_254_740_991, 1, 0];
  for (const requestId of ids) {
    peer.send({ type: MessageType.RpcRequest, requestId, body: utf8(String(requestId)) });
  }
  peer.send({ type: MessageType.ChunkFetchRequest, streamId: 2n ** 63n - 2n, chunkIndex: 7 });
  const replies = await peer.received(ids.length + 1);
  for (const [i, requestId] of ids.entries()) {
    const reply = replies[i] as Message & { type: 4 };
    assert.equal(reply.type, MessageType.RpcResponse);
    assert.equal(reply.requestId, requestId);
    assert.equal(text(reply.body), `re:${requestId}`);
  }
  const chunk = replies[ids.length] as Message & { type: 1 };
  assert.equal(chunk.type, MessageType.ChunkFetchSuccess);
  assert.equal(chunk.streamId, 2n ** 63n - 2n);
  assert.equal(text(chunk.body), `${2n ** 63n - 2n}/7`);
  await server.close();
});

test("replies with ids nobody sent are dropped and counted; the real reply still matches", async () => {
  const [a, b] = memorySocketPair();
  const peer = new RawPeer(b);
  const client = new TransportClient(a);
  const reply = client.sendRpc(utf8("question"));
  const [request] = await peer.received(1);
  assert.equal(request!.type, MessageType.RpcRequest);
  const requestId = (request as Message & { type: 3 }).requestId;
  assert.equal(typeof requestId, "number", "Ferry's own ids stay numbers");
  peer.send({ type: MessageType.RpcResponse, requestId: 2n ** 63n - 1n, body: utf8("stray") });
  peer.send({ type: MessageType.RpcFailure, requestId: -5, error: "stray failure" });
  peer.send({ type: MessageType.ChunkFetchSuccess, streamId: 3, chunkIndex: 0, body: utf8("x") });
  peer.send({ type: MessageType.StreamResponse, streamId: "nobody", byteCount: 3 });
  peer.writeRaw(utf8("abc")); // the unmatched stream's body is skipped, keeping the sync
  peer.send({ type: MessageType.RpcResponse, requestId, body: utf8("answer") });
  assert.equal(text(await reply), "answer");
  assert.equal(client.stats().droppedReplies, 4);
  await client.close();
});

test("a stream reply for another stream than the oldest request is a protocol error", async () => {
  const [a, b] = memorySocketPair();
  const peer = new RawPeer(b);
  const client = new TransportClient(a);
  const stream = client.stream("expected");
  stream.catch(() => {});
  await peer.received(1);
  peer.send({ type: MessageType.StreamFailure, streamId: "something else", error: "x" });
  await assert.rejects(stream, /expected a reply for stream 'expected'/);
  const { error } = await client.closed;
  assert.equal((error as Error).name, "ProtocolError");
});

/** A hand-driven socket: the test delivers chunks; `resume()` delivers held ones synchronously. */
class HandDrivenSocket implements Socket {
  readonly info = { transport: "test", remoteAddress: "hand" };
  readonly bufferedAmount = 0;
  #resolveClosed!: (closed: { error: unknown }) => void;
  readonly closed = new Promise<{ error: unknown }>((resolve) => (this.#resolveClosed = resolve));
  readonly written: Uint8Array[] = [];
  /** Delivered from inside `resume()`, i.e. from inside whatever called it. */
  held: Uint8Array[] = [];
  paused = false;
  sink!: SocketSink;
  attach(sink: SocketSink): void {
    this.sink = sink;
  }
  write(chunk: Uint8Array): boolean {
    this.written.push(chunk);
    return true;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    const held = this.held;
    this.held = [];
    for (const chunk of held) this.sink.data(chunk);
  }
  close(error?: unknown): void {
    this.sink.close(error);
    this.#resolveClosed({ error });
  }
}

test("data delivered synchronously from inside resume() does not re-enter the decoder", async () => {
  const socket = new HandDrivenSocket();
  const oneWay: string[] = [];
  const client = new TransportClient(socket, {
    streamHighWaterMark: 1,
    rpcHandler: { receive: (_c, m) => m, receiveOneWay: (_c, m) => void oneWay.push(text(m)) },
  });
  const streamPromise = client.stream("s");
  const header = encodeMessage({ type: MessageType.StreamResponse, streamId: "s", byteCount: 10 });
  socket.sink.data(concat([...header, pattern(5)]));
  const stream = await streamPromise;
  assert.ok(socket.paused, "the full stream queue paused the socket");
  // While paused, the adapter holds a frame; the rest of the body still arrives (pause is best
  // effort). Its end resumes reading from inside the decoder, and resume() delivers at once.
  socket.held = [concat(encodeMessage({ type: MessageType.OneWayMessage, body: utf8("held") }))];
  socket.sink.data(pattern(5, 5));
  assert.equal(socket.paused, false);
  assert.ok(client.isActive, "no re-entrancy failure closed the connection");
  assert.deepEqual(await readAll(stream), concat([pattern(5), pattern(5, 5)]));
  assert.deepEqual(oneWay, ["held"]);
  await client.close(new Error("test over"));
});

test("MergedBlockMetaRequest: a Spark-like peer's success and failure; Ferry's server refuses it", async () => {
  const [a, b] = memorySocketPair();
  const peer = new RawPeer(b);
  const client = new TransportClient(a);
  const meta = client.sendMergedBlockMetaRequest("app-1", 3, 0, 7);
  const failing = client.sendMergedBlockMetaRequest("app-1", 3, 0, 8);
  const [first, second] = await peer.received(2);
  const request = first as Message & { type: 11 };
  assert.equal(request.type, MessageType.MergedBlockMetaRequest);
  assert.deepEqual(
    [request.appId, request.shuffleId, request.shuffleMergeId, request.reduceId],
    ["app-1", 3, 0, 7],
  );
  const body = pattern(12);
  peer.send({
    type: MessageType.MergedBlockMetaSuccess,
    requestId: request.requestId,
    numChunks: 3,
    body,
  });
  peer.send({
    type: MessageType.RpcFailure,
    requestId: (second as Message & { type: 11 }).requestId,
    error: "no such merged block",
  });
  assert.deepEqual(await meta, { numChunks: 3, body });
  await assert.rejects(failing, /no such merged block/);
  await assert.rejects(
    client.sendMergedBlockMetaRequest("app", 1.5, 0, 0),
    /shuffleId must be an integer/,
  );
  await client.close();

  const served = serve({ rpcHandler: { receive: (_c, m) => m } });
  await assert.rejects(
    served.client.sendMergedBlockMetaRequest("app-2", 1, 2, 3),
    /MergedBlockMetaRequest \(app app-2, shuffle 1, merge 2, reduce 3\) is not supported/,
  );
  await served.close();
});

test("frames sent from a written-callback during a flush all go out, in order", async () => {
  const [a, b] = memorySocketPair();
  const peer = new RawPeer(b);
  const connection = new Connection(a, {
    maxFrameLength: 1 << 20,
    writeHardCap: 1 << 24,
    connectionTimeoutMs: 0,
    streamHighWaterMark: 1 << 16,
  });
  connection.start({ handle: () => undefined, terminate() {}, serving: 0 });
  const sendChain = (index: number) => {
    // Each frame's callback sends the next one, from inside the writer's flush; a large body in
    // between makes the entries queued by the callback land behind the flushed ones.
    const body = index % 2 === 0 ? utf8(`frame ${index}`) : pattern(40_000, index);
    connection.send(
      { type: MessageType.OneWayMessage, body },
      index < 5 ? () => sendChain(index + 1) : undefined,
    );
  };
  sendChain(0);
  const messages = await peer.received(6);
  const bodies = messages.map((m) => (m.type === MessageType.OneWayMessage ? m.body : undefined));
  for (let index = 0; index < 6; index++) {
    const expected = index % 2 === 0 ? utf8(`frame ${index}`) : pattern(40_000, index);
    assert.deepEqual(bodies[index], expected);
  }
  connection.close();
  await connection.closed;
});
