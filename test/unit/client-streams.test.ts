/**
 * Chunk fetches, streams and uploads end to end over the in-memory socket pair, including
 * backpressure reaching the socket, reply ordering, the transfer cap and broken stream bodies.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { TransportClient } from "../../src/client/transport-client.ts";
import { ConnectionClosedError, ProtocolError, RemoteError } from "../../src/errors.ts";
import type { Int64 } from "../../src/protocol/messages.ts";
import type { RpcHandler } from "../../src/responder/rpc-handler.ts";
import type { StreamBody, StreamManager } from "../../src/responder/stream-manager.ts";
import { concat, pattern, readAll, serve, settle, text, utf8 } from "../helpers/engine-fixtures.ts";

/** A test StreamManager: chunk k of stream s is `pattern(size, s + k)`; streams by name. */
class TestStreamManager implements StreamManager {
  readonly events: string[] = [];
  terminated = 0;
  chunkGate: Promise<void> | undefined;
  constructor(readonly chunkSize = 1000, readonly streams = new Map<string, () => StreamBody>()) {}

  async getChunk(streamId: Int64, chunkIndex: number): Promise<Uint8Array> {
    if (this.chunkGate) await this.chunkGate;
    if (streamId === 404) throw new Error(`Unknown stream ${streamId}`);
    return pattern(this.chunkSize, Number(BigInt(streamId) % 251n) + chunkIndex);
  }
  openStream(streamId: string): Promise<StreamBody> {
    const open = this.streams.get(streamId);
    if (open === undefined) return Promise.reject(new Error(`Stream '${streamId}' was not found.`));
    return Promise.resolve(open());
  }
  connectionTerminated(): void {
    this.terminated++;
  }
  chunkBeingSent(streamId: Int64): void {
    this.events.push(`chunk+${streamId}`);
  }
  chunkSent(streamId: Int64): void {
    this.events.push(`chunk-${streamId}`);
  }
  streamBeingSent(streamId: string): void {
    this.events.push(`stream+${streamId}`);
  }
  streamSent(streamId: string): void {
    this.events.push(`stream-${streamId}`);
  }
}

const echo: RpcHandler = { receive: (_client, message) => message };

async function* slowChunks(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    yield chunk;
  }
}

test("fetchChunk: contents, pipelined fetches, failures and 63-bit stream ids", async () => {
  const manager = new TestStreamManager(70_000);
  const served = serve({ rpcHandler: echo, streamManager: manager });
  try {
    const fetches = [0, 1, 2, 3].map((k) => served.client.fetchChunk(7, k));
    const chunks = await Promise.all(fetches);
    chunks.forEach((chunk, k) => assert.deepEqual(chunk, pattern(70_000, 7 + k)));
    const bigId = 2n ** 62n + 5n;
    assert.deepEqual(
      await served.client.fetchChunk(bigId, 1),
      pattern(70_000, Number(bigId % 251n) + 1),
    );
    const failure = await served.client.fetchChunk(404, 0).catch((error) => error);
    assert.ok(failure instanceof RemoteError);
    assert.equal(failure.remoteMessage, "Unknown stream 404");
    assert.match(failure.message, /chunk 0 of stream 404/);
    // Every chunk that started being sent was reported sent, in pairs.
    await settle();
    const started = manager.events.filter((e) => e.startsWith("chunk+")).length;
    const finished = manager.events.filter((e) => e.startsWith("chunk-")).length;
    assert.equal(started, 5);
    assert.equal(finished, 5);
  } finally {
    await served.close();
  }
  assert.equal(manager.terminated, 1);
});

test("concurrent fetches of the same (stream, chunk) are matched FIFO", async () => {
  const served = serve({ rpcHandler: echo, streamManager: new TestStreamManager(10) });
  try {
    const replies = await Promise.all([1, 2, 3].map(() => served.client.fetchChunk(9, 2)));
    for (const reply of replies) assert.deepEqual(reply, pattern(10, 11));
  } finally {
    await served.close();
  }
});

