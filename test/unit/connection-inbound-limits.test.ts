/**
 * A connection's inbound limits over the memory pair (issue 15, items 4 and 8):
 * - an announced body or a partial frame that stops arriving is reset at the no-progress deadline,
 *   while a body that keeps coming, or one this side stopped reading, is not;
 * - partial frames are charged to a server-wide InboundFrameBudget; a connection without room
 *   stops being read until there is some, and every charge is released when frames complete or
 *   their connections close;
 * - a request (an upload's meta too) over the server's maxFrameLength gets a failure reply naming
 *   the limit (an upload's body is skipped with it), a reply over the client's maxReplyFrameLength
 *   fails its own request with a LimitError; either way the next request on the same connection
 *   succeeds.
 * Deadlines run on a hand-driven clock: each test checks what is still open just before a deadline
 * and what closed (and why) after it, without sleeping on real time.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { InboundFrameBudget } from "../../src/connection/inbound-frame-budget.ts";
import { LimitError, RemoteError, TimeoutError } from "../../src/errors.ts";
import { encodeMessage } from "../../src/protocol/encoder.ts";
import { type Message, MessageType } from "../../src/protocol/messages.ts";
import type { StreamManager } from "../../src/responder/stream-manager.ts";
import { TransportServer, type TransportServerOptions } from "../../src/server/transport-server.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";
import {
  concat,
  pattern,
  RawPeer,
  readAll,
  serve,
  settle,
  text,
  utf8,
} from "../helpers/engine-fixtures.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

/** Moves the clock `ms` forward in `step` ms steps, letting the sockets deliver after each. */
async function pass(clock: FakeClock, ms: number, step = ms): Promise<void> {
  for (let done = 0; done < ms; done += step) {
    clock.advance(Math.min(step, ms - done));
    await settle();
  }
}

const echo = { receive: (_client: unknown, body: Uint8Array) => body };

function wire(message: Message): Uint8Array {
  return concat(encodeMessage(message));
}

function newServer(options: Partial<TransportServerOptions>) {
  return new TransportServer({ rpcHandler: echo, ...options });
}

function rawConnection(server: TransportServer) {
  const [a, b] = memorySocketPair({ highWaterMark: 64 * KiB });
  const serverSide = server.accept(b);
  return { serverSide, peer: new RawPeer(a) };
}

test("an announced stream or upload body that never comes is reset at the no-progress deadline", async () => {
  const clock = new FakeClock();
  const server = newServer({ noProgressTimeoutMs: 60, clock });
  const announced = [
    wire({ type: MessageType.StreamResponse, streamId: "s", byteCount: Number.MAX_SAFE_INTEGER }),
    wire({
      type: MessageType.UploadStream,
      requestId: 1,
      meta: utf8("m"),
      bodyByteCount: Number.MAX_SAFE_INTEGER,
    }),
    // A partial frame after one valid frame: the first-frame deadline no longer applies.
    concat([
      wire({ type: MessageType.RpcRequest, requestId: 2, body: utf8("hi") }),
      wire({
        type: MessageType.RpcRequest,
        requestId: 3,
        body: new Uint8Array(200 * KiB),
      }).subarray(0, 50 * KiB),
    ]),
  ];
  for (const bytes of announced) {
    const { serverSide, peer } = rawConnection(server);
    const started = clock.now();
    peer.writeRaw(concat([bytes, new Uint8Array(10)]));
    await settle();
    await pass(clock, 59, 1);
    assert.equal(serverSide.isActive, true, "open until the no-progress deadline");
    while (serverSide.isActive && clock.now() - started < 200) await pass(clock, 1);
    const elapsed = clock.now() - started;
    console.log(`announced bytes that stopped: closed after ${elapsed} ms (deadline 60)`);
    // Sampled every quarter of the deadline: closed between 1 and 1.5 × noProgressTimeoutMs.
    assert.ok(elapsed <= 90, `closed after ${elapsed} ms, by 1.5 × noProgressTimeoutMs`);
    const closed = await serverSide.closed;
    assert.ok(closed.error instanceof TimeoutError, String(closed.error));
    assert.match(
      closed.error.message,
      /stopped sending the frame or body .*noProgressTimeoutMs 60/,
    );
  }
  assert.equal(server.connections.size, 0);
  await server.close();
});

test("a body that keeps arriving, slowly, is not cut off", async () => {
  const clock = new FakeClock();
  const server = newServer({ noProgressTimeoutMs: 400, clock });
  const { serverSide, peer } = rawConnection(server);
  peer.writeRaw(wire({ type: MessageType.StreamResponse, streamId: "s", byteCount: 150 }));
  let failure: unknown;
  serverSide.closed.then((closed) => (failure = closed.error ?? "closed"));
  for (let i = 0; i < 150; i++) {
    peer.writeRaw(new Uint8Array(1));
    await pass(clock, 10);
  }
  await settle();
  assert.equal(failure, undefined, String(failure));
  assert.ok(serverSide.isActive);
  await server.close();
});

