/**
 * Failure semantics of a connection: close and reset fail everything in flight at once; a deadline
 * or abort fails one request alone; late replies are dropped and counted; protocol violations,
 * dead (quiet) connections and slow consumers close the connection with a typed cause.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TransportClient } from "../../src/client/transport-client.ts";
import {
  ConnectionClosedError,
  LimitError,
  ProtocolError,
  TimeoutError,
} from "../../src/errors.ts";
import type { RpcHandler } from "../../src/responder/rpc-handler.ts";
import type { StreamManager } from "../../src/responder/stream-manager.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";
import {
  pattern,
  RawPeer,
  readAll,
  serve,
  settle,
  text,
  utf8,
} from "../helpers/engine-fixtures.ts";

/** Never answers RPCs, chunks or streams; streams it does open send one byte, then stall. */
const neverAnswers: RpcHandler = {
  receive: () => new Promise<Uint8Array>(() => {}),
  receiveStream: () => new Promise<Uint8Array>(() => {}),
};
const stalls: StreamManager = {
  getChunk: () => new Promise<Uint8Array>(() => {}),
  openStream: (streamId) =>
    Promise.resolve(
      streamId === "stalls"
        ? {
          byteLength: 2,
          body: (async function* () {
            yield new Uint8Array([1]);
            await new Promise(() => {});
          })(),
        }
        : new Promise<never>(() => {}),
    ),
  connectionTerminated() {},
};

const settledPromises = new WeakSet<Promise<unknown>>();
/** Records when `promise` settles, so a test can check it without waiting. */
function track<T>(promise: Promise<T>): Promise<T> {
  const mark = () => settledPromises.add(promise);
  promise.then(mark, mark);
  return promise;
}
const isSettled = (promise: Promise<unknown>) => settledPromises.has(promise);

async function startEverything(client: TransportClient) {
  const midBody = await client.stream("stalls");
  const reading = track(readAll(midBody));
  reading.catch(() => {});
  const requests: Promise<unknown>[] = [
    track<unknown>(client.sendRpc(utf8("rpc"))),
    track<unknown>(client.fetchChunk(1, 0)),
    track<unknown>(client.stream("pending")),
    track<unknown>(client.uploadStream(utf8("m"), pattern(10))),
  ];
  for (const request of requests) request.catch(() => {});
  await settle();
  for (const request of [...requests, reading]) assert.equal(isSettled(request), false);
  return { requests, reading };
}

test("a reset by the peer fails every request in flight at once, with the reset as cause", async () => {
  const served = serve({ rpcHandler: neverAnswers, streamManager: stalls });
  const { requests, reading } = await startEverything(served.client);
  served.serverSide.close(new Error("server resets"));
  const { error: closeError } = await served.client.closed;
  assert.ok(closeError instanceof ConnectionClosedError);
  assert.match(closeError.message, /reset by peer/);
  // `closed` settled: by then every request has already failed (no extra turn needed).
  for (const request of requests) assert.equal(isSettled(request), true);
  for (const request of [...requests, reading]) {
    const error = await request.catch((error: unknown) => error);
    assert.ok(error instanceof ConnectionClosedError, String(error));
    assert.equal(error.cause, closeError);
  }
  assert.equal(served.client.isActive, false);
  assert.equal(served.client.stats().inFlight.total, 0);
  await served.server.close();
});

test("close() fails everything in flight at once; close(error) makes error the cause", async () => {
  for (const reason of [undefined, new Error("caller gave up")]) {
    const served = serve({ rpcHandler: neverAnswers, streamManager: stalls });
    const { requests, reading } = await startEverything(served.client);
    const closing = served.client.close(reason);
    for (const request of [...requests, reading]) {
      const error = await request.catch((error: unknown) => error);
      assert.ok(error instanceof ConnectionClosedError, String(error));
      assert.equal(error.cause, reason);
      if (reason === undefined) assert.match(error.message, /closed by this side/);
    }
    await closing;
    assert.deepEqual(await served.client.closed, { error: reason });
    await served.server.close();
  }
});

