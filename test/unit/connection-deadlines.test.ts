/**
 * The deadlines a connection keeps on its peer (src/connection/connection-deadlines.ts), over the
 * memory pair with short deadlines: a peer that never speaks or drips bytes misses the first-frame
 * deadline; an idle connection closes gracefully, but never while a request is being served; a
 * peer that stops reading is a slow consumer. Assertions are on what closes and why, not on when.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TransportClient } from "../../src/client/transport-client.ts";
import { InvalidArgumentError, LimitError, TimeoutError } from "../../src/errors.ts";
import { encodeMessage } from "../../src/protocol/encoder.ts";
import { MessageType } from "../../src/protocol/messages.ts";
import type { RpcHandler } from "../../src/responder/rpc-handler.ts";
import { TransportServer, type TransportServerOptions } from "../../src/server/transport-server.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";
import { concat, RawPeer, settle, utf8 } from "../helpers/engine-fixtures.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Deadline timers do not keep a process alive (they are unref'd) and memory sockets hold no
 * handle, so a test waiting for a deadline keeps the event loop busy itself.
 */
async function held<T>(promise: Promise<T>): Promise<T> {
  const keepAlive = setInterval(() => {}, 1_000);
  try {
    return await promise;
  } finally {
    clearInterval(keepAlive);
  }
}

function rpcFrame(requestId: number, body: string): Uint8Array {
  return concat(encodeMessage({ type: MessageType.RpcRequest, requestId, body: utf8(body) }));
}

function accept(options: Partial<TransportServerOptions>, handler?: RpcHandler) {
  const server = new TransportServer({
    rpcHandler: handler ?? { receive: (_c, m) => m },
    streamManager: {
      getChunk: () => Promise.reject(new Error("none")),
      openStream: () => Promise.resolve({ byteLength: 8 << 20, body: [new Uint8Array(8 << 20)] }),
      connectionTerminated() {},
    },
    ...options,
  });
  const [a, b] = memorySocketPair({ highWaterMark: 64 * 1024 });
  const serverSide = server.accept(b);
  return { server, serverSide, peerSocket: a };
}

test("a peer that never sends a byte is reset at the first-frame deadline", async () => {
  const { server, serverSide, peerSocket } = accept({ firstFrameTimeoutMs: 30 });
  const peer = new RawPeer(peerSocket);
  const closed = await held(serverSide.closed);
  assert.ok(closed.error instanceof TimeoutError, String(closed.error));
  assert.match(closed.error.message, /sent no complete frame within 30 ms .*\(0 bytes received/);
  await peerSocket.closed;
  assert.ok(peer.closedWith !== undefined);
  assert.equal(server.connections.size, 0);
  await server.close();
});

test("a peer that drips bytes of a frame that never completes misses the same deadline", async () => {
  const { server, serverSide, peerSocket } = accept({ firstFrameTimeoutMs: 40, idleTimeoutMs: 0 });
  new RawPeer(peerSocket);
  const frame = rpcFrame(1, "x".repeat(1000));
  let sent = 0;
  const drip = setInterval(() => {
    if (sent < frame.byteLength) peerSocket.write(frame.subarray(sent, ++sent));
  }, 2);
  const closed = await held(serverSide.closed);
  clearInterval(drip);
  assert.ok(closed.error instanceof TimeoutError);
  assert.match(closed.error.message, /no complete frame .*\([1-9]\d* bytes received/);
  await server.close();
});

test("after its first frame, a connection with nothing in flight closes gracefully when idle", async () => {
  const { server, serverSide, peerSocket } = accept({
    firstFrameTimeoutMs: 1000,
    idleTimeoutMs: 40,
  });
  const peer = new RawPeer(peerSocket);
  peer.writeRaw(rpcFrame(7, "hello"));
  const [reply] = await peer.received(1);
  assert.equal(reply?.type, MessageType.RpcResponse);
  const closed = await held(serverSide.closed);
  assert.equal(closed.error, undefined, "idle close is a clean end");
  await peerSocket.closed;
  assert.deepEqual(peer.closedWith, { error: undefined });
  await server.close();
});

test("dripping bytes after the first frame does not keep an idle connection open", async () => {
  const { server, serverSide, peerSocket } = accept({ idleTimeoutMs: 40 });
  const peer = new RawPeer(peerSocket);
  peer.writeRaw(rpcFrame(1, "first"));
  await peer.received(1);
  const frame = rpcFrame(2, "y".repeat(5000));
  let sent = 0;
  const drip = setInterval(() => {
    if (sent < frame.byteLength) peerSocket.write(frame.subarray(sent, ++sent));
  }, 2);
  await held(serverSide.closed);
  clearInterval(drip);
  assert.ok(sent < frame.byteLength, "closed before the dripped frame completed");
  await server.close();
});

test("a request being served keeps the connection open past the idle deadline", async () => {
  let release!: (reply: Uint8Array) => void;
  const handler: RpcHandler = {
    receive: () => new Promise<Uint8Array>((resolve) => (release = resolve)),
  };
  const { server, serverSide, peerSocket } = accept({ idleTimeoutMs: 20 }, handler);
  const peer = new RawPeer(peerSocket);
  peer.writeRaw(rpcFrame(1, "slow"));
  await sleep(150);
  assert.equal(serverSide.isActive, true, "the slow handler's connection stays open");
  release(utf8("done"));
  const [reply] = await peer.received(1);
  assert.equal(reply?.type, MessageType.RpcResponse);
  const closed = await held(serverSide.closed);
  assert.equal(closed.error, undefined);
  await server.close();
});

test("a peer that stops reading a stream is closed as a slow consumer", async () => {
  const { server, serverSide, peerSocket } = accept({ slowConsumerTimeoutMs: 30 });
  const peer = new RawPeer(peerSocket);
  peer.send({ type: MessageType.StreamRequest, streamId: "big" });
  peerSocket.pause();
  const closed = await held(serverSide.closed);
  assert.ok(closed.error instanceof LimitError, String(closed.error));
  assert.match(closed.error.message, /queued above the write high-water mark for \d+ ms/);
  assert.match(closed.error.message, /slow consumer/);
  await server.close();
});

test("a client has no first-frame or idle deadline unless asked; a server has both", async () => {
  const [a, b] = memorySocketPair();
  const client = new TransportClient(a);
  const silent = new RawPeer(b);
  await sleep(60);
  assert.equal(client.isActive, true);
  await client.close();
  assert.ok(silent.closedWith !== undefined);
  assert.throws(
    () => new TransportServer({ rpcHandler: { receive: (_c, m) => m }, idleTimeoutMs: -1 }),
    InvalidArgumentError,
  );
  assert.throws(() => new TransportClient(memorySocketPair()[0], { firstFrameTimeoutMs: 1.5 }), {
    name: "InvalidArgumentError",
    message: /firstFrameTimeoutMs: expected an integer ≥ 0, got 1.5/,
  });
  await settle();
});