test("a stream this side stopped reading is not the peer's stall", async () => {
  const bodyBytes = pattern(256 * KiB, 3);
  const streamManager: StreamManager = {
    getChunk: () => Promise.reject(new Error("none")),
    openStream: () => Promise.resolve({ byteLength: bodyBytes.length, body: [bodyBytes] }),
    connectionTerminated() {},
  };
  const clock = new FakeClock();
  const served = serve(
    { rpcHandler: echo, streamManager },
    { noProgressTimeoutMs: 50, streamHighWaterMark: 4 * KiB, clock },
  );
  const stream = await served.client.stream("s");
  await settle();
  assert.ok(clock.pendingTimers > 0, "mid-body: the no-progress deadline is watched");
  await pass(clock, 400, 5); // eight deadlines with the consumer not reading (reading is paused)
  assert.ok(served.client.isActive);
  assert.deepEqual(await readAll(stream), bodyBytes);
  await served.close();
});

test("partial frames are charged to the server-wide budget; without room a connection waits", async () => {
  const budget = new InboundFrameBudget(3 * MiB);
  const clock = new FakeClock();
  const server = newServer({
    inboundFrameBudget: budget,
    maxFrameLength: 2 * MiB,
    noProgressTimeoutMs: 150,
    clock,
  });
  const frame = wire({ type: MessageType.RpcRequest, requestId: 9, body: new Uint8Array(1 * MiB) });
  const connections = Array.from({ length: 5 }, () => rawConnection(server));
  for (const [i, { peer }] of connections.entries()) {
    peer.writeRaw(wire({ type: MessageType.RpcRequest, requestId: i, body: utf8("ok") }));
    peer.writeRaw(frame.subarray(0, 64 * KiB));
  }
  await settle(10);
  console.log(
    `5 partial 1 MiB frames, budget 3 MiB: ${budget.reserved} bytes charged, ` +
      `${budget.waiting} connections waiting for room`,
  );
  assert.equal(budget.reserved, 2 * (frame.length - 8));
  assert.equal(budget.waiting, 3);
  await pass(clock, 149, 1);
  assert.equal(server.connections.size, 5, "all open until the no-progress deadline");
  await pass(clock, 76, 1);
  const closed = await Promise.all(connections.map(({ serverSide }) => serverSide.closed));
  for (const { error } of closed) assert.ok(error instanceof TimeoutError, String(error));
  console.log(
    `after the no-progress deadline: ${budget.reserved} bytes charged, ${budget.waiting} ` +
      `waiting, ${server.connections.size} connections open; peak ${budget.peak}`,
  );
  assert.equal(budget.reserved, 0);
  assert.equal(budget.waiting, 0);
  assert.ok(budget.peak <= budget.limit);
  assert.equal(server.connections.size, 0);
  await server.close();
});

test("a connection waiting for room resumes once another frame completes", async () => {
  const budget = new InboundFrameBudget(1536 * KiB);
  const server = newServer({ inboundFrameBudget: budget, maxFrameLength: 2 * MiB });
  const first = rawConnection(server);
  const second = rawConnection(server);
  const frameOf = (requestId: number) =>
    wire({ type: MessageType.RpcRequest, requestId, body: pattern(1 * MiB, requestId) });
  const a = frameOf(1);
  const b = frameOf(2);
  first.peer.writeRaw(a.subarray(0, 100 * KiB));
  await settle(5);
  second.peer.writeRaw(b.subarray(0, 100 * KiB));
  second.peer.writeRaw(b.subarray(100 * KiB));
  await settle(5);
  assert.equal(budget.waiting, 1);
  assert.equal(second.peer.messages.length, 0, "the second frame waits for room");
  first.peer.writeRaw(a.subarray(100 * KiB));
  const [replyA] = await first.peer.received(1);
  const [replyB] = await second.peer.received(1);
  assert.equal(replyA!.type, MessageType.RpcResponse);
  assert.deepEqual((replyB as { body: Uint8Array }).body, pattern(1 * MiB, 2));
  assert.equal(budget.reserved, 0);
  await server.close();
});

test("a request over the server's maxFrameLength gets a failure reply; the connection goes on", async () => {
  const served = serve({ rpcHandler: echo, maxFrameLength: 64 * KiB });
  await assert.rejects(
    served.client.sendRpc(new Uint8Array(100 * KiB)),
    (error: unknown) =>
      error instanceof RemoteError && /LimitError/.test(error.message) &&
      /RpcRequest frame of 102421 bytes is over maxFrameLength \(65536 bytes\)/.test(
        error.message,
      ),
  );
  served.client.send(new Uint8Array(100 * KiB)); // a one-way message has no reply: skipped
  assert.equal(text(await served.client.sendRpc(utf8("next"))), "next");
  assert.equal(served.serverSide.stats().oversizedFrames, 2);
  assert.ok(served.client.isActive && served.serverSide.isActive);
  await served.close();
});