test("a deadline fails its request alone; the late reply is dropped and counted", async () => {
  const clock = new FakeClock();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const served = serve({
    rpcHandler: { receive: async (_c, m) => (await gate, m) },
    streamManager: {
      getChunk: async () => (await gate, utf8("chunk")),
      openStream: async (id) => {
        if (id === "slow") await gate;
        const data = utf8(`stream ${id}`);
        return { byteLength: data.byteLength, body: [data] };
      },
      connectionTerminated() {},
    },
  }, { requestTimeoutMs: 0, clock });
  try {
    const patient = track(served.client.sendRpc(utf8("patient")));
    const before = clock.pendingTimers; // the connection's own (its connection timeout)
    const rpcTimeout = track(served.client.sendRpc(utf8("impatient"), { timeoutMs: 5 }));
    const chunkTimeout = track(served.client.fetchChunk(1, 0, { timeoutMs: 5 }));
    const slowStream = track(served.client.stream("slow", { timeoutMs: 5 }));
    for (const promise of [rpcTimeout, chunkTimeout, slowStream]) promise.catch(() => {});
    // One timer watches every request of the client (request-deadlines.ts), not one each.
    assert.equal(clock.pendingTimers - before, 1, "one timer for the requests with deadlines");
    clock.advance(4);
    await settle();
    assert.ok(![rpcTimeout, chunkTimeout, slowStream].some(isSettled), "not before 5 ms");
    clock.advance(1);
    for (const promise of [rpcTimeout, chunkTimeout, slowStream]) {
      const error = await promise.catch((error) => error);
      assert.ok(error instanceof TimeoutError, String(error));
      assert.equal(error.timeoutMs, 5);
      assert.match(error.message, /timed out after 5 ms/);
    }
    // The stream that timed out keeps its place: the next stream gets its own reply.
    const next = served.client.stream("next");
    release();
    assert.equal(text(await patient), "patient");
    assert.equal(text(await readAll(await next)), "stream next");
    await settle();
    const stats = served.client.stats();
    assert.equal(stats.droppedReplies, 3);
    assert.equal(stats.inFlight.total, 0);
    assert.ok(served.client.isActive);
  } finally {
    await served.close();
  }
});

test("an abort fails its request alone with the signal's reason", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const served = serve({ rpcHandler: { receive: async (_c, m) => (await gate, m) } });
  try {
    const controller = new AbortController();
    const aborted = served.client.sendRpc(utf8("a"), { signal: controller.signal });
    const other = served.client.sendRpc(utf8("b"));
    const reason = new Error("user navigated away");
    controller.abort(reason);
    assert.equal(await aborted.catch((error) => error), reason);
    // Already aborted: rejected without sending anything.
    const sentBefore = served.client.stats().messagesSent;
    await assert.rejects(served.client.sendRpc(utf8("c"), { signal: controller.signal }), reason);
    assert.equal(served.client.stats().messagesSent, sentBefore);
    release();
    assert.equal(text(await other), "b");
    await settle();
    assert.equal(served.client.stats().droppedReplies, 1);
  } finally {
    await served.close();
  }
});

test("requestTimeoutMs is the default deadline of every request", async () => {
  const clock = new FakeClock();
  const served = serve({ rpcHandler: neverAnswers }, { requestTimeoutMs: 5, clock });
  try {
    const pending = track(served.client.sendRpc(utf8("x")));
    pending.catch(() => {});
    clock.advance(4);
    await settle();
    assert.equal(isSettled(pending), false, "not before requestTimeoutMs");
    clock.advance(1);
    await assert.rejects(pending, { name: "TimeoutError", message: /timed out after 5 ms/ });
    assert.ok(served.client.isActive);
  } finally {
    await served.close();
  }
});

test("garbage from a peer closes that connection with a ProtocolError; others keep working", async () => {
  const server = new TransportServer({ rpcHandler: { receive: (_c, m) => m } });
  const [goodA, goodB] = memorySocketPair({ label: "good" });
  server.accept(goodB);
  const good = new TransportClient(goodA);
  for (
    const garbage of [
      new Uint8Array([0, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]), // frame length below the minimum
      new Uint8Array([0, 0, 0, 0, 0, 0, 0, 9, 99]), // unknown message type
      new Uint8Array([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // absurd frame length
    ]
  ) {
    const [rawA, rawB] = memorySocketPair({ label: "raw" });
    const serverSide = server.accept(rawB);
    const raw = new RawPeer(rawA);
    raw.writeRaw(garbage);
    const { error } = await serverSide.closed;
    assert.ok(error instanceof ProtocolError, String(error));
    await raw.received(Infinity);
    assert.ok(raw.closedWith?.error instanceof ConnectionClosedError, "raw peer was reset");
    assert.equal(text(await good.sendRpc(utf8("still fine"))), "still fine");
  }
  assert.equal(server.connections.size, 1);
  await good.close();
  await server.close();
});

test("a peer that does not read: the write hard cap closes the connection as a slow consumer", async () => {
  const [a, b] = memorySocketPair({ highWaterMark: 16 * 1024 });
  b.attach({ data() {}, drain() {}, close() {} });
  b.pause();
  const client = new TransportClient(a, { writeHardCap: 256 * 1024 });
  const requests: Promise<Uint8Array>[] = [];
  for (let i = 0; i < 10 && client.isActive; i++) {
    const request = client.sendRpc(pattern(64 * 1024, i));
    request.catch(() => {});
    requests.push(request);
    await settle(1);
  }
  assert.equal(client.isActive, false);
  const error = await requests[0]!.catch((error) => error);
  assert.ok(error instanceof ConnectionClosedError);
  assert.ok(error.cause instanceof LimitError, String(error.cause));
  assert.match((error.cause as Error).message, /write hard cap of 262144 bytes/);
  assert.ok((await client.closed).error instanceof LimitError);
});
