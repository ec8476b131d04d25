/**
 * Ferry's cancel extension is part of the public API: `src/mod.ts` exports `enableFerryCancel`,
 * `ferryCancelBootstrap`, `sendFerryCancel` (and the `CancelTarget` type), and what it exports
 * works — a cancel sent through it reaches the peer as a OneWayMessage carrying the cancel body.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ferry from "../../src/mod.ts";
import { decodeCancel, isCancel } from "../../src/protocol/ferry-cancel-message.ts";
import * as cancel from "../../src/cancel/ferry-cancel.ts";
import { MessageType } from "../../src/protocol/messages.ts";
import { RawPeer } from "../helpers/engine-fixtures.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";

test("src/mod.ts exports the cancel extension", () => {
  assert.equal(ferry.enableFerryCancel, cancel.enableFerryCancel);
  assert.equal(ferry.ferryCancelBootstrap, cancel.ferryCancelBootstrap);
  assert.equal(ferry.sendFerryCancel, cancel.sendFerryCancel);
});

test("a cancel sent through the public API reaches the peer as a OneWayMessage", async () => {
  const [a, b] = memorySocketPair();
  const peer = new RawPeer(b);
  const client = new ferry.TransportClient(a);
  try {
    const targets: ferry.CancelTarget[] = [
      { kind: "chunk", streamId: 7, chunkIndex: 3 },
      { kind: "stream", streamId: "logs/2" },
    ];
    for (const target of targets) assert.equal(ferry.sendFerryCancel(client, target), true);
    const messages = await peer.received(2);
    assert.deepEqual(
      messages.map((message) => {
        assert.equal(message.type, MessageType.OneWayMessage);
        const body = (message as { body: Uint8Array }).body;
        assert.ok(isCancel(body));
        return decodeCancel(body);
      }),
      targets,
    );
    assert.throws(
      () => ferry.sendFerryCancel(client, { kind: "chunk", streamId: 1, chunkIndex: 2 ** 31 }),
      ferry.InvalidArgumentError,
    );
  } finally {
    await client.close();
  }
  // Closed: nothing is sent, and nothing throws.
  assert.equal(ferry.sendFerryCancel(client, { kind: "stream", streamId: "x" }), false);
});
