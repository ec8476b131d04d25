/**
 * `inProcessNetwork`: a transport server and its clients (the gateway's backend connections in
 * `ferry serve`) in one process. Chunk bodies reach the client as the very memory the server's
 * source returned (no copy), RPCs round-trip, a paused receiver holds the writer back (`write`
 * false, then `drain`), a graceful close and a reset reach the peer, and connecting with nothing
 * bound is refused.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TransportClient } from "../../src/client/transport-client.ts";
import { inProcessNetwork } from "../../src/gateway/in-process-network.ts";
import type { Int64 } from "../../src/protocol/messages.ts";
import type { StreamManager } from "../../src/responder/stream-manager.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import type { Socket, SocketSink } from "../../src/socket.ts";

const MiB = 1024 * 1024;

function chunkOf(index: number): Uint8Array {
  const bytes = new Uint8Array(MiB);
  for (let i = 0; i < bytes.length; i += 4096) bytes[i] = (index * 31 + i / 4096) & 0xff;
  return bytes;
}

test("chunks arrive as the server's own memory and RPCs round-trip", async () => {
  const served: Uint8Array[] = [];
  const streamManager: StreamManager = {
    getChunk(id: Int64, index: number) {
      if (id !== 7) throw new Error(`no stream ${id}`);
      const chunk = chunkOf(index);
      served[index] = chunk;
      return Promise.resolve(chunk);
    },
    openStream: () => Promise.reject(new Error("no streams")),
    connectionTerminated() {},
  };
  const server = new TransportServer({
    rpcHandler: { receive: (_client, message) => message.slice().reverse() },
    streamManager,
  });
  const network = inProcessNetwork("files");
  const listener = await server.listen(network.listen);
  assert.equal(listener.address.url, "in-process://files");
  const client = await TransportClient.connect(network.connect);
  try {
    assert.deepEqual(await client.sendRpc(new Uint8Array([1, 2, 3])), new Uint8Array([3, 2, 1]));
    const bodies = await Promise.all([0, 1, 2].map((index) => client.fetchChunk(7, index)));
    for (const [index, body] of bodies.entries()) {
      assert.deepEqual(body, chunkOf(index));
      assert.equal(body.buffer, served[index]!.buffer, `chunk ${index} was not copied`);
    }
  } finally {
    await client.close();
    await server.close();
  }
});

/** A sink that records what it gets. */
function recorder() {
  const got: Uint8Array[] = [];
  let drains = 0;
  let closed: { error: unknown } | undefined;
  const sink: SocketSink = {
    data: (chunk) => void got.push(chunk),
    drain: () => void drains++,
    close: (error) => void (closed = { error }),
  };
  return { sink, got, drains: () => drains, closed: () => closed };
}

const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

test("a paused receiver holds the writer back; close and reset reach the peer", async () => {
  const network = inProcessNetwork("pair", 1024);
  const accepted: Socket[] = [];
  await network.listen((socket) => void accepted.push(socket));
  const client = await network.connect();
  const server = accepted[0]!;
  const atServer = recorder();
  const atClient = recorder();
  server.attach(atServer.sink);
  client.attach(atClient.sink);
  server.pause();
  const big = new Uint8Array(2048).fill(9);
  assert.equal(client.write(big), false, "above the high-water mark while nothing is read");
  assert.equal(client.bufferedAmount, 2048);
  await turn();
  assert.equal(atServer.got.length, 0, "nothing delivered while paused");
  assert.equal(atClient.drains(), 0);
  server.resume();
  await turn();
  assert.equal(atServer.got[0], big, "delivered as written, not copied");
  assert.equal(atClient.drains(), 1);
  assert.equal(client.bufferedAmount, 0);

  client.write(new Uint8Array([1]));
  client.close();
  await turn();
  assert.deepEqual(atServer.got[1], new Uint8Array([1]), "written before the close: delivered");
  assert.deepEqual(atServer.closed(), { error: undefined });
  assert.deepEqual(atClient.closed(), { error: undefined });

  const second = await network.connect();
  const peer = accepted[1]!;
  const atPeer = recorder();
  peer.attach(atPeer.sink);
  second.attach(recorder().sink);
  peer.pause();
  second.write(new Uint8Array([5]));
  second.close(new Error("boom"));
  await turn();
  assert.equal(atPeer.got.length, 0, "a reset drops what was not delivered");
  assert.match(String((atPeer.closed()?.error as Error)?.message), /reset by peer/);
  assert.equal(((await second.closed).error as Error).message, "boom");
});

test("connecting with nothing bound is refused", async () => {
  const network = inProcessNetwork("nobody");
  await assert.rejects(network.connect(), { code: "ERR_CONNECT" });
  const listener = await network.listen(() => {});
  await assert.rejects(network.listen(() => {}), /already bound/);
  await listener.close();
  await assert.rejects(network.connect(), { code: "ERR_CONNECT" });
});
