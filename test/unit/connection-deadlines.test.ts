/**
 * The deadlines a connection keeps on its peer (src/connection/connection-deadlines.ts), over the
 * memory pair on a hand-driven clock: a peer that never speaks or drips bytes misses the
 * first-frame deadline; an idle connection closes gracefully, but never while a request is being
 * served; a peer that stops reading is a slow consumer; a client waiting on a dead peer closes at
 * its connection timeout. Each test checks that the connection is still open just before its
 * deadline and closed (and why) once it has passed; no test sleeps on real time.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TransportClient } from "../../src/client/transport-client.ts";
import {
  ConnectionClosedError,
  InvalidArgumentError,
  LimitError,
  TimeoutError,
} from "../../src/errors.ts";
import { encodeMessage } from "../../src/protocol/encoder.ts";
import { MessageType } from "../../src/protocol/messages.ts";
import type { RpcHandler } from "../../src/responder/rpc-handler.ts";
import { TransportServer, type TransportServerOptions } from "../../src/server/transport-server.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";
import { concat, RawPeer, settle, utf8 } from "../helpers/engine-fixtures.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

function rpcFrame(requestId: number, body: string): Uint8Array {
  return concat(encodeMessage({ type: MessageType.RpcRequest, requestId, body: utf8(body) }));
}

function accept(options: Partial<TransportServerOptions>, handler?: RpcHandler) {
  const clock = new FakeClock();
  const server = new TransportServer({
    rpcHandler: handler ?? { receive: (_c, m) => m },
    streamManager: {
      getChunk: () => Promise.reject(new Error("none")),
      openStream: () => Promise.resolve({ byteLength: 8 << 20, body: [new Uint8Array(8 << 20)] }),
      connectionTerminated() {},
    },
    clock,
    ...options,
  });
  const [a, b] = memorySocketPair({ highWaterMark: 64 * 1024 });
  const serverSide = server.accept(b);
  return { clock, server, serverSide, peerSocket: a };
}

/** Moves the clock `ms` forward in `step` ms steps, letting the sockets deliver after each. */
async function pass(clock: FakeClock, ms: number, step = ms): Promise<void> {
  for (let done = 0; done < ms; done += step) {
    clock.advance(Math.min(step, ms - done));
    await settle();
  }
}

