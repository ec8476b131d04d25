/**
 * TransportClient ⇄ TransportServer over the in-memory socket pair: RPCs, one-way messages,
 * handler failures, bidirectional requests, the interceptor extension point and argument checks.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TransportClient } from "../../src/client/transport-client.ts";
import {
  ConnectionClosedError,
  InvalidArgumentError,
  LimitError,
  RemoteError,
} from "../../src/errors.ts";
import { MessageType } from "../../src/protocol/messages.ts";
import type { Peer } from "../../src/responder/peer.ts";
import type { RpcHandler } from "../../src/responder/rpc-handler.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { memoryNetwork } from "../helpers/memory-socket.ts";
import { pattern, serve, settle, text, utf8 } from "../helpers/engine-fixtures.ts";

const echo: RpcHandler = { receive: (_client, message) => message };

test("sendRpc: echo of small, empty and 4 MiB bodies", async () => {
  const served = serve({ rpcHandler: echo });
  try {
    assert.equal(text(await served.client.sendRpc(utf8("hello"))), "hello");
    assert.equal((await served.client.sendRpc(new Uint8Array(0))).byteLength, 0);
    const big = pattern(4 * 1024 * 1024, 3);
    assert.deepEqual(await served.client.sendRpc(big), big);
  } finally {
    await served.close();
  }
});

test("sendRpc: 200 concurrent RPCs each get their own reply, from a handler that answers out of order", async () => {
  const served = serve({
    rpcHandler: {
      async receive(_client, message) {
        // Later requests answer first: replies must be matched by id, not by order.
        await new Promise((resolve) => setTimeout(resolve, (200 - message[0]!) % 5));
        return message;
      },
    },
  });
  try {
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) => served.client.sendRpc(new Uint8Array([i, i >> 8]))),
    );
    replies.forEach((reply, i) => assert.deepEqual([...reply], [i & 0xff, i >> 8]));
    assert.equal(served.client.stats().inFlight.total, 0);
  } finally {
    await served.close();
  }
});

test("a handler that throws or rejects becomes a RemoteError; the server keeps serving", async () => {
  const served = serve({
    rpcHandler: {
      receive(_client, message) {
        const body = text(message);
        if (body === "throw") throw new Error("boom: thrown");
        if (body === "reject") return Promise.reject(new TypeError("boom: rejected"));
        if (body === "not-bytes") return "oops" as unknown as Uint8Array;
        return message;
      },
    },
  });
  try {
    for (
      const [body, expected] of [
        ["throw", "boom: thrown"],
        ["reject", "boom: rejected"],
        ["not-bytes", "returned string instead of a Uint8Array"],
      ]
    ) {
      const error = await served.client.sendRpc(utf8(body!)).then(
        () => assert.fail("expected a RemoteError"),
        (error) => error,
      );
      assert.ok(error instanceof RemoteError, String(error));
      assert.equal(error.code, "ERR_REMOTE");
      assert.ok(error.remoteMessage.includes(expected!), error.remoteMessage);
      assert.ok(error.message.includes(expected!), error.message);
    }
    assert.equal(text(await served.client.sendRpc(utf8("still here"))), "still here");
    assert.ok(served.client.isActive);
  } finally {
    await served.close();
  }
});

test("one-way messages reach receiveOneWay in order; a throwing receiveOneWay is reported, not sent", async () => {
  const received: string[] = [];
  const reported: string[] = [];
  const served = serve({
    rpcHandler: {
      receive: (_client, message) => utf8(received.join("|") + "/" + text(message)),
      receiveOneWay(_client, message) {
        if (text(message) === "bad") throw new Error("one-way handler broke");
        received.push(text(message));
      },
    },
    onHandlerError: (error, context) => reported.push(`${context}: ${(error as Error).message}`),
  });
  try {
    served.client.send(utf8("a"));
    served.client.send(utf8("bad"));
    served.client.send(utf8("b"));
    // An RPC after the one-way messages is handled after them (same connection, in order).
    assert.equal(text(await served.client.sendRpc(utf8("log"))), "a|b/log");
    assert.deepEqual(reported, ["RpcHandler.receiveOneWay: one-way handler broke"]);
    assert.equal(served.serverSide.stats().handlerErrors, 1);
  } finally {
    await served.close();
  }
});

test("the server sends RPCs to a connected client, which serves them with its own RpcHandler", async () => {
  let serverSideClient: Peer | undefined;
  const served = serve(
    {
      rpcHandler: {
        async receive(client, message) {
          serverSideClient = client;
          // While answering the client, ask it something back on the same connection.
          const answer = await client.sendRpc(utf8("who are you?"));
          return utf8(`${text(message)} -> ${text(answer)}`);
        },
      },
    },
    { rpcHandler: { receive: (_client, message) => utf8(`client got '${text(message)}'`) } },
  );
  try {
    const reply = await served.client.sendRpc(utf8("hi"));
    assert.equal(text(reply), "hi -> client got 'who are you?'");
    assert.equal(serverSideClient, served.serverSide);
    assert.equal(served.server.connections.size, 1);
  } finally {
    await served.close();
  }
});

test("a client without an RpcHandler answers the peer's requests with failures", async () => {
  const served = serve({ rpcHandler: echo });
  try {
    const rpc = await served.serverSide.sendRpc(utf8("x")).catch((error) => error);
    assert.ok(rpc instanceof RemoteError);
    assert.match(rpc.remoteMessage, /no RpcHandler/);
    const chunk = await served.serverSide.fetchChunk(1, 0).catch((error) => error);
    assert.ok(chunk instanceof RemoteError);
    assert.match(chunk.remoteMessage, /no StreamManager/);
    const stream = await served.serverSide.stream("s").catch((error) => error);
    assert.ok(stream instanceof RemoteError);
    assert.match(stream.remoteMessage, /no StreamManager/);
    const upload = await served.serverSide.uploadStream(utf8("m"), pattern(100_000))
      .catch((error) => error);
    assert.ok(upload instanceof RemoteError);
    assert.match(upload.remoteMessage, /UploadStream refused/);
    // The refused upload's bytes were consumed: the connection is still in sync.
    assert.equal(text(await served.client.sendRpc(utf8("in sync"))), "in sync");
  } finally {
    await served.close();
  }
});

test("interceptor sees inbound messages first and can consume them; sendMessage sends raw", async () => {
  const seen: number[] = [];
  const served = serve({
    rpcHandler: echo,
    interceptor(message, client) {
      seen.push(message.type);
      if (message.type === MessageType.OneWayMessage && text(message.body) === "ping") {
        client.sendMessage({ type: MessageType.OneWayMessage, body: utf8("pong") });
        return true;
      }
      return false;
    },
  });
  const pongs: string[] = [];
  served.client.setInterceptor((message) => {
    if (message.type !== MessageType.OneWayMessage) return false;
    pongs.push(text(message.body));
    return true;
  });
  try {
    served.client.send(utf8("ping"));
    assert.equal(text(await served.client.sendRpc(utf8("after"))), "after");
    await settle();
    assert.deepEqual(pongs, ["pong"]);
    assert.deepEqual(seen, [MessageType.OneWayMessage, MessageType.RpcRequest]);
    assert.throws(
      () =>
        served.client.sendMessage({
          type: MessageType.StreamResponse,
          streamId: "x",
          byteCount: 1,
        }),
      InvalidArgumentError,
    );
  } finally {
    await served.close();
  }
});

test("connect + listen through a memory network; several listeners at once; server close ends everything", async () => {
  const active: string[] = [];
  const inactive: string[] = [];
  const server = new TransportServer({
    rpcHandler: {
      receive: (_client, message) =>
        text(message) === "hang" ? new Promise<Uint8Array>(() => {}) : message,
      channelActive: (client) => active.push(client.remoteAddress),
      channelInactive: (client) => inactive.push(client.remoteAddress),
    },
  });
  const first = memoryNetwork({ label: "first" });
  const second = memoryNetwork({ label: "second" });
  const listenerA = await server.listen(first.listen);
  const listenerB = await server.listen(second.listen);
  assert.equal(listenerB.address.url, "memory://second:1");
  assert.equal(listenerA.address.url, "memory://first:1");
  const a = await TransportClient.connect(first.connect);
  const b = await TransportClient.connect(second.connect, { timeoutMs: 1000 });
  assert.equal(text(await a.sendRpc(utf8("a"))), "a");
  assert.equal(text(await b.sendRpc(utf8("b"))), "b");
  assert.equal(server.connections.size, 2);
  assert.equal(active.length, 2);
  const inFlight = a.sendRpc(utf8("hang"));
  await server.close();
  await assert.rejects(inFlight, ConnectionClosedError);
  await Promise.all([a.closed, b.closed]);
  assert.equal(a.isActive, false);
  assert.equal(server.connections.size, 0);
  assert.equal(inactive.length, 2);
  await assert.rejects(server.listen(first.listen), ConnectionClosedError);
  await assert.rejects(TransportClient.connect(first.connect), { code: "ERR_CONNECT" });
});

test("invalid arguments are rejected with InvalidArgumentError naming the value", async () => {
  const served = serve({ rpcHandler: echo });
  try {
    await assert.rejects(
      served.client.sendRpc("text" as unknown as Uint8Array),
      (error: unknown) =>
        error instanceof InvalidArgumentError && /sendRpc body/.test(error.message),
    );
    await assert.rejects(served.client.fetchChunk(1.5, 0), InvalidArgumentError);
    await assert.rejects(served.client.fetchChunk(1, -1), /chunkIndex must be an integer/);
    await assert.rejects(served.client.sendRpc(utf8("x"), { timeoutMs: -1 }), /timeoutMs/);
    await assert.rejects(
      served.client.uploadStream(utf8("m"), [utf8("abc")]),
      /options.byteLength is required/,
    );
    await assert.rejects(
      served.client.uploadStream(utf8("m"), utf8("abc"), { byteLength: 4 }),
      /byteLength is 4 but the data has 3 bytes/,
    );
    await assert.rejects(
      served.client.uploadStream(utf8("m"), 42 as unknown as Uint8Array, { byteLength: 1 }),
      /expected a Uint8Array, an iterable/,
    );
    assert.throws(
      () => new TransportClient(served.clientSocket, { maxFrameLength: 3 }),
      /maxFrameLength/,
    );
    assert.throws(
      () => new TransportServer({} as unknown as { rpcHandler: RpcHandler }),
      /rpcHandler is required/,
    );
    assert.ok(served.client.isActive);
  } finally {
    await served.close();
  }
});

test("maxInFlightRequests refuses requests beyond the limit with a LimitError", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const served = serve(
    { rpcHandler: { receive: async (_c, m) => (await gate, m) } },
    { maxInFlightRequests: 2 },
  );
  try {
    const first = served.client.sendRpc(utf8("1"));
    const second = served.client.sendRpc(utf8("2"));
    await assert.rejects(served.client.sendRpc(utf8("3")), LimitError);
    release();
    assert.deepEqual([text(await first), text(await second)], ["1", "2"]);
    assert.equal(text(await served.client.sendRpc(utf8("4"))), "4");
  } finally {
    await served.close();
  }
});

test("after close, every method fails with ConnectionClosedError", async () => {
  const served = serve({ rpcHandler: echo });
  await served.client.close();
  assert.equal(served.client.isActive, false);
  await assert.rejects(served.client.sendRpc(utf8("x")), ConnectionClosedError);
  await assert.rejects(served.client.fetchChunk(1, 0), ConnectionClosedError);
  await assert.rejects(served.client.stream("s"), ConnectionClosedError);
  await assert.rejects(served.client.uploadStream(utf8("m"), utf8("d")), ConnectionClosedError);
  assert.throws(() => served.client.send(utf8("x")), ConnectionClosedError);
  assert.deepEqual(await served.client.closed, { error: undefined });
  await served.server.close();
});