test("stream: exact bytes from an async source, empty streams, failures with Spark's text", async () => {
  const body = pattern(100_000, 1);
  const manager = new TestStreamManager(
    1,
    new Map<string, () => StreamBody>([
      ["gen", () => ({
        byteLength: body.byteLength,
        body: slowChunks([body.subarray(0, 1), body.subarray(1, 65_537), body.subarray(65_537)]),
      })],
      ["empty", () => ({ byteLength: 0, body: [] })],
    ]),
  );
  const served = serve({ rpcHandler: echo, streamManager: manager });
  try {
    const stream = await served.client.stream("gen");
    assert.equal(stream.byteLength, 100_000);
    assert.deepEqual(await readAll(stream), body);
    const empty = await served.client.stream("empty");
    assert.equal(empty.byteLength, 0);
    assert.equal((await readAll(empty)).byteLength, 0);
    const missing = await served.client.stream("nope").catch((error) => error);
    assert.ok(missing instanceof RemoteError);
    assert.equal(missing.remoteMessage, "Stream 'nope' was not found.");
    assert.equal(text(await served.client.sendRpc(utf8("after"))), "after");
    await settle();
    assert.deepEqual(
      manager.events,
      ["stream+gen", "stream-gen", "stream+empty", "stream-empty"],
    );
  } finally {
    await served.close();
  }
});

test("stream replies go out in request order even when openStream settles out of order", async () => {
  const releases: (() => void)[] = [];
  const streams = new Map<string, () => StreamBody>();
  const manager = new TestStreamManager(1, streams);
  manager.openStream = (streamId: string) =>
    new Promise<StreamBody>((resolve, reject) => {
      const data = utf8(`content of ${streamId}`);
      const open = () =>
        streamId === "fails"
          ? reject(new Error("fails on purpose"))
          : resolve({ byteLength: data.byteLength, body: [data] });
      if (streamId === "slow") releases.push(open);
      else open();
    });
  const served = serve({ rpcHandler: echo, streamManager: manager });
  try {
    const slow = served.client.stream("slow");
    const fails = served.client.stream("fails");
    const fast = served.client.stream("fast");
    await settle();
    releases.forEach((release) => release());
    assert.equal(text(await readAll(await slow)), "content of slow");
    await assert.rejects(fails, (error: unknown) => error instanceof RemoteError);
    assert.equal(text(await readAll(await fast)), "content of fast");
  } finally {
    await served.close();
  }
});

test("a stream consumer that does not read pauses the socket; reading resumes it", async () => {
  const body = pattern(8 * 1024 * 1024, 5);
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < body.byteLength; at += 64 * 1024) {
    chunks.push(body.subarray(at, at + 64 * 1024));
  }
  const manager = new TestStreamManager(
    1,
    new Map<string, () => StreamBody>([
      ["big", () => ({ byteLength: body.byteLength, body: chunks })],
    ]),
  );
  const served = serve(
    { rpcHandler: echo, streamManager: manager },
    { streamHighWaterMark: 256 * 1024 },
    { highWaterMark: 128 * 1024 },
  );
  try {
    const stream = await served.client.stream("big");
    await settle(5);
    assert.ok(served.clientSocket.paused, "client socket paused while nobody reads");
    // The server could not hand the whole body to its socket: backpressure reached the sender.
    assert.ok(served.serverSide.stats().bytesSent < body.byteLength);
    const received = await readAll(stream);
    assert.deepEqual(received, body);
    assert.ok(served.clientSocket.resumes > 0);
    assert.equal(served.clientSocket.paused, false);
    assert.equal(text(await served.client.sendRpc(utf8("after"))), "after");
  } finally {
    await served.close();
  }
});

