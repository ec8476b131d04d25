/**
 * WebSocketMessageBatch: the chunks of one turn become WebSocket messages that each end with a
 * large chunk (a frame's body), in order, joined or as fragments; nothing waits past the turn.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  LARGE_CHUNK_BYTES,
  WebSocketMessageBatch,
  type WebSocketMessageSender,
} from "../../adapters/websocket-message-batch.ts";

function bytes(length: number, fill: number): Uint8Array {
  return new Uint8Array(length).fill(fill);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

class Recorder implements WebSocketMessageSender {
  readonly messages: Uint8Array[] = [];
  send(message: Uint8Array): void {
    this.messages.push(message);
  }
}

class FragmentRecorder extends Recorder {
  readonly parts: Array<{ part: Uint8Array; fin: boolean }> = [];
  sendPart(part: Uint8Array, fin: boolean): void {
    this.parts.push({ part, fin });
  }
}

const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe("WebSocketMessageBatch", () => {
  it("sends a frame's header and body as one joined message, in order", async () => {
    const sender = new Recorder();
    const batch = new WebSocketMessageBatch(sender);
    const header1 = bytes(21, 1);
    const body1 = bytes(LARGE_CHUNK_BYTES, 2);
    const header2 = bytes(13, 3);
    const body2 = bytes(LARGE_CHUNK_BYTES * 4, 4);
    const tail = bytes(5, 5);
    batch.add(header1);
    assert.equal(batch.bytes, 21, "a waiting header counts as not yet handed over");
    batch.add(body1);
    batch.add(header2);
    batch.add(body2);
    batch.add(tail);
    assert.deepEqual(sender.messages, [concat(header1, body1), concat(header2, body2)]);
    assert.equal(batch.bytes, 5);
    await turn();
    assert.deepEqual(sender.messages.at(-1), tail, "what waits goes out at the end of the turn");
    assert.equal(sender.messages.length, 3);
    assert.equal(batch.bytes, 0);
  });

  it("sends a large chunk with nothing waiting as is, without a copy", () => {
    const sender = new Recorder();
    const batch = new WebSocketMessageBatch(sender);
    const body = bytes(LARGE_CHUNK_BYTES, 7);
    batch.add(body);
    assert.equal(sender.messages.length, 1);
    assert.equal(sender.messages[0], body);
  });

  it("joins the small chunks of one turn into one message", async () => {
    const sender = new Recorder();
    const batch = new WebSocketMessageBatch(sender);
    const parts = [bytes(3, 1), bytes(4, 2), bytes(5, 3)];
    for (const part of parts) batch.add(part);
    assert.equal(sender.messages.length, 0);
    await turn();
    assert.deepEqual(sender.messages, [concat(...parts)]);
  });

  it("with sendPart, sends the parts as fragments of one message, zero-copy", () => {
    const sender = new FragmentRecorder();
    const batch = new WebSocketMessageBatch(sender);
    const header = bytes(21, 1);
    const extra = bytes(8, 9);
    const body = bytes(LARGE_CHUNK_BYTES * 2, 2);
    batch.add(header);
    batch.add(extra);
    batch.add(body);
    assert.deepEqual(sender.messages, []);
    assert.equal(sender.parts.length, 3);
    assert.equal(sender.parts[0]!.part, header);
    assert.equal(sender.parts[1]!.part, extra);
    assert.equal(sender.parts[2]!.part, body);
    assert.deepEqual(sender.parts.map((entry) => entry.fin), [false, false, true]);
  });

  it("flush sends what waits at once; clear drops it", async () => {
    const sender = new Recorder();
    const batch = new WebSocketMessageBatch(sender);
    batch.add(bytes(3, 1));
    batch.flush();
    assert.deepEqual(sender.messages, [bytes(3, 1)]);
    batch.add(bytes(4, 2));
    batch.clear();
    assert.equal(batch.bytes, 0);
    await turn();
    assert.equal(sender.messages.length, 1, "a cleared batch sends nothing at the end of the turn");
  });
});
