/**
 * Ferry's cancel extension is part of the public API: the `ferry-transport/extensions` entry
 * (`src/extensions/mod.ts`) exports `enableFerryCancel`, `ferryCancelBootstrap`, `sendFerryCancel`,
 * `ferryCancelResponder` (and the `CancelTarget` type), the root entry none of them, and what it
 * exports works — a cancel sent through it reaches the peer as a OneWayMessage carrying the cancel
 * body.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as root from "../../src/mod.ts";
import * as ferry from "../../src/extensions/mod.ts";
import { decodeCancel, isCancel } from "../../src/extensions/ferry-cancel-message.ts";
import * as cancel from "../../src/extensions/ferry-cancel.ts";
import { MessageType } from "../../src/protocol/messages.ts";
import { RawPeer } from "../helpers/engine-fixtures.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";

test("src/extensions/mod.ts exports the cancel extension; the root entry does not", () => {
  assert.equal(ferry.enableFerryCancel, cancel.enableFerryCancel);
  assert.equal(ferry.ferryCancelBootstrap, cancel.ferryCancelBootstrap);
  assert.equal(ferry.sendFerryCancel, cancel.sendFerryCancel);
  assert.equal(ferry.ferryCancelResponder, cancel.ferryCancelResponder);
  for (const name of ["enableFerryCancel", "sendFerryCancel", "ferryCancelResponder"]) {
    assert.equal(name in root, false, `the root entry does not export ${name}`);
  }
});

test("a cancel sent through the public API reaches the peer as a OneWayMessage", async () => {
  const [a, b] = memorySocketPair();
  const peer = new RawPeer(b);
  const client = new root.TransportClient(a);
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
      root.InvalidArgumentError,
    );
  } finally {
    await client.close();
  }
  // Closed: nothing is sent, and nothing throws.
  assert.equal(ferry.sendFerryCancel(client, { kind: "stream", streamId: "x" }), false);
});
