/**
 * A received stream cancelled by its reader part-way through its body is an abandoned request:
 * `onAbandoned` is told once (kind "stream", the reader's reason), the rest of the body is read off
 * the socket and discarded, and with Ferry's cancel enabled the peer is sent a stream cancel. A
 * stream cancelled after its last byte arrived (nothing left to stop) is not reported.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeCancel, isCancel } from "../../src/extensions/ferry-cancel-message.ts";
import { enableFerryCancel } from "../../src/extensions/ferry-cancel.ts";
import { type AbandonedRequest, TransportClient } from "../../src/client/transport-client.ts";
import { type Message, MessageType, type RpcRequest } from "../../src/protocol/messages.ts";
import { pattern, RawPeer, settle, text, utf8 } from "../helpers/engine-fixtures.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";

function connect(): { client: TransportClient; peer: RawPeer; seen: AbandonedRequest[] } {
  const [a, b] = memorySocketPair();
  const peer = new RawPeer(b);
  const client = new TransportClient(a, { streamHighWaterMark: 1024 });
  const seen: AbandonedRequest[] = [];
  client.onAbandoned((request) => seen.push(request));
  return { client, peer, seen };
}

/** Asks the peer for stream `id`, answers with a `length`-byte StreamResponse and `sent` bytes. */
async function openStream(
  { client, peer }: { client: TransportClient; peer: RawPeer },
  id: string,
  length: number,
  sent: number,
) {
  const before = peer.messages.length;
  const opening = client.stream(id);
  await peer.received(before + 1);
  assert.deepEqual(peer.messages[before], { type: MessageType.StreamRequest, streamId: id });
  const body = pattern(length);
  peer.send({ type: MessageType.StreamResponse, streamId: id, byteCount: length });
  peer.writeRaw(body.subarray(0, sent));
  const stream = await opening;
  return { stream, rest: body.subarray(sent) };
}

/** One RPC round trip through the raw peer: proves the client is still in sync. */
async function roundTrip(client: TransportClient, peer: RawPeer, payload: string): Promise<void> {
  const before = peer.messages.length;
  const reply = client.sendRpc(utf8(payload));
  const request = (await peer.received(before + 1)).at(-1) as Message;
  assert.equal(request.type, MessageType.RpcRequest);
  const { requestId, body } = request as RpcRequest;
  peer.send({ type: MessageType.RpcResponse, requestId, body });
  assert.equal(text(await reply), payload);
}

test("cancelling a stream part-way is reported once, and the rest is discarded in sync", async () => {
  const { client, peer, seen } = connect();
  try {
    const { stream, rest } = await openStream({ client, peer }, "logs/7", 10_000, 3000);
    const reader = stream.getReader();
    const first = await reader.read();
    assert.ok(first.value !== undefined && first.value.byteLength > 0);
    assert.deepEqual(seen, []);
    const reason = new Error("the reader has seen enough");
    await reader.cancel(reason);
    assert.deepEqual(seen, [{ kind: "stream", streamId: "logs/7", reason }]);
    assert.equal(client.stats().inFlight.streams, 1, "the rest is still owed by the peer");
    peer.writeRaw(rest);
    await settle(3);
    assert.equal(client.stats().inFlight.streams, 0);
    await roundTrip(client, peer, "still in sync");
    assert.equal(seen.length, 1, "reported once");
  } finally {
    await client.close();
  }
});

test("a stream cancelled after its whole body arrived is not reported", async () => {
  const { client, peer, seen } = connect();
  try {
    const { stream } = await openStream({ client, peer }, "done", 500, 500);
    await settle(3);
    await stream.cancel(new Error("never read"));
    await roundTrip(client, peer, "after");
    assert.deepEqual(seen, []);
  } finally {
    await client.close();
  }
});

test("with Ferry's cancel enabled, a stream cancelled part-way sends one stream cancel", async () => {
  const { client, peer, seen } = connect();
  enableFerryCancel(client);
  try {
    const { stream, rest } = await openStream({ client, peer }, "gen:42", 64 * 1024, 100);
    const before = peer.messages.length;
    await stream.cancel();
    await peer.received(before + 1);
    const cancel = peer.messages[before]!;
    assert.equal(cancel.type, MessageType.OneWayMessage);
    const body = (cancel as { body: Uint8Array }).body;
    assert.ok(isCancel(body));
    assert.deepEqual(decodeCancel(body), { kind: "stream", streamId: "gen:42" });
    assert.deepEqual(seen, [{ kind: "stream", streamId: "gen:42", reason: undefined }]);
    // A Ferry peer may pad the rest (or reset); either way the client reads it off and carries on.
    peer.writeRaw(rest.fill(0));
    await roundTrip(client, peer, "carries on");
    assert.equal(
      peer.messages.filter((message) => message.type === MessageType.OneWayMessage).length,
      1,
    );
  } finally {
    await client.close();
  }
});
