/**
 * Node's `diagnostics_channel` sees Ferry's events once the Node adapter is imported: a subscriber
 * gets both connections opening (client and server role), each request on the client and server
 * channels — the same object at start and end, ended with its duration and outcome — and the
 * connections closing. Unsubscribed, the channels publish nothing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import diagnosticsChannel from "node:diagnostics_channel";
import { OneForOneStreamManager, TransportClient, TransportServer } from "../../src/mod.ts";
import {
  type ConnectionEvent,
  ferryChannelNames,
  type RequestEvent,
} from "../../src/observability/mod.ts";
import { tcpConnect, tcpListen } from "../../adapters/node/mod.ts";

test("diagnostics_channel subscribers see connections and requests on both sides", async () => {
  const seen = new Map<string, unknown[]>();
  const subscribers = Object.values(ferryChannelNames).map((name) => {
    const subscriber = (message: unknown) => {
      const list = seen.get(name) ?? [];
      list.push(message);
      seen.set(name, list);
    };
    diagnosticsChannel.subscribe(name, subscriber);
    return () => diagnosticsChannel.unsubscribe(name, subscriber);
  });
  try {
    const streams = new OneForOneStreamManager();
    const server = new TransportServer({
      rpcHandler: { receive: (_client, body) => body },
      streamManager: streams,
    });
    const listener = await server.listen(tcpListen({ host: "127.0.0.1", port: 0 }));
    const client = await TransportClient.connect(
      tcpConnect({ host: "127.0.0.1", port: listener.address.port }),
    );
    await client.sendRpc(new Uint8Array(5));
    const deadline = Date.now() + 10_000;
    while (server.connections.size === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const streamId = streams.registerStream([...server.connections][0]!, {
      chunkCount: 1,
      getChunk: () => new Uint8Array(100),
    });
    await assert.rejects(client.fetchChunk(streamId, 3));
    await client.close();
    await server.close();

    const opened = (seen.get("ferry:connection:open") ?? []) as ConnectionEvent[];
    assert.deepEqual(opened.map((event) => event.role).sort(), ["client", "server"]);
    assert.ok(opened.every((event) => event.transport === "tcp"));
    const closed = seen.get("ferry:connection:close") ?? [];
    assert.equal(closed.length, 2);
    assert.ok(closed.every((event) => opened.includes(event as ConnectionEvent)));

    const started = (seen.get("ferry:client:request") ?? []) as RequestEvent[];
    const ended = (seen.get("ferry:client:response") ?? []) as RequestEvent[];
    assert.deepEqual(started.map((request) => request.type), ["RpcRequest", "ChunkFetchRequest"]);
    assert.deepEqual(ended, started, "the same objects, ended");
    assert.equal(ended[0]!.errorType, undefined);
    assert.equal(typeof ended[0]!.durationMs, "number");
    assert.equal(ended[1]!.errorType, "ChunkFetchFailure");
    assert.equal(ended[1]!.chunkIndex, 3);

    const served = (seen.get("ferry:server:request") ?? []) as RequestEvent[];
    assert.deepEqual(served.map((request) => request.type), ["RpcRequest", "ChunkFetchRequest"]);
    const answered = (seen.get("ferry:server:response") ?? []) as RequestEvent[];
    assert.deepEqual(answered.map((request) => request.errorType), [
      undefined,
      "ChunkFetchFailure",
    ]);
  } finally {
    for (const unsubscribe of subscribers) unsubscribe();
  }
});

test("without subscribers nothing is published and connections get no tap", async () => {
  const channel = diagnosticsChannel.channel("ferry:client:request");
  assert.equal(channel.hasSubscribers, false);
  const server = new TransportServer({ rpcHandler: { receive: (_client, body) => body } });
  const listener = await server.listen(tcpListen({ host: "127.0.0.1", port: 0 }));
  const client = await TransportClient.connect(
    tcpConnect({ host: "127.0.0.1", port: listener.address.port }),
  );
  let late = 0;
  const subscriber = () => late++;
  // Subscribing after the connection opened: this connection was not tapped, so no request event.
  diagnosticsChannel.subscribe("ferry:client:request", subscriber);
  try {
    await client.sendRpc(new Uint8Array(1));
    assert.equal(late, 0);
  } finally {
    diagnosticsChannel.unsubscribe("ferry:client:request", subscriber);
    await client.close();
    await server.close();
  }
});
