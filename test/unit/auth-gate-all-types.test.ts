/**
 * Before a connection authenticates, each of the 13 message types is refused and reaches neither
 * the RpcHandler nor the StreamManager: requests get a failure reply saying authentication is
 * required, one-way messages and responses are dropped, and the raw bytes after a StreamResponse
 * or UploadStream are skipped so the connection stays in sync (a request sent after all of them
 * is still answered, with a refusal).
 *
 * Figure printed: message types sent, replies (all refusals), handler and stream-manager calls.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { SharedSecretServer } from "../../src/auth/shared-secret-server.ts";
import { ControlKind, encodeControl } from "../../src/protocol/ferry-control.ts";
import { type Message, MessageType, messageTypeName } from "../../src/protocol/messages.ts";
import type { RpcHandler } from "../../src/responder/rpc-handler.ts";
import type { StreamManager } from "../../src/responder/stream-manager.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";
import { RawPeer, settle, utf8 } from "../helpers/engine-fixtures.ts";

const T = MessageType;

test("before authentication every message type is refused and no handler is called", async () => {
  const calls: string[] = [];
  const rpcHandler: RpcHandler = {
    receive: (_c, m) => (calls.push("receive"), m),
    receiveOneWay: () => void calls.push("receiveOneWay"),
    receiveStream: () => (calls.push("receiveStream"), Promise.resolve(utf8("ok"))),
  };
  const streamManager: StreamManager = {
    getChunk: () => (calls.push("getChunk"), Promise.resolve(utf8("chunk"))),
    openStream:
      () => (calls.push("openStream"), Promise.resolve({ byteLength: 1, body: [utf8("s")] })),
    connectionTerminated: () => {},
  };
  const gate = new SharedSecretServer({ secret: "correct horse battery staple", authTimeoutMs: 0 });
  const server = new TransportServer(gate.serverOptions({ rpcHandler, streamManager }));
  const [a, b] = memorySocketPair();
  const serverSide = server.accept(b);
  const peer = new RawPeer(a);

  const messages: [Message, Uint8Array?][] = [
    [{ type: T.ChunkFetchRequest, streamId: 1, chunkIndex: 0 }],
    [{ type: T.ChunkFetchSuccess, streamId: 1, chunkIndex: 0, body: utf8("c") }],
    [{ type: T.ChunkFetchFailure, streamId: 1, chunkIndex: 0, error: "e" }],
    [{ type: T.RpcRequest, requestId: 3, body: utf8("rpc") }],
    [{ type: T.RpcResponse, requestId: 4, body: utf8("r") }],
    [{ type: T.RpcFailure, requestId: 5, error: "e" }],
    [{ type: T.StreamRequest, streamId: "gen:1" }],
    [{ type: T.StreamResponse, streamId: "s", byteCount: 5 }, utf8("abcde")],
    [{ type: T.StreamFailure, streamId: "s", error: "e" }],
    [{ type: T.OneWayMessage, body: utf8("one-way") }],
    [{ type: T.UploadStream, requestId: 10, meta: utf8("m"), bodyByteCount: 4 }, utf8("body")],
    [{
      type: T.MergedBlockMetaRequest,
      requestId: 11,
      appId: "app",
      shuffleId: 1,
      shuffleMergeId: 2,
      reduceId: 3,
    }],
    [{ type: T.MergedBlockMetaSuccess, requestId: 12, numChunks: 1, body: utf8("m") }],
  ];
  assert.equal(new Set(messages.map(([m]) => m.type)).size, 13, "all 13 types");
  for (const [message, raw] of messages) {
    peer.send(message);
    if (raw !== undefined) peer.writeRaw(raw);
  }
  // Sent after everything: answered only if every raw body above was skipped correctly.
  peer.send({ type: T.RpcRequest, requestId: 99, body: utf8("after") });
  // Replies: ChunkFetchRequest, RpcRequest, StreamRequest, UploadStream, MergedBlockMetaRequest, 99.
  const replies = await peer.received(6);
  await settle();

  const described = replies.map((reply) => {
    const error = (reply as { error?: string }).error ?? "";
    return `${messageTypeName[reply.type]}: ${error}`;
  });
  console.log(
    `auth gate: 13 message types sent before authentication; ${replies.length} replies, ` +
      `${described.filter((d) => /authentication required/.test(d)).length} of them refusals; ` +
      `handler and stream-manager calls: ${calls.length}`,
  );
  assert.deepEqual(replies.map((reply) => reply.type), [
    T.ChunkFetchFailure,
    T.RpcFailure,
    T.StreamFailure,
    T.RpcFailure,
    T.RpcFailure,
    T.RpcFailure,
  ]);
  for (const line of described) assert.match(line, /Ferry authentication required: \w+ refused/);
  assert.deepEqual(
    replies.filter((r) => r.type === T.RpcFailure).map((r) =>
      (r as { requestId: number }).requestId
    ),
    [3, 10, 11, 99],
  );
  assert.deepEqual(calls, [], "nothing reached the handler or the stream manager");
  assert.equal(serverSide.isActive, true, "refusals alone do not close the connection");
  a.close();
  await serverSide.closed;
  await server.close();
});

test("a malformed auth hello is refused with why; other auth failures say nothing more", async () => {
  const gate = new SharedSecretServer({
    secretFor: (principal) => (principal === "known" ? "correct horse battery staple" : undefined),
    authTimeoutMs: 0,
  });
  const rpcHandler: RpcHandler = { receive: (_c, m) => m };
  const server = new TransportServer(gate.serverOptions({ rpcHandler }));
  const failureOf = async (fields: Uint8Array, kind: ControlKind = ControlKind.AuthHello) => {
    const [a, b] = memorySocketPair();
    const serverSide = server.accept(b);
    const peer = new RawPeer(a);
    peer.send({
      type: T.RpcRequest,
      requestId: 1,
      body: encodeControl(kind, fields),
    });
    const [reply] = await peer.received(1);
    await serverSide.closed;
    a.close();
    return reply as { type: MessageType; error?: string };
  };
  // Two bytes: a hello needs at least a 2-byte principal length and one byte of it.
  const malformed = await failureOf(new Uint8Array([0, 9]));
  assert.equal(malformed.type, T.RpcFailure);
  assert.match(malformed.error!, /^Ferry authentication failed: Malformed auth hello: 2 bytes/);
  // A proof before any hello: refused, without telling the peer why.
  const early = await failureOf(new Uint8Array(32), ControlKind.AuthProof);
  assert.equal(early.type, T.RpcFailure);
  assert.equal(early.error, "Ferry authentication failed");
  await server.close();
});
