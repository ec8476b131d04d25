/**
 * Per-connection caps: requests served at once (`maxConcurrentRequestsPerConnection`: refused with
 * a failure reply of each request's kind, the connection stays in sync and keeps reading, other
 * connections unaffected) and streams registered per owner (`maxStreamsPerOwner`).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ferryCancelResponder, sendFerryCancel } from "../../src/extensions/ferry-cancel.ts";
import { InvalidArgumentError, LimitError, RemoteError } from "../../src/errors.ts";
import { defaultLimits } from "../../src/limits.ts";
import { OneForOneStreamManager } from "../../src/responder/one-for-one-stream-manager.ts";
import type { RpcHandler } from "../../src/responder/rpc-handler.ts";
import { TransferBudget } from "../../src/responder/transfer-budget.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { readAll, serve, settle, text, utf8 } from "../helpers/engine-fixtures.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";

const TOO_MANY = /too many requests in flight on this connection \(3, limit 3/;

/** A handler whose async RPCs wait until released; `sync:` bodies answer at once. */
function parkedHandler() {
  const parked: (() => void)[] = [];
  const handler: RpcHandler = {
    receive: (_client, message) => {
      if (text(message).startsWith("sync:")) return message;
      return new Promise((resolve) => parked.push(() => resolve(message)));
    },
    receiveStream: async (_client, meta, body) => {
      await readAll(body);
      return meta;
    },
  };
  return { handler, parked };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000 && !condition(); i++) await settle(1);
  assert.ok(condition(), `timed out waiting for ${what}`);
}

test("requests beyond the cap are refused with their own failure kind; the connection stays usable", async () => {
  const { handler, parked } = parkedHandler();
  const pendingChunk: (() => void)[] = [];
  const manager = new OneForOneStreamManager({
    openNamedStream: (id) => ({ byteLength: id.length, body: [utf8(id)] }),
  });
  const served = serve({
    rpcHandler: handler,
    streamManager: manager,
    maxConcurrentRequestsPerConnection: 3,
  });
  const other = serve({ rpcHandler: handler, maxConcurrentRequestsPerConnection: 3 });
  try {
    const id = manager.registerStream(served.serverSide, {
      chunkCount: 4,
      getChunk: () =>
        new Promise<Uint8Array>((resolve) => pendingChunk.push(() => resolve(utf8("chunk")))),
    });
    const held = [
      served.client.sendRpc(utf8("a")),
      served.client.sendRpc(utf8("b")),
      served.client.fetchChunk(id, 0),
    ];
    await until(() => parked.length === 2 && pendingChunk.length === 1, "three being served");

    const refusals = await Promise.all([
      served.client.sendRpc(utf8("c")).catch((error) => error),
      served.client.sendRpc(utf8("sync:d")).catch((error) => error),
      served.client.fetchChunk(id, 1).catch((error) => error),
      served.client.stream("named").catch((error) => error),
      served.client.uploadStream(utf8("meta"), new Uint8Array(300_000)).catch((error) => error),
    ]);
    for (const refusal of refusals) {
      assert.ok(refusal instanceof RemoteError, String(refusal));
      assert.match(refusal.remoteMessage, TOO_MANY);
    }
    assert.match(refusals[4].remoteMessage, /its 300000 bytes were discarded/);
    assert.equal(served.serverSide.stats().refusedRequests, 5);
    // Another connection has its own count.
    const elsewhere = other.client.sendRpc(utf8("elsewhere"));
    await until(() => parked.length === 3, "the other connection's RPC");

    for (const release of parked.splice(0)) release();
    for (const release of pendingChunk.splice(0)) release();
    assert.deepEqual((await Promise.all(held)).map(text), ["a", "b", "chunk"]);
    assert.equal(text(await elsewhere), "elsewhere");
    // Slots are back: every kind is served again, and the upload's refused body did not desync.
    assert.equal(text(await served.client.sendRpc(utf8("sync:after"))), "sync:after");
    assert.equal(text(await readAll(await served.client.stream("named"))), "named");
    const upload = served.client.uploadStream(utf8("up"), new Uint8Array(1000));
    assert.equal(text(await upload), "up");
    console.log(
      `caps: 3 served, 5 more refused (RPC async and sync, chunk, stream, upload); stats ` +
        JSON.stringify({ refused: served.serverSide.stats().refusedRequests }),
    );
  } finally {
    await served.close();
    await other.close();
  }
});