test("cancelling a stream discards the rest of its body; the connection stays in sync", async () => {
  const body = pattern(3 * 1024 * 1024);
  const manager = new TestStreamManager(
    1,
    new Map<string, () => StreamBody>([
      ["big", () => ({ byteLength: body.byteLength, body: [body] })],
    ]),
  );
  const served = serve({ rpcHandler: echo, streamManager: manager }, { streamHighWaterMark: 1024 });
  try {
    const stream = await served.client.stream("big");
    const reader = stream.getReader();
    const first = await reader.read();
    assert.ok(first.value && first.value.byteLength > 0);
    await reader.cancel("not interested");
    assert.equal(text(await served.client.sendRpc(utf8("after cancel"))), "after cancel");
  } finally {
    await served.close();
  }
});

interface UploadRecord {
  meta: string;
  bytes: Uint8Array;
}

function uploadHandler(records: UploadRecord[]): RpcHandler {
  return {
    receive: (_client, message) => message,
    async receiveStream(_client, meta, body) {
      const bytes = await readAll(body);
      records.push({ meta: text(meta), bytes });
      return utf8(`upload:${text(meta)}:${bytes.byteLength}`);
    },
  };
}

test("uploadStream: Uint8Array, async iterable and ReadableStream bodies", async () => {
  const records: UploadRecord[] = [];
  const served = serve({ rpcHandler: uploadHandler(records) });
  try {
    const data = pattern(50_000, 9);
    assert.equal(text(await served.client.uploadStream(utf8("bytes"), data)), "upload:bytes:50000");
    const pieces = [data.subarray(0, 10), data.subarray(10, 40_000), data.subarray(40_000)];
    const fromIterable = await served.client.uploadStream(utf8("iter"), slowChunks(pieces), {
      byteLength: data.byteLength,
    });
    assert.equal(text(fromIterable), "upload:iter:50000");
    const readable = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const piece of pieces) controller.enqueue(piece);
        controller.close();
      },
    });
    const fromStream = await served.client.uploadStream(utf8("stream"), readable, {
      byteLength: data.byteLength,
    });
    assert.equal(text(fromStream), "upload:stream:50000");
    const empty = await served.client.uploadStream(utf8("empty"), new Uint8Array(0));
    assert.equal(text(empty), "upload:empty:0");
    assert.deepEqual(records.map((r) => r.meta), ["bytes", "iter", "stream", "empty"]);
    for (const record of records.slice(0, 3)) assert.deepEqual(record.bytes, data);
  } finally {
    await served.close();
  }
});

test("frames sent during an upload wait for its body and are not interleaved with it", async () => {
  const records: UploadRecord[] = [];
  const served = serve({ rpcHandler: uploadHandler(records) });
  try {
    const data = pattern(300_000, 2);
    const pieces = [
      data.subarray(0, 100_000),
      data.subarray(100_000, 200_000),
      data.subarray(200_000),
    ];
    const upload = served.client.uploadStream(utf8("u"), slowChunks(pieces), {
      byteLength: 300_000,
    });
    const rpcs = [1, 2, 3].map((i) => served.client.sendRpc(utf8(`rpc-${i}`)));
    assert.deepEqual((await Promise.all(rpcs)).map(text), ["rpc-1", "rpc-2", "rpc-3"]);
    assert.equal(text(await upload), "upload:u:300000");
    assert.deepEqual(records[0]!.bytes, data);
  } finally {
    await served.close();
  }
});

test("an upload handler that does not read pauses the uploader's peer socket (backpressure)", async () => {
  let bodyStream: ReadableStream<Uint8Array> | undefined;
  let done!: (reply: Uint8Array) => void;
  const served = serve(
    {
      rpcHandler: {
        receive: (_c, m) => m,
        receiveStream(_client, _meta, body) {
          bodyStream = body;
          return new Promise<Uint8Array>((resolve) => (done = resolve));
        },
      },
      streamHighWaterMark: 64 * 1024,
    },
    {},
    { highWaterMark: 64 * 1024 },
  );
  try {
    const data = pattern(4 * 1024 * 1024, 1);
    const pieces: Uint8Array[] = [];
    for (let at = 0; at < data.byteLength; at += 32 * 1024) {
      pieces.push(data.subarray(at, at + 32 * 1024));
    }
    const upload = served.client.uploadStream(utf8("slow"), pieces, {
      byteLength: data.byteLength,
    });
    await settle(10);
    assert.ok(served.serverSocket.paused, "server paused reading the upload body");
    assert.ok(served.client.stats().bytesSent < data.byteLength, "uploader held back by drain");
    const received = await readAll(bodyStream!);
    assert.deepEqual(received, data);
    done(utf8("ok"));
    assert.equal(text(await upload), "ok");
  } finally {
    await served.close();
  }
});

