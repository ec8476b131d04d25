/**
 * Backpressure through the gateway, both ways, with bounded memory (in memory, deterministic):
 * a browser that stops reading stops the gateway from issuing backend requests and from reading
 * stream bodies; a backend that stops reading stops the gateway from reading the browser. Bytes
 * queued inside the gateway stay bounded by its limits, and everything arrives intact afterwards.
 * Nothing sleeps: in-memory traffic settles within a few event-loop turns, a paused backend wakes
 * the gateway by its drain, and `slowConsumerTimeoutMs` runs on a FakeClock.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { openChunkContent } from "../../interop/patterns.ts";
import { encodeMessage } from "../../src/protocol/encoder.ts";
import { FrameDecoder } from "../../src/protocol/decoder.ts";
import { type Message, MessageType } from "../../src/protocol/messages.ts";
import type { Socket } from "../../src/socket.ts";
import { GatewayCloseCode } from "../../src/gateway/close-codes.ts";
import { FakeClock, settle } from "../helpers/fake-clock.ts";
import { memoryGateway } from "../helpers/gateway-fixture.ts";

const MiB = 1024 * 1024;
const utf8 = (text: string) => new TextEncoder().encode(text);

/** Lets in-memory traffic run as far as it can: `count` event-loop turns. */
async function turns(count: number): Promise<void> {
  for (let turn = 0; turn < count; turn++) await settle();
}

/** A raw browser: writes frames, decodes replies, counts stream body bytes. */
function rawBrowser(socket: Socket) {
  const messages: Message[] = [];
  let bodyBytes = 0;
  let waiter: (() => void) | undefined;
  const decoder = new FrameDecoder({
    message: (message) => {
      messages.push(message);
      waiter?.();
    },
    body: (chunk) => {
      bodyBytes += chunk.byteLength;
    },
    bodyEnd: () => waiter?.(),
  });
  socket.attach({
    data: (chunk) => decoder.push(chunk),
    drain() {},
    close() {},
  });
  return {
    messages,
    get bodyBytes() {
      return bodyBytes;
    },
    send(...list: Message[]) {
      for (const message of list) for (const chunk of encodeMessage(message)) socket.write(chunk);
    },
    async until(done: () => boolean): Promise<void> {
      while (!done()) await new Promise<void>((resolve) => (waiter = resolve));
      waiter = undefined;
    },
  };
}

describe("gateway backpressure (memory)", () => {
  it("a paused browser holds chunk fetches and stream bodies back; memory stays bounded", async () => {
    const maxInFlight = 4;
    const fixture = await memoryGateway({ maxInFlightRequests: maxInFlight });
    try {
      const { browser } = fixture.open();
      const raw = rawBrowser(browser);
      raw.send({ type: MessageType.RpcRequest, requestId: 1, body: utf8(`open:64:${MiB}`) });
      await raw.until(() => raw.messages.length === 1);
      const reply = raw.messages[0]!;
      assert.equal(reply.type, MessageType.RpcResponse);
      const streamId = new DataView(reply.body.buffer, reply.body.byteOffset).getBigInt64(0);

      browser.pause();
      for (let k = 0; k < 64; k++) {
        raw.send({ type: MessageType.ChunkFetchRequest, streamId, chunkIndex: k });
      }
      raw.send({ type: MessageType.StreamRequest, streamId: `gen:${64 * MiB}` });
      await turns(50);
      const stats = fixture.gateway.stats();
      const bound = (maxInFlight + 2) * (MiB + 64);
      console.log(
        `paused browser: ${stats.bytes.queuedForBrowsers} bytes queued for it, ` +
          `${stats.bytes.toBrowsers} sent, of ${128 * MiB} requested (bound ${bound})`,
      );
      assert.ok(stats.bytes.queuedForBrowsers <= bound, `${stats.bytes.queuedForBrowsers}`);
      assert.ok(stats.bytes.toBrowsers <= bound, `${stats.bytes.toBrowsers}`);

      browser.resume();
      await raw.until(() => raw.messages.length === 66 && raw.bodyBytes === 64 * MiB);
      for (let k = 0; k < 64; k++) {
        const chunk = raw.messages[1 + k]!;
        assert.equal(chunk.type, MessageType.ChunkFetchSuccess);
        assert.equal(chunk.chunkIndex, k);
        assert.deepEqual(chunk.body, openChunkContent(k, MiB));
      }
      assert.equal(raw.messages[65]!.type, MessageType.StreamResponse);
    } finally {
      await fixture.close();
    }
  });

  it("a paused backend stops the gateway reading the browser (RPCs and one-way messages)", async () => {
    const fixture = await memoryGateway({
      maxRequestBytesInFlight: MiB,
      highWaterMark: 256 * 1024,
    });
    try {
      const { browser } = fixture.open();
      const raw = rawBrowser(browser);
      raw.send({ type: MessageType.RpcRequest, requestId: 0, body: utf8("hello") });
      await raw.until(() => raw.messages.length === 1);
      fixture.backendSockets[0]!.pause();

      const body = new Uint8Array(256 * 1024).fill(7);
      for (let i = 1; i <= 100; i++) {
        raw.send({ type: MessageType.RpcRequest, requestId: i, body });
      }
      await turns(50);
      const received = fixture.gateway.stats().bytes.fromBrowsers;
      console.log(
        `paused backend: the gateway read ${received} of ${100 * body.byteLength} bytes of RPCs`,
      );
      assert.ok(received <= 3 * MiB, `${received}`);

      fixture.backendSockets[0]!.resume();
      await raw.until(() => raw.messages.length === 101);
      assert.ok(raw.messages.every((message) => message.type === MessageType.RpcResponse));

      fixture.backendSockets[0]!.pause();
      const before = fixture.gateway.stats().bytes.fromBrowsers;
      for (let i = 0; i < 100; i++) raw.send({ type: MessageType.OneWayMessage, body });
      await turns(50);
      const oneWay = fixture.gateway.stats().bytes.fromBrowsers - before;
      console.log(
        `paused backend: the gateway read ${oneWay} of ${100 * body.byteLength} one-way bytes`,
      );
      assert.ok(oneWay <= 4 * MiB, `${oneWay}`);
      fixture.backendSockets[0]!.resume();
      raw.send({ type: MessageType.RpcRequest, requestId: 200, body: utf8("after") });
      // No timer runs: the backend's drain wakes the session, which reads the browser again.
      await raw.until(() => raw.messages.length === 102);
      assert.deepEqual((raw.messages[101] as { body: Uint8Array }).body, utf8("after"));
    } finally {
      await fixture.close();
    }
  });

  it("a browser that does not read past slowConsumerTimeoutMs is closed with 4429", async () => {
    const clock = new FakeClock();
    const fixture = await memoryGateway({ slowConsumerTimeoutMs: 100, clock });
    try {
      const { browser, edge } = fixture.open();
      const raw = rawBrowser(browser);
      browser.pause();
      raw.send({ type: MessageType.StreamRequest, streamId: `gen:${8 * MiB}` });
      await turns(20); // the socket towards the browser fills and blocks
      clock.advance(99);
      await settle();
      assert.equal(edge.closeCalls, 0, "open until slowConsumerTimeoutMs has passed");
      clock.advance(1);
      await browser.closed;
      assert.equal(edge.closeCode, GatewayCloseCode.SlowConsumer);
      assert.equal(fixture.gateway.stats().refusals["slow-consumer"], 1);
      assert.equal(fixture.gateway.stats().sessions.open, 0);
    } finally {
      await fixture.close();
    }
  });
});