test("the connection keeps reading at the cap: a cancel gets through and frees a slot", async () => {
  const pendingChunk: (() => void)[] = [];
  const manager = new OneForOneStreamManager();
  const served = serve({
    rpcHandler: { receive: (_c, m) => m },
    streamManager: manager,
    maxConcurrentRequestsPerConnection: 2,
    interceptor: ferryCancelResponder,
  });
  try {
    const id = manager.registerStream(served.serverSide, {
      chunkCount: 8,
      getChunk: () =>
        new Promise<Uint8Array>((resolve) => pendingChunk.push(() => resolve(utf8("x")))),
    });
    const controller = new AbortController();
    const first = served.client.fetchChunk(id, 0, { signal: controller.signal });
    const second = served.client.fetchChunk(id, 1);
    await until(() => pendingChunk.length === 2, "two being served");
    await assert.rejects(served.client.fetchChunk(id, 2), /limit 2/);
    controller.abort(new Error("gave up"));
    await assert.rejects(first, /gave up/);
    sendFerryCancel(served.client, { kind: "chunk", streamId: id, chunkIndex: 0 });
    await until(() => served.serverSide.stats().cancelsApplied === 1, "the cancel");
    const third = served.client.fetchChunk(id, 3);
    await until(() => pendingChunk.length === 3, "the freed slot used");
    for (const release of pendingChunk.splice(0)) release();
    assert.equal(text(await second), "x");
    assert.equal(text(await third), "x");
  } finally {
    await served.close();
  }
});

test("serving limits: defaults from limits.ts, validated, and not combinable with transferBudget", () => {
  const budget = new TransferBudget();
  assert.equal(
    budget.serving.maxConcurrentRequestsPerConnection,
    defaultLimits.maxConcurrentRequestsPerConnection,
  );
  assert.equal(budget.serving.maxCancelPaddingBytes, defaultLimits.maxCancelPaddingBytes);
  const handler = { receive: (_c: unknown, m: Uint8Array) => m };
  assert.throws(
    () => new TransportServer({ rpcHandler: handler, maxConcurrentRequestsPerConnection: 0 }),
    /maxConcurrentRequestsPerConnection: expected an integer ≥ 1, got 0/,
  );
  assert.throws(
    () => new TransportServer({ rpcHandler: handler, maxCancelPaddingBytes: -1 }),
    InvalidArgumentError,
  );
  assert.throws(
    () =>
      new TransportServer({
        rpcHandler: handler,
        transferBudget: budget,
        maxConcurrentRequestsPerConnection: 5,
      }),
    /cannot be combined with transferBudget/,
  );
  // A budget built with serving limits carries them to every connection that shares it.
  const shared = new TransferBudget(100, { maxConcurrentRequestsPerConnection: 7 });
  assert.equal(shared.serving.maxConcurrentRequestsPerConnection, 7);
});

test("a plain client serving its peer's requests applies the cap its TransferBudget carries", async () => {
  const [a, b] = memorySocketPair();
  const parked: (() => void)[] = [];
  const budget = new TransferBudget(10, { maxConcurrentRequestsPerConnection: 1 });
  const serving = new TransportClient(a, {
    rpcHandler: { receive: (_c, m) => new Promise((resolve) => parked.push(() => resolve(m))) },
    transferBudget: budget,
  });
  const asking = new TransportClient(b);
  try {
    const first = asking.sendRpc(utf8("1"));
    await until(() => parked.length === 1, "first parked");
    await assert.rejects(asking.sendRpc(utf8("2")), /limit 1/);
    parked[0]!();
    assert.equal(text(await first), "1");
  } finally {
    await asking.close();
    await serving.close();
  }
});

test("streams registered per owner are capped; releasing one makes room", async () => {
  const manager = new OneForOneStreamManager({
    maxStreamsPerOwner: 2,
    principalOf: () => "alice",
  });
  const served = serve({ rpcHandler: { receive: (_c, m) => m }, streamManager: manager });
  try {
    const first = manager.registerStream(served.serverSide, [utf8("1")]);
    manager.registerStream(served.serverSide, [utf8("2")]);
    assert.throws(
      () => manager.registerStream(served.serverSide, [utf8("3")]),
      (error: unknown) =>
        error instanceof LimitError &&
        /already has 2 streams registered, the limit \(maxStreamsPerOwner 2\)/.test(error.message),
    );
    // Another owner (a principal) has its own count.
    manager.registerStream("alice", [utf8("p1")]);
    manager.registerStream("alice", [utf8("p2")]);
    assert.throws(() => manager.registerStream("alice", [utf8("p3")]), /principal 'alice'/);
    assert.equal(manager.releaseStream(first), true);
    const third = manager.registerStream(served.serverSide, [utf8("3")]);
    assert.throws(() => manager.registerStream(served.serverSide, [utf8("4")]), LimitError);
    // Reading a stream to its end releases it, which makes room as well.
    assert.equal(text(await served.client.fetchChunk(third, 0)), "3");
    await until(() => !manager.has(third), "the read stream released");
    manager.registerStream(served.serverSide, [utf8("4")]);
    assert.equal(manager.stats().streams, 4);
    assert.throws(() => new OneForOneStreamManager({ maxStreamsPerOwner: 0 }), /positive integer/);
  } finally {
    await served.close();
  }
});
