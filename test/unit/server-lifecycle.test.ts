/**
 * TransportServer lifecycle: handler callbacks on open and close, listeners coming and going,
 * refusing work once closed, and a close that always finishes (peers that never finish a graceful
 * close are reset after the grace period).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TransportClient } from "../../src/client/transport-client.ts";
import { ConnectionClosedError } from "../../src/errors.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { FakeClock, settle } from "../helpers/fake-clock.ts";
import { memoryNetwork, memorySocketPair } from "../helpers/memory-socket.ts";
import { RawPeer, serve, text, utf8 } from "../helpers/engine-fixtures.ts";

test("channelActive, then connectionTerminated and channelInactive once per connection", async () => {
  const events: string[] = [];
  const served = serve({
    rpcHandler: {
      receive: (_c, m) => m,
      channelActive: (client) => events.push(`active ${client.isActive}`),
      channelInactive: (_client, error) => events.push(`inactive ${String(error)}`),
    },
    streamManager: {
      getChunk: () => Promise.reject(new Error("none")),
      openStream: () => Promise.reject(new Error("none")),
      connectionTerminated: (owner) => events.push(`terminated ${owner.isActive}`),
    },
  });
  assert.deepEqual(events, ["active true"]);
  assert.equal(text(await served.client.sendRpc(utf8("x"))), "x");
  await served.client.close();
  await served.serverSide.closed;
  assert.deepEqual(events, ["active true", "terminated false", "inactive undefined"]);
  await served.server.close();
  assert.equal(events.length, 3);
});

test("a throwing lifecycle callback is reported; the connection is still served", async () => {
  const reported: string[] = [];
  const served = serve({
    rpcHandler: {
      receive: (_c, m) => m,
      channelActive() {
        throw new Error("active broke");
      },
      channelInactive() {
        throw new Error("inactive broke");
      },
    },
    onHandlerError: (error, context) => reported.push(`${context}: ${(error as Error).message}`),
  });
  assert.equal(text(await served.client.sendRpc(utf8("ok"))), "ok");
  await served.close();
  assert.deepEqual(reported, [
    "RpcHandler.channelActive: active broke",
    "RpcHandler.channelInactive: inactive broke",
  ]);
});

test("closing one listener keeps the others and the connections; a closed server refuses sockets", async () => {
  const server = new TransportServer({ rpcHandler: { receive: (_c, m) => m } });
  const one = memoryNetwork({ label: "one" });
  const two = memoryNetwork({ label: "two" });
  const listenerOne = await server.listen(one.listen);
  await server.listen(two.listen);
  const client = await TransportClient.connect(one.connect);
  await listenerOne.close();
  await assert.rejects(TransportClient.connect(one.connect), { code: "ERR_CONNECT" });
  assert.equal(text(await client.sendRpc(utf8("still"))), "still");
  const viaTwo = await TransportClient.connect(two.connect);
  assert.equal(text(await viaTwo.sendRpc(utf8("two"))), "two");
  assert.equal(server.connections.size, 2);
  await server.close();
  assert.equal(server.isClosed, true);
  assert.equal(server.connections.size, 0);
  const [a, b] = memorySocketPair();
  assert.throws(() => server.accept(b), ConnectionClosedError);
  const { error } = await a.closed;
  assert.ok(error instanceof ConnectionClosedError, "the refused socket was closed");
  await server.close(); // idempotent
});

test("close() resets connections whose peer does not finish closing within closeGraceMs", async () => {
  const clock = new FakeClock();
  const server = new TransportServer({
    rpcHandler: { receive: (_c, m) => m },
    closeGraceMs: 60_000,
    clock,
  });
  const [a, b] = memorySocketPair();
  server.accept(b);
  const peer = new RawPeer(a);
  a.pause(); // never reads: a graceful close cannot complete
  let closed = false;
  const closing = server.close().then(() => (closed = true));
  // The grace runs on the server's clock: however long real time takes, no reset before it ends.
  for (let turn = 0; turn < 5; turn++) await settle();
  clock.advance(59_999);
  await settle();
  assert.equal(closed, false, "the connection keeps its grace period");
  assert.equal(server.connections.size, 1);
  clock.advance(1);
  await closing;
  assert.equal(server.connections.size, 0);
  a.resume();
  await peer.received(Infinity);
  assert.ok(peer.closedWith?.error instanceof ConnectionClosedError);
});

test("TransportClient.connect honours an aborted signal and rejects a non-function", async () => {
  const network = memoryNetwork();
  const controller = new AbortController();
  controller.abort(new Error("stop"));
  await assert.rejects(
    TransportClient.connect(network.connect, { signal: controller.signal }),
    /stop/,
  );
  await assert.rejects(
    TransportClient.connect("tcp://x" as unknown as Parameters<typeof TransportClient.connect>[0]),
    /expected a Connect function/,
  );
});
