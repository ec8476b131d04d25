/**
 * Gateway admission (issue 15, item 6), in memory: the in-flight cap applies per request even when
 * one WebSocket message packs thousands of them (the rest of the message waits undecoded); a
 * session that only pings is closed at `idleTimeoutMs`; a browser's Ferry control one-way message
 * (a cancel) is refused with 1008 and never reaches the backend.
 *
 * Nothing here sleeps: in-memory traffic runs to completion within a few event-loop turns, and the
 * gateway's deadlines (`idleTimeoutMs`, `slowConsumerTimeoutMs`) run on a {@linkcode FakeClock}
 * the tests move by hand, so a loaded machine cannot change an outcome.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { encodeMessage } from "../../src/protocol/encoder.ts";
import { FrameDecoder } from "../../src/protocol/decoder.ts";
import { type Message, MessageType } from "../../src/protocol/messages.ts";
import { ControlKind, encodeControl } from "../../src/protocol/ferry-control.ts";
import type { Socket } from "../../src/socket.ts";
import { GatewayCloseCode } from "../../src/gateway/close-codes.ts";
import { FakeClock, settle } from "../helpers/fake-clock.ts";
import { memoryGateway } from "../helpers/gateway-fixture.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);

/** Lets in-memory traffic run: `count` event-loop turns (each runs every queued microtask). */
async function turns(count: number): Promise<void> {
  for (let turn = 0; turn < count; turn++) await settle();
}