test("an upload whose meta is over the server's maxFrameLength is refused; its body skipped", async () => {
  let uploads = 0;
  const handler = {
    ...echo,
    receiveStream: async (_client: unknown, _meta: Uint8Array, body: ReadableStream) => {
      uploads++;
      await body.cancel();
      return utf8("stored");
    },
  };
  const served = serve({ rpcHandler: handler, maxFrameLength: 64 * KiB });
  await assert.rejects(
    served.client.uploadStream(new Uint8Array(100 * KiB), pattern(200 * KiB, 3)),
    (error: unknown) =>
      error instanceof RemoteError && /LimitError/.test(error.message) &&
      /UploadStream frame of 102429 bytes is over maxFrameLength \(65536 bytes\)/.test(
        error.message,
      ),
  );
  // The body that followed was skipped too: the connection is in sync for what comes next.
  assert.equal(text(await served.client.sendRpc(utf8("next"))), "next");
  assert.equal(text(await served.client.uploadStream(utf8("small"), pattern(1000, 4))), "stored");
  assert.equal(uploads, 1, "only the upload within the limit reached the handler");
  assert.equal(served.serverSide.stats().oversizedFrames, 1);
  assert.ok(served.client.isActive && served.serverSide.isActive);
  await served.close();
});

test("a reply over the client's maxReplyFrameLength fails only its own request", async () => {
  const chunks = new Map([[0, pattern(200 * KiB, 1)], [1, pattern(300 * KiB, 2)]]);
  const streamManager: StreamManager = {
    getChunk: (_streamId, index) => Promise.resolve(chunks.get(index)!),
    openStream: () => Promise.reject(new Error("none")),
    connectionTerminated() {},
  };
  const served = serve(
    { rpcHandler: echo, streamManager },
    { maxFrameLength: 128 * KiB, maxReplyFrameLength: 256 * KiB },
  );
  const big = served.client.fetchChunk(5, 0);
  const tooBig = served.client.fetchChunk(5, 1);
  const tooBigRpc = served.client.sendRpc(new Uint8Array(260 * KiB));
  const after = served.client.sendRpc(utf8("after"));
  assert.deepEqual(await big, chunks.get(0), "over maxFrameLength, within maxReplyFrameLength");
  await assert.rejects(
    tooBig,
    (error: unknown) =>
      error instanceof LimitError &&
      /chunk 1 of stream 5 .*ChunkFetchSuccess frame of 307221 bytes is over maxReplyFrameLength/
        .test(error.message),
  );
  await assert.rejects(tooBigRpc, /RpcResponse frame of \d+ bytes is over maxReplyFrameLength/);
  assert.equal(text(await after), "after");
  assert.equal(served.client.stats().droppedReplies, 0);
  assert.equal(served.client.stats().oversizedFrames, 2);
  await served.close();
});

test("the new options are validated, naming the option", () => {
  const bad: Array<[Partial<TransportServerOptions>, RegExp]> = [
    [{ maxReplyFrameLength: 2 ** 31 }, /maxReplyFrameLength: expected at most 2147483647/],
    [{ maxReplyFrameLength: 8 }, /maxReplyFrameLength: expected an integer ≥ 9/],
    [{ noProgressTimeoutMs: -1 }, /noProgressTimeoutMs/],
    [{ maxInboundFrameBytes: 0 }, /maxInboundFrameBytes/],
    [{ inboundFrameBudget: {} as InboundFrameBudget }, /inboundFrameBudget: expected/],
  ];
  for (const [options, message] of bad) {
    assert.throws(() => newServer(options), message);
  }
  newServer({ maxReplyFrameLength: 2 ** 31 - 1 }); // Spark's ceiling itself is fine
});

test("a request larger than the whole inbound budget is refused by name; the server goes on", async () => {
  const budget = new InboundFrameBudget(100 * KiB);
  const served = serve({ rpcHandler: echo, inboundFrameBudget: budget, maxFrameLength: 1 * MiB });
  await assert.rejects(
    served.client.sendRpc(new Uint8Array(200 * KiB)),
    (error: unknown) =>
      error instanceof RemoteError &&
      /RpcRequest frame of 204821 bytes is over maxInboundFrameBytes \(102400 bytes\)/.test(
        error.message,
      ),
  );
  assert.equal(text(await served.client.sendRpc(utf8("still served"))), "still served");
  assert.equal(budget.peak, 0, "nothing was charged for the refused frame");
  await served.close();
});