test("an upload handler that settles without reading: reply sent, rest discarded, still in sync", async () => {
  const served = serve({
    rpcHandler: { receive: (_c, m) => m, receiveStream: () => utf8("not reading") },
  });
  try {
    const reply = await served.client.uploadStream(utf8("m"), pattern(2 * 1024 * 1024));
    assert.equal(text(reply), "not reading");
    assert.equal(text(await served.client.sendRpc(utf8("next"))), "next");
  } finally {
    await served.close();
  }
});

test("a stream body shorter than announced closes the connection (out of sync)", async () => {
  // The sources are slow, so the StreamResponse header and the first bytes reach the client.
  const manager = new TestStreamManager(
    1,
    new Map<string, () => StreamBody>([
      ["short", () => ({ byteLength: 1000, body: slowChunks([pattern(500), pattern(499)]) })],
    ]),
  );
  let released = 0;
  manager.streams.set("long", () => ({
    byteLength: 10,
    body: slowChunks([pattern(5), pattern(6)]),
    release: () => released++,
  }));
  for (const id of ["short", "long"]) {
    const served = serve({ rpcHandler: echo, streamManager: manager });
    const stream = await served.client.stream(id);
    const pending = served.client.sendRpc(utf8("in flight"));
    const failure = await readAll(stream).catch((error) => error);
    assert.ok(failure instanceof ConnectionClosedError, String(failure));
    await assert.rejects(pending, ConnectionClosedError);
    const { error } = await served.serverSide.closed;
    assert.ok(error instanceof ProtocolError, String(error));
    assert.match(error.message, id === "short" ? /ended after 999/ : /at least 11/);
    await served.close();
  }
  assert.equal(released, 1);
});

test("maxChunksBeingTransferred sheds chunk and stream requests with a clear error, not a close", async () => {
  let open!: () => void;
  const manager = new TestStreamManager(
    100,
    new Map([
      ["s", () => ({ byteLength: 1, body: [new Uint8Array(1)] })],
    ]),
  );
  manager.chunkGate = new Promise<void>((resolve) => (open = resolve));
  const served = serve({ rpcHandler: echo, streamManager: manager, maxChunksBeingTransferred: 1 });
  try {
    const first = served.client.fetchChunk(1, 0);
    await settle();
    const shed = await served.client.fetchChunk(1, 1).catch((error) => error);
    assert.ok(shed instanceof RemoteError);
    assert.match(shed.remoteMessage, /maxChunksBeingTransferred 1/);
    await assert.rejects(served.client.stream("s"), /retry later/);
    assert.equal(served.serverSide.stats().shedRequests, 2);
    assert.equal(served.server.chunksBeingTransferred, 1);
    open();
    assert.deepEqual(await first, pattern(100, 1));
    await settle();
    assert.deepEqual(await served.client.fetchChunk(1, 1), pattern(100, 2));
    assert.equal((await readAll(await served.client.stream("s"))).byteLength, 1);
    assert.ok(served.client.isActive);
    await settle();
    assert.equal(served.server.chunksBeingTransferred, 0);
  } finally {
    await served.close();
  }
});

test("the server-side handle can fetch from a client that serves streams", async () => {
  const served = serve(
    { rpcHandler: echo },
    { streamManager: new TestStreamManager(33) },
  );
  try {
    const client: TransportClient = served.serverSide;
    assert.deepEqual(await client.fetchChunk(3, 4), pattern(33, 7));
    assert.deepEqual(concat([await client.fetchChunk(3, 0)]), pattern(33, 3));
  } finally {
    await served.close();
  }
});