/** Every frame of `messages` in one buffer: one WebSocket message. */
function oneMessage(messages: readonly Message[]): Uint8Array {
  const chunks = messages.flatMap((message) => encodeMessage(message));
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function recorder(socket: Socket) {
  const messages: Message[] = [];
  const decoder = new FrameDecoder({ message: (m) => messages.push(m), body() {}, bodyEnd() {} });
  socket.attach({ data: (chunk) => decoder.push(chunk), drain() {}, close() {} });
  return messages;
}

/** Waits for `done` over at most `maxTurns` event-loop turns (a count, not a time). */
async function until(what: string, done: () => boolean, maxTurns = 20_000): Promise<void> {
  for (let turn = 0; !done(); turn++) {
    if (turn >= maxTurns) assert.fail(`${what} did not happen within ${maxTurns} turns`);
    await settle();
  }
}

function fetches(streamId: bigint | number, count: number): Message[] {
  return Array.from({ length: count }, (_, chunkIndex) => ({
    type: MessageType.ChunkFetchRequest,
    streamId,
    chunkIndex,
  }));
}

async function openStream(browser: Socket, messages: Message[], count: number, size: number) {
  browser.write(
    oneMessage([{
      type: MessageType.RpcRequest,
      requestId: 1,
      body: utf8(`open:${count}:${size}`),
    }]),
  );
  await until("the open reply", () => messages.length === 1);
  const reply = messages.shift()!;
  assert.equal(reply.type, MessageType.RpcResponse);
  return new DataView(reply.body.buffer, reply.body.byteOffset).getBigInt64(0);
}

describe("gateway admission (memory)", () => {
  it("20 000 fetches in one message: exactly maxInFlightRequests reach the backend", async () => {
    const maxInFlight = 16;
    let fetchesSeen = 0;
    // The backend takes the fetches and never answers: no slot ever frees.
    const fixture = await memoryGateway({ maxInFlightRequests: maxInFlight }, {
      interceptor: (message) => message.type === MessageType.ChunkFetchRequest && ++fetchesSeen > 0,
    });
    try {
      const { browser, edge } = fixture.open();
      const messages = recorder(browser);
      const count = 20_000;
      const streamId = await openStream(browser, messages, count, 64);
      browser.write(oneMessage(fetches(streamId, count)));
      await until("the cap to fill", () => fetchesSeen >= maxInFlight);
      await turns(50); // more would have arrived by now
      console.log(`one message of ${count} fetches: ${fetchesSeen} reached the backend`);
      assert.equal(fetchesSeen, maxInFlight);
      assert.equal(edge.closeCalls, 0);
    } finally {
      await fixture.close();
    }
  });

  it("the same flood with the page not reading ends with 4429, bounded", async () => {
    const maxInFlight = 16;
    let fetchesSeen = 0;
    const clock = new FakeClock();
    const fixture = await memoryGateway(
      { maxInFlightRequests: maxInFlight, slowConsumerTimeoutMs: 400, clock },
      {
        interceptor: (message) => {
          if (message.type === MessageType.ChunkFetchRequest) fetchesSeen++;
          return false;
        },
      },
    );
    try {
      const { browser, edge } = fixture.open();
      const messages = recorder(browser);
      const count = 20_000;
      const chunkSize = 64 * 1024;
      const streamId = await openStream(browser, messages, count, chunkSize);
      browser.pause(); // the page stops reading its replies
      const flood = oneMessage(fetches(streamId, count));
      browser.write(flood);
      await turns(50); // the socket towards the page fills and blocks
      assert.equal(edge.closeCalls, 0, "open until slowConsumerTimeoutMs has passed");
      clock.advance(399);
      assert.equal(edge.closeCalls, 0, "open until slowConsumerTimeoutMs has passed");
      clock.advance(1);
      await until("the session to close", () => edge.closeCalls > 0);
      const bound = maxInFlight + Math.ceil(2 * 1024 * 1024 / chunkSize);
      console.log(
        `one ${flood.byteLength}-byte message of ${count} fetches, page not reading: ` +
          `${fetchesSeen} fetched (bound ${bound}: the cap plus the socket's buffer); ` +
          `closed with ${edge.closeCode}`,
      );
      assert.ok(fetchesSeen <= bound, `${fetchesSeen} fetches reached the backend`);
      assert.equal(edge.closeCode, GatewayCloseCode.SlowConsumer);
      assert.equal(fixture.gateway.stats().refusals["slow-consumer"], 1);
    } finally {
      await fixture.close();
    }
  });

  it("a reading browser's burst in one message is served in full, within the cap", async () => {
    const maxInFlight = 8;
    const fixture = await memoryGateway({ maxInFlightRequests: maxInFlight });
    try {
      const { browser } = fixture.open();
      const messages = recorder(browser);
      const count = 300;
      const streamId = await openStream(browser, messages, count, 512);
      browser.write(
        oneMessage(
          Array.from({ length: count }, (_, chunkIndex) => ({
            type: MessageType.ChunkFetchRequest,
            streamId,
            chunkIndex,
          })),
        ),
      );
      await until("every reply", () => messages.length === count);
      assert.ok(
        messages.every((m, i) => m.type === MessageType.ChunkFetchSuccess && m.chunkIndex === i),
      );
      console.log(`burst of ${count} fetches in one message: all served, cap ${maxInFlight}`);
    } finally {
      await fixture.close();
    }
  });

  it("frames split anywhere across messages (length fields included) are paced intact", async () => {
    const fixture = await memoryGateway({ maxInFlightRequests: 2 });
    try {
      const { browser } = fixture.open();
      const messages = recorder(browser);
      const streamId = await openStream(browser, messages, 20, 100);
      const bytes = oneMessage([
        ...fetches(streamId, 20),
        { type: MessageType.RpcRequest, requestId: 7, body: utf8("echo") },
      ]);
      for (
        let offset = 0, size = 1;
        offset < bytes.byteLength;
        offset += size, size = size % 7 + 1
      ) {
        browser.write(bytes.slice(offset, offset + size));
      }
      await until("every reply", () => messages.length === 21);
      assert.deepEqual(
        messages.slice(0, 20).map((m) => m.type === MessageType.ChunkFetchSuccess && m.chunkIndex),
        Array.from({ length: 20 }, (_, i) => i),
      );
      assert.deepEqual(messages[20], {
        type: MessageType.RpcResponse,
        requestId: 7,
        body: utf8("echo"),
      });
    } finally {
      await fixture.close();
    }
  });

  it("a session that only pings is closed at idleTimeoutMs (4408); busy ones are not", async () => {
    const clock = new FakeClock();
    const fixture = await memoryGateway({ idleTimeoutMs: 300, clock });
    try {
      const idle = fixture.open({ remoteAddress: "192.0.2.7:1" });
      const idleMessages = recorder(idle.browser);
      const busy = fixture.open({ remoteAddress: "192.0.2.8:1" });
      const busyMessages = recorder(busy.browser);
      const started = clock.now();
      let requestId = 10;
      const ping = encodeControl(ControlKind.Ping, new Uint8Array(8));
      while (idle.edge.closeCalls === 0 && clock.now() - started < 10_000) {
        idle.browser.write(
          oneMessage([{ type: MessageType.RpcRequest, requestId: requestId++, body: ping }]),
        );
        busy.browser.write(
          oneMessage([{
            type: MessageType.RpcRequest,
            requestId: requestId++,
            body: utf8("echo:x"),
          }]),
        );
        await turns(5); // both are answered
        clock.advance(50);
      }
      const after = clock.now() - started;
      console.log(`pinging-only session closed after ${after} ms (idleTimeoutMs 300)`);
      assert.equal(idle.edge.closeCode, GatewayCloseCode.Timeout);
      assert.ok(after >= 300 && after <= 350, `closed ${after} ms in, idleTimeoutMs 300`);
      assert.ok(idleMessages.some((m) => m.type === MessageType.RpcResponse), "pings answered");
      assert.equal(busy.edge.closeCalls, 0, "a session sending requests stays open");
      assert.ok(busyMessages.length > 0);
      assert.equal(fixture.gateway.stats().refusals["idle-timeout"], 1);
    } finally {
      await fixture.close();
    }
  });

  it("a stream still being delivered is not idle, however long it takes", async () => {
    const clock = new FakeClock();
    const fixture = await memoryGateway({ idleTimeoutMs: 200, clock });
    try {
      const { browser, edge } = fixture.open();
      let bodyBytes = 0;
      let ended = false;
      let closeCallsAtEnd = -1;
      const decoder = new FrameDecoder({
        message() {},
        body: (chunk) => {
          bodyBytes += chunk.byteLength;
        },
        bodyEnd: () => {
          ended = true;
          closeCallsAtEnd = edge.closeCalls;
        },
      });
      browser.attach({ data: (chunk) => decoder.push(chunk), drain() {}, close() {} });
      browser.pause(); // the page reads nothing for a while: the body waits in the gateway
      const size = 8 * 1024 * 1024;
      browser.write(oneMessage([{ type: MessageType.StreamRequest, streamId: `gen:${size}` }]));
      for (let step = 0; step < 7; step++) { // more than three idle periods
        await turns(5);
        clock.advance(100);
      }
      assert.equal(edge.closeCalls, 0, "closed while its stream was being delivered");
      browser.resume();
      await until("the whole body", () => ended);
      assert.equal(bodyBytes, size);
      assert.equal(closeCallsAtEnd, 0, "closed before its stream was delivered");
      // Idle since its request long ago; the next look (at most idleTimeoutMs away) closes it.
      await turns(5);
      clock.advance(200);
      await until("the idle close once delivered", () => edge.closeCalls > 0);
      assert.equal(edge.closeCode, GatewayCloseCode.Timeout);
    } finally {
      await fixture.close();
    }
  });

  it("a Ferry cancel from a browser is refused with 1008 and never forwarded", async () => {
    let controlSeen = 0;
    const fixture = await memoryGateway({}, {
      interceptor: (message) => {
        if (message.type === MessageType.OneWayMessage) controlSeen++;
        return false;
      },
    });
    try {
      const { browser, edge } = fixture.open();
      const messages = recorder(browser);
      await openStream(browser, messages, 4, 64); // the backend connection is up
      const cancel = encodeControl(ControlKind.CancelChunk, new Uint8Array(12));
      browser.write(oneMessage([{ type: MessageType.OneWayMessage, body: cancel }]));
      await until("the session to close", () => edge.closeCalls > 0);
      assert.equal(edge.closeCode, GatewayCloseCode.PolicyViolation);
      assert.match(String((edge.closeError as Error).message), /control/);
      assert.equal(controlSeen, 0);
      assert.equal(fixture.gateway.stats().refusals["message-not-allowed"], 1);
    } finally {
      await fixture.close();
    }
  });
});
