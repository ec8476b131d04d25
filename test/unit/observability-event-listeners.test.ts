/**
 * `FerryEventListeners`, the runtime-neutral event sink a browser page (the web demo's timeline)
 * or any application installs where there is no `diagnostics_channel`: subscribers get each
 * request's start and end (the same object) with the connection it went over, which is the object
 * `connectionEventOf(client)` returns; a chunk reply's first-byte time lies between its request
 * and its last byte; a throwing listener does not keep a message from the others; unsubscribed,
 * nothing is published. The tap times a reply's first byte from the read that began its frame.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type ConnectionEvent,
  connectionEventOf,
  FerryEventListeners,
  installFerryEventSink,
  type RequestEvent,
} from "../../src/observability/mod.ts";
import { OneForOneStreamManager, TransportClient, TransportServer } from "../../src/mod.ts";
import { ConnectionTap } from "../../src/observability/connection-tap.ts";
import { currentInstruments } from "../../src/observability/instruments.ts";
import { MessageType } from "../../src/protocol/messages.ts";
import { memoryNetwork } from "../helpers/memory-socket.ts";

test("listeners see requests with their connection and reply times; unsubscribing stops them", async () => {
  const events = new FerryEventListeners();
  installFerryEventSink(events);
  const opened: ConnectionEvent[] = [];
  const started: RequestEvent[] = [];
  const ended: RequestEvent[] = [];
  let thrown = 0;
  const unsubscribe = [
    events.subscribe("ferry:connection:open", (event) => opened.push(event)),
    events.subscribe("ferry:client:request", () => {
      thrown++;
      throw new Error("a broken listener");
    }),
    events.subscribe("ferry:client:request", (request) => started.push(request)),
    events.subscribe("ferry:client:response", (request) => ended.push(request)),
  ];
  try {
    const network = memoryNetwork({ label: "listeners" });
    const streams = new OneForOneStreamManager();
    const server = new TransportServer({
      rpcHandler: { receive: (_client, body) => body },
      streamManager: streams,
    });
    await server.listen(network.listen);
    const client = await TransportClient.connect(network.connect);
    const streamId = streams.registerStream([...server.connections][0]!, {
      chunkCount: 2,
      getChunk: (index: number) => new Uint8Array(200_000 + index),
    });
    assert.equal((await client.fetchChunk(streamId, 1)).byteLength, 200_001);
    await assert.rejects(client.fetchChunk(streamId, 7));

    const mine = connectionEventOf(client);
    assert.ok(mine !== undefined && opened.includes(mine), "the client's connection was opened");
    assert.equal(mine.role, "client");
    assert.equal(thrown, 2, "the throwing listener ran for both requests");
    assert.deepEqual(started.map((request) => request.chunkIndex), [1, 7]);
    assert.deepEqual(ended, started, "the same objects, ended");
    for (const request of ended) assert.equal(request.connection, mine, "its connection");
    const [ok, failed] = ended as [RequestEvent, RequestEvent];
    assert.equal(ok.errorType, undefined);
    const lastByte = ok.startTime + ok.durationMs!;
    assert.ok(
      ok.firstByteTime !== undefined && ok.firstByteTime >= ok.startTime &&
        ok.firstByteTime <= lastByte,
      `first byte ${ok.firstByteTime} within [${ok.startTime}, ${lastByte}]`,
    );
    assert.equal(failed.errorType, "ChunkFetchFailure");
    assert.equal(connectionEventOf({}), undefined, "not a Ferry client");

    for (const stop of unsubscribe) stop();
    assert.equal(events.channel("ferry:client:request").hasSubscribers, false);
    await client.sendRpc(new Uint8Array(1)).catch(() => {});
    assert.equal(started.length, 2, "nothing after unsubscribing");
    await client.close();
    await server.close();
  } finally {
    for (const stop of unsubscribe) stop();
    installFerryEventSink(undefined);
  }
});

test("a reply's first byte is when the read that began its frame arrived", () => {
  // The tap stamps events with performance.now(); here that reads a hand-moved time, so the
  // test asserts exact stamps instead of sleeping and allowing for load.
  let now = 1_000;
  const own = Object.getOwnPropertyDescriptor(performance, "now");
  Object.defineProperty(performance, "now", { value: () => now, configurable: true });
  try {
    const tap = new ConnectionTap(
      { role: "client", transport: "memory", remoteAddress: "peer" },
      { ...currentInstruments(), active: false },
    );
    const fetch = (chunkIndex: number) =>
      tap.sent({ type: MessageType.ChunkFetchRequest, streamId: 1, chunkIndex });
    const reply = (chunkIndex: number) =>
      tap.received({
        type: MessageType.ChunkFetchSuccess,
        streamId: 1,
        chunkIndex,
        body: new Uint8Array(1),
      });
    fetch(0);
    fetch(1);
    const [first, second] = [...tap.outbound.values()] as [RequestEvent, RequestEvent];
    now = 1_010;
    tap.frameStarted();
    // The frame takes more reads; a later read does not move its first byte.
    now = 1_015;
    tap.frameStarted();
    reply(0);
    assert.equal(first.firstByteTime, 1_010, "the read that began the frame");
    assert.equal(first.startTime + first.durationMs!, 1_015, "the last byte");
    // The next frame came whole in one read: its first byte is its last.
    now = 1_020;
    reply(1);
    assert.equal(second.firstByteTime, 1_020, "a delivered frame's start is forgotten");
    assert.equal(second.startTime + second.durationMs!, 1_020, "first byte = last byte");
  } finally {
    // Back to the runtime's own (on the prototype in Node and Deno).
    if (own === undefined) Reflect.deleteProperty(performance, "now");
    else Object.defineProperty(performance, "now", own);
  }
  assert.notEqual(performance.now(), 1_020, "the real performance.now is back");
});
