/**
 * The scenario both authentication gates must pass (test/unit/auth-gate-all-types.test.ts for the
 * shared-secret gate, test/unit/sasl-gate-all-types.test.ts for Spark's SASL gate): before a
 * connection authenticates, each of the 13 message types is refused and reaches neither the
 * RpcHandler nor the StreamManager; requests get a failure reply whose text matches `refusal`,
 * one-way messages and responses are dropped, and the raw bytes after a StreamResponse or
 * UploadStream are skipped so the connection stays in sync (a request sent after all of them is
 * still answered, with a refusal).
 *
 * Figure printed: message types sent, replies (all refusals), handler and stream-manager calls.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Message, MessageType, messageTypeName } from "../../src/protocol/messages.ts";
import type { RpcHandler } from "../../src/responder/rpc-handler.ts";
import type { StreamManager } from "../../src/responder/stream-manager.ts";
import { TransportServer, type TransportServerOptions } from "../../src/server/transport-server.ts";
import { memorySocketPair } from "./memory-socket.ts";
import { RawPeer, settle, utf8 } from "./engine-fixtures.ts";

const T = MessageType;

/** A gate that installs itself into server options (`SharedSecretServer`, `SparkSaslServer`). */
export interface GateUnderTest {
  serverOptions<O extends TransportServerOptions>(options: O): O;
}

/** Runs the scenario against `gate`; `label` starts the printed figure. */
export async function checkEveryTypeRefusedBeforeAuth(
  gate: GateUnderTest,
  label: string,
  refusal: RegExp,
): Promise<void> {
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
    `${label}: 13 message types sent before authentication; ${replies.length} replies, ` +
      `${described.filter((d) => refusal.test(d)).length} of them refusals; ` +
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
  for (const line of described) assert.match(line, refusal);
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
}
