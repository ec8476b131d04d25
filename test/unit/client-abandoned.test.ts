/**
 * `TransportClient.onAbandoned`: chunk fetches and stream requests given up by their caller
 * (deadline or abort) are reported once, with their ids; nothing is reported for requests failed by
 * the connection closing or refused before sending. An abandoned stream's late StreamResponse body
 * (larger than the stream high-water mark) is read off the socket and dropped, so the connection
 * stays in sync.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { AbandonedRequest, TransportClient } from "../../src/client/transport-client.ts";
import { ConnectionClosedError, InvalidArgumentError, TimeoutError } from "../../src/errors.ts";
import type { RpcHandler } from "../../src/responder/rpc-handler.ts";
import type { StreamManager } from "../../src/responder/stream-manager.ts";
import { pattern, readAll, serve, settle, text, utf8 } from "../helpers/engine-fixtures.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

const echo: RpcHandler = { receive: (_client, message) => message };

function gatedManager(gate: Promise<void>, bigLength: number): StreamManager {
  return {
    getChunk: async (streamId, chunkIndex) => (await gate, utf8(`chunk ${streamId}/${chunkIndex}`)),
    openStream: async (id) => {
      if (id !== "quick") await gate;
      const data = id === "big" ? pattern(bigLength) : utf8(`stream ${id}`);
      return { byteLength: data.byteLength, body: [data] };
    },
    connectionTerminated() {},
  };
}

test("deadlines and aborts of chunk fetches and streams are reported once, with their ids", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const bigLength = 3 * 1024 * 1024;
  const clock = new FakeClock();
  const served = serve(
    {
      rpcHandler: { receive: async (_c, m) => (await gate, m) },
      streamManager: gatedManager(gate, bigLength),
    },
    { streamHighWaterMark: 4096, clock },
  );
  const seen: AbandonedRequest[] = [];
  let seenClient: TransportClient | undefined;
  const unsubscribe = served.client.onAbandoned((request, client) => {
    seen.push(request);
    seenClient = client;
  });
  try {
    const controller = new AbortController();
    const reason = new Error("user navigated away");
    const timedOutChunk = served.client.fetchChunk(7, 3, { timeoutMs: 5 });
    const bigId = 2n ** 62n + 1n;
    const abortedChunk = served.client.fetchChunk(bigId, 0, { signal: controller.signal });
    const timedOutStream = served.client.stream("big", { timeoutMs: 5 });
    const abortedStream = served.client.stream("other", { signal: controller.signal });
    const rpc = served.client.sendRpc(utf8("rpc"), { timeoutMs: 5 });
    for (const promise of [timedOutChunk, timedOutStream, rpc]) promise.catch(() => {});
    clock.advance(4);
    await settle();
    assert.equal(seen.length, 0, "nothing abandoned before the deadline");
    clock.advance(1);
    for (const promise of [timedOutChunk, timedOutStream, rpc]) {
      assert.ok((await promise.catch((error) => error)) instanceof TimeoutError);
    }
    controller.abort(reason);
    assert.equal(await abortedChunk.catch((error) => error), reason);
    assert.equal(await abortedStream.catch((error) => error), reason);

    assert.equal(seenClient, served.client);
    const byKind = seen.map((request) => {
      const { reason: why, ...ids } = request;
      return { ...ids, timeout: why instanceof TimeoutError, aborted: why === reason };
    });
    assert.deepEqual(byKind.slice(0, 2).sort((a, b) => a.kind.localeCompare(b.kind)), [
      { kind: "chunk", streamId: 7, chunkIndex: 3, timeout: true, aborted: false },
      { kind: "stream", streamId: "big", timeout: true, aborted: false },
    ]);
    assert.deepEqual(byKind.slice(2), [
      { kind: "chunk", streamId: bigId, chunkIndex: 0, timeout: false, aborted: true },
      { kind: "stream", streamId: "other", timeout: false, aborted: true },
    ]);

    // Refused before sending (already aborted): nothing to abandon, nothing reported.
    await assert.rejects(served.client.fetchChunk(1, 1, { signal: controller.signal }));
    assert.equal(seen.length, 4);

    // The late replies arrive: the 3 MiB body of the abandoned "big" stream is read and dropped
    // (it never reaches a consumer and never stalls the socket); later requests are answered.
    const next = served.client.stream("quick");
    release();
    assert.equal(text(await readAll(await next)), "stream quick");
    assert.equal(text(await served.client.sendRpc(utf8("after"))), "after");
    assert.equal(text(await served.client.fetchChunk(7, 3)), "chunk 7/3");
    await settle();
    const stats = served.client.stats();
    assert.equal(stats.droppedReplies, 5);
    assert.equal(stats.inFlight.total, 0);
    assert.ok(stats.bytesReceived > bigLength, `${stats.bytesReceived} bytes received`);

    unsubscribe();
    unsubscribe();
    const late = new AbortController();
    const unwatched = served.client.fetchChunk(9, 9, { signal: late.signal });
    late.abort(reason);
    assert.equal(await unwatched.catch((error) => error), reason);
    assert.equal(seen.length, 4);
  } finally {
    await served.close();
  }
});

test("requests failed by the connection closing are not reported as abandoned", async () => {
  const served = serve({
    rpcHandler: echo,
    streamManager: gatedManager(new Promise(() => {}), 10),
  });
  const seen: AbandonedRequest[] = [];
  served.client.onAbandoned((request) => seen.push(request));
  const controller = new AbortController();
  const chunk = served.client.fetchChunk(1, 0, { timeoutMs: 60_000, signal: controller.signal });
  const stream = served.client.stream("slow", { timeoutMs: 60_000, signal: controller.signal });
  await served.close();
  for (const request of [chunk, stream]) {
    assert.ok((await request.catch((error) => error)) instanceof ConnectionClosedError);
  }
  controller.abort();
  await settle(1);
  assert.deepEqual(seen, []);
});

test("a throwing listener is reported to onHandlerError and does not stop the others", async () => {
  const reported: string[] = [];
  const clock = new FakeClock();
  const served = serve(
    { rpcHandler: echo, streamManager: gatedManager(new Promise(() => {}), 10) },
    { onHandlerError: (error, context) => reported.push(`${context}: ${String(error)}`), clock },
  );
  try {
    const seen: string[] = [];
    served.client.onAbandoned(() => {
      throw new Error("listener broke");
    });
    served.client.onAbandoned((request) => seen.push(request.kind));
    const fetching = served.client.fetchChunk(5, 1, { timeoutMs: 1 });
    clock.advance(1);
    await assert.rejects(fetching, TimeoutError);
    assert.deepEqual(seen, ["chunk"]);
    assert.equal(reported.length, 1);
    assert.match(reported[0]!, /onAbandoned listener \(chunk 5\): Error: listener broke/);
    assert.throws(() => served.client.onAbandoned("nope" as never), InvalidArgumentError);
  } finally {
    await served.close();
  }
});