test("a peer that never sends a byte is reset at the first-frame deadline", async () => {
  const { clock, server, serverSide, peerSocket } = accept({ firstFrameTimeoutMs: 30 });
  const peer = new RawPeer(peerSocket);
  await pass(clock, 29);
  assert.equal(serverSide.isActive, true, "open until the deadline");
  await pass(clock, 1);
  const closed = await serverSide.closed;
  assert.ok(closed.error instanceof TimeoutError, String(closed.error));
  assert.match(closed.error.message, /sent no complete frame within 30 ms .*\(0 bytes received/);
  await peerSocket.closed;
  assert.ok(peer.closedWith !== undefined);
  assert.equal(server.connections.size, 0);
  assert.equal(clock.pendingTimers, 0, "a closed connection leaves no timer");
  await server.close();
});

test("a peer that drips bytes of a frame that never completes misses the same deadline", async () => {
  const { clock, server, serverSide, peerSocket } = accept({
    firstFrameTimeoutMs: 40,
    idleTimeoutMs: 0,
  });
  new RawPeer(peerSocket);
  const frame = rpcFrame(1, "x".repeat(1000));
  let sent = 0;
  while (serverSide.isActive && clock.now() < 2_000) {
    peerSocket.write(frame.subarray(sent, ++sent));
    await pass(clock, 2);
    if (clock.now() - 1_000 < 40) assert.equal(serverSide.isActive, true, `at ${clock.now()}`);
  }
  const closed = await serverSide.closed;
  assert.ok(closed.error instanceof TimeoutError);
  assert.match(closed.error.message, /no complete frame .*\([1-9]\d* bytes received/);
  assert.equal(sent, 20, "closed 40 ms after opening, 2 ms per byte");
  await server.close();
});

test("after its first frame, a connection with nothing in flight closes gracefully when idle", async () => {
  const { clock, server, serverSide, peerSocket } = accept({
    firstFrameTimeoutMs: 1000,
    idleTimeoutMs: 40,
  });
  const peer = new RawPeer(peerSocket);
  peer.writeRaw(rpcFrame(7, "hello"));
  const [reply] = await peer.received(1);
  assert.equal(reply?.type, MessageType.RpcResponse);
  await pass(clock, 39, 1);
  assert.equal(serverSide.isActive, true, "open for the idle deadline after its last frame");
  await pass(clock, 11, 1); // sampled every quarter: closed by 1.25 × idleTimeoutMs
  assert.equal(serverSide.isActive, false);
  const closed = await serverSide.closed;
  assert.equal(closed.error, undefined, "idle close is a clean end");
  await peerSocket.closed;
  assert.deepEqual(peer.closedWith, { error: undefined });
  await server.close();
});

test("dripping bytes after the first frame does not keep an idle connection open", async () => {
  const { clock, server, serverSide, peerSocket } = accept({ idleTimeoutMs: 40 });
  const peer = new RawPeer(peerSocket);
  peer.writeRaw(rpcFrame(1, "first"));
  await peer.received(1);
  const frame = rpcFrame(2, "y".repeat(5000));
  let sent = 0;
  while (serverSide.isActive && sent < frame.byteLength) {
    peerSocket.write(frame.subarray(sent, ++sent));
    await pass(clock, 2);
  }
  await serverSide.closed;
  assert.ok(sent <= 25, `closed by 1.25 × idleTimeoutMs of dripping (${sent} bytes sent)`);
  await server.close();
});

test("a request being served keeps the connection open past the idle deadline", async () => {
  let release!: (reply: Uint8Array) => void;
  const handler: RpcHandler = {
    receive: () => new Promise<Uint8Array>((resolve) => (release = resolve)),
  };
  const { clock, server, serverSide, peerSocket } = accept({ idleTimeoutMs: 20 }, handler);
  const peer = new RawPeer(peerSocket);
  peer.writeRaw(rpcFrame(1, "slow"));
  await settle();
  await pass(clock, 150, 5);
  assert.equal(serverSide.isActive, true, "the slow handler's connection stays open");
  release(utf8("done"));
  const [reply] = await peer.received(1);
  assert.equal(reply?.type, MessageType.RpcResponse);
  await pass(clock, 30, 5);
  const closed = await serverSide.closed;
  assert.equal(closed.error, undefined);
  await server.close();
});

test("a peer that stops reading a stream is closed as a slow consumer", async () => {
  const { clock, server, serverSide, peerSocket } = accept({ slowConsumerTimeoutMs: 30 });
  const peer = new RawPeer(peerSocket);
  peer.send({ type: MessageType.StreamRequest, streamId: "big" });
  peerSocket.pause();
  await settle();
  assert.ok(serverSide.stats().queuedBytes > 0, "the reply waits for the peer to read");
  await pass(clock, 29);
  assert.equal(serverSide.isActive, true, "open until the deadline");
  await pass(clock, 1);
  const closed = await serverSide.closed;
  assert.ok(closed.error instanceof LimitError, String(closed.error));
  assert.match(closed.error.message, /queued above the write high-water mark for 30 ms/);
  assert.match(closed.error.message, /slow consumer/);
  await server.close();
});

test("connectionTimeoutMs closes a connection that is quiet while requests are outstanding", async () => {
  const clock = new FakeClock();
  const [a, b] = memorySocketPair();
  const peer = new RawPeer(b); // reads requests, never answers
  const client = new TransportClient(a, { connectionTimeoutMs: 20, clock });
  assert.equal(clock.pendingTimers, 0, "nothing outstanding: no timer");
  const pending = client.sendRpc(utf8("anyone?")).catch((error) => error);
  assert.equal(clock.pendingTimers, 1, "one timer per connection watches it");
  await pass(clock, 10, 1);
  // Bytes from the peer (a frame it never finishes) count as life, not just complete frames.
  peer.writeRaw(new Uint8Array([0, 0, 0]));
  await settle();
  await pass(clock, 19, 1);
  assert.equal(client.isActive, true, "quiet for less than 20 ms since the peer's last byte");
  await pass(clock, 6, 1); // sampled every quarter: closed by 1.25 × connectionTimeoutMs
  assert.equal(client.isActive, false);
  const error = await pending;
  assert.ok(error instanceof ConnectionClosedError, String(error));
  assert.ok(error.cause instanceof TimeoutError, String(error.cause));
  assert.match((error.cause as Error).message, /quiet for 2\d ms while requests are outstanding/);
  const { error: closeError } = await client.closed;
  assert.ok(closeError instanceof TimeoutError);
  await peer.received(Infinity);
  assert.equal(peer.messages[0]?.type, MessageType.RpcRequest);
  assert.equal(clock.pendingTimers, 0);
});

test("connectionTimeoutMs does not close an idle connection with nothing outstanding", async () => {
  const clock = new FakeClock();
  const [a, b] = memorySocketPair();
  const server = new TransportServer({ rpcHandler: { receive: (_c, m) => m } });
  server.accept(b);
  const client = new TransportClient(a, { connectionTimeoutMs: 10, clock });
  assert.equal(new TextDecoder().decode(await client.sendRpc(utf8("1"))), "1");
  await pass(clock, 200, 5);
  assert.ok(client.isActive);
  assert.equal(clock.pendingTimers, 0, "the watch stops once nothing is outstanding");
  assert.equal(new TextDecoder().decode(await client.sendRpc(utf8("2"))), "2");
  await client.close();
  await server.close();
});

test("all of a server connection's deadlines share one timer", async () => {
  const { clock, server, serverSide, peerSocket } = accept({
    firstFrameTimeoutMs: 1_000,
    idleTimeoutMs: 500,
    connectionTimeoutMs: 300,
    noProgressTimeoutMs: 200,
  });
  const peer = new RawPeer(peerSocket);
  assert.equal(clock.pendingTimers, 1);
  peer.writeRaw(rpcFrame(1, "hello"));
  await peer.received(1);
  // The server calls the peer back (connection timeout watched) while a frame is half sent.
  const callback = serverSide.sendRpc(utf8("back"));
  callback.catch(() => {});
  peer.writeRaw(rpcFrame(2, "half").subarray(0, 5));
  await settle();
  assert.equal(clock.pendingTimers, 1, "first frame, idle, no progress and quiet: one timer");
  await serverSide.close();
  assert.equal(clock.pendingTimers, 0);
  await server.close();
});

test("a client has no first-frame or idle deadline unless asked; a server has both", async () => {
  const clock = new FakeClock();
  const [a, b] = memorySocketPair();
  const client = new TransportClient(a, { clock });
  const silent = new RawPeer(b);
  assert.equal(clock.pendingTimers, 0, "an idle client arms no timer");
  await pass(clock, 3_600_000);
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
  assert.throws(
    () => new TransportClient(memorySocketPair()[0], { clock: {} as never }),
    /Invalid ClientOptions.clock: expected a Clock/,
  );
  await settle();
});
