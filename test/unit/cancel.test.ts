/**
 * Ferry's cancel extension over the in-memory pair: the wire form, and what a Ferry server does
 * when a chunk fetch or a stream is abandoned by its caller — queued replies are dropped or failed
 * and their sources released, a stream body on the wire is finished with padding (small rest) or
 * the connection reset (large rest), and the source is not read again. A peer not known to be
 * Ferry is never sent a cancel.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeCancel, encodeCancel, isCancel } from "../../src/extensions/ferry-cancel-message.ts";
import {
  enableFerryCancel,
  ferryCancelBootstrap,
  ferryCancelResponder,
  sendFerryCancel,
} from "../../src/extensions/ferry-cancel.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { InvalidArgumentError, LimitError, ProtocolError } from "../../src/errors.ts";
import type { BootstrapContext } from "../../src/pool/pool-options.ts";
import { MessageType } from "../../src/protocol/messages.ts";
import { OneForOneStreamManager } from "../../src/responder/one-for-one-stream-manager.ts";
import type { StreamBody } from "../../src/responder/stream-manager.ts";
import { RawPeer, readAll, serve, settle, text, utf8 } from "../helpers/engine-fixtures.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";

const echo = { receive: (_client: unknown, message: Uint8Array) => message };
const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

/** An async source whose every read waits until the test lets it through; counts reads. */
class GatedSource implements AsyncIterable<Uint8Array> {
  reads = 0;
  returns = 0;
  readonly #waiting: (() => void)[] = [];
  readonly #chunk: Uint8Array;
  constructor(chunkSize: number) {
    this.#chunk = new Uint8Array(chunkSize).fill(7);
  }
  /** Lets `count` pending and future reads complete. */
  allow(count: number): void {
    for (let i = 0; i < count; i++) this.#waiting.shift()?.();
  }
  get waiting(): number {
    return this.#waiting.length;
  }
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: () => {
        this.reads++;
        return new Promise((resolve) =>
          this.#waiting.push(() => resolve({ done: false, value: this.#chunk }))
        );
      },
      return: () => {
        this.returns++;
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000 && !condition(); i++) await settle(1);
  assert.ok(condition(), `timed out waiting for ${what}`);
}

test("wire form: 21-byte chunk cancel, 13+n-byte stream cancel, round trip, typed errors", () => {
  const chunk = encodeCancel({ kind: "chunk", streamId: 0x0102030405n, chunkIndex: 9 });
  assert.equal(hex(chunk), "f546455252590001" + "20" + "0000000102030405" + "00000009");
  const stream = encodeCancel({ kind: "stream", streamId: "gen:1" });
  assert.equal(hex(stream), "f546455252590001" + "21" + "00000005" + hex(utf8("gen:1")));
  assert.ok(isCancel(chunk) && isCancel(stream) && !isCancel(utf8("hello, not a control body")));
  assert.deepEqual(decodeCancel(chunk), { kind: "chunk", streamId: 0x0102030405, chunkIndex: 9 });
  const big = 2n ** 62n + 3n;
  assert.deepEqual(decodeCancel(encodeCancel({ kind: "chunk", streamId: big, chunkIndex: 0 })), {
    kind: "chunk",
    streamId: big,
    chunkIndex: 0,
  });
  assert.deepEqual(decodeCancel(stream), { kind: "stream", streamId: "gen:1" });
  // Later versions may append fields: trailing bytes are ignored.
  assert.deepEqual(decodeCancel(Uint8Array.of(...stream, 1, 2, 3)), decodeCancel(stream));
  assert.throws(() => decodeCancel(chunk.subarray(0, 20)), ProtocolError);
  assert.throws(() => decodeCancel(stream.subarray(0, 15)), /needs at least 18 bytes/);
  const badUtf8 = Uint8Array.of(...stream.subarray(0, 13), 0xff, 0xfe, 0xfd, 0xfc, 0xfb);
  assert.throws(() => decodeCancel(badUtf8), /not valid UTF-8/);
});

test("aborted chunk fetches free their slots at once and their late bytes are never sent", async () => {
  const pending: ((bytes: Uint8Array) => void)[] = [];
  const manager = new OneForOneStreamManager();
  const served = serve({
    rpcHandler: echo,
    streamManager: manager,
    interceptor: ferryCancelResponder,
  });
  const source = {
    chunkCount: 10,
    getChunk: (index: number) =>
      index === 9
        ? new Uint8Array(4).fill(9)
        : new Promise<Uint8Array>((resolve) => pending.push(resolve)),
  };
  const id = manager.registerStream(served.serverSide, source);
  enableFerryCancel(served.client);
  try {
    const controller = new AbortController();
    const fetches = [0, 1, 2, 3, 4].map((i) =>
      served.client.fetchChunk(id, i, { signal: controller.signal })
    );
    await until(() => pending.length === 5, "five getChunk calls");
    assert.equal(served.server.chunksBeingTransferred, 5);
    const sentBefore = served.serverSide.stats().messagesSent;
    controller.abort(new Error("caller gave up"));
    for (const fetch of fetches) await assert.rejects(fetch, /caller gave up/);
    await until(() => served.serverSide.stats().cancelsApplied === 5, "five cancels applied");
    assert.equal(served.server.chunksBeingTransferred, 0, "budget slots freed at once");
    assert.equal(served.serverSide.stats().cancelsReceived, 5);
    // The source delivers late: nothing goes out, the client drops nothing.
    for (const resolve of pending.splice(0)) resolve(new Uint8Array(1 << 16));
    await settle(5);
    assert.equal(served.serverSide.stats().messagesSent, sentBefore, "no reply was written");
    assert.equal(served.client.stats().droppedReplies, 0);
    assert.equal(served.server.chunksBeingTransferred, 0);
    // A random-access stream survives a cancelled chunk: it can be fetched again.
    assert.ok(manager.has(id));
    assert.deepEqual(await served.client.fetchChunk(id, 9), new Uint8Array(4).fill(9));
    console.log(`cancel: 5 aborted chunk fetches → 5 cancels applied, 0 chunk bytes sent`);
  } finally {
    await served.close();
  }
});

test("cancelling a chunk of an in-order stream releases the stream and its source", async () => {
  const manager = new OneForOneStreamManager();
  const served = serve({
    rpcHandler: echo,
    streamManager: manager,
    interceptor: ferryCancelResponder,
  });
  const source = new GatedSource(1024);
  const id = manager.registerStream(served.serverSide, source);
  enableFerryCancel(served.client);
  try {
    const fetch = served.client.fetchChunk(id, 0, { timeoutMs: 20 });
    await assert.rejects(fetch, /Fetching chunk 0 of stream/);
    await until(() => served.serverSide.stats().cancelsApplied === 1, "the cancel");
    assert.equal(manager.has(id), false, "stream released");
    assert.equal(source.returns, 1, "the source's iterator was returned");
    const readsAtCancel = source.reads;
    source.allow(10);
    await settle(5);
    assert.equal(source.reads, readsAtCancel, "no read after the cancel");
    assert.equal(served.server.chunksBeingTransferred, 0);
  } finally {
    await served.close();
  }
});

test("a stream request waiting for its turn is failed in order; its body released, never read", async () => {
  let openFirst!: (body: StreamBody) => void;
  const queuedSource = new GatedSource(100);
  let queuedReleased = 0;
  const manager = new OneForOneStreamManager({
    openNamedStream: (streamId) => {
      if (streamId === "first") return new Promise<StreamBody>((resolve) => (openFirst = resolve));
      if (streamId === "queued") {
        return { byteLength: 1000, body: queuedSource, release: () => queuedReleased++ };
      }
      return { byteLength: 5, body: [utf8("later")] };
    },
  });
  const served = serve({
    rpcHandler: echo,
    streamManager: manager,
    interceptor: ferryCancelResponder,
  });
  enableFerryCancel(served.client);
  try {
    const first = served.client.stream("first");
    const controller = new AbortController();
    const queued = served.client.stream("queued", { signal: controller.signal });
    await until(() => openFirst !== undefined, "openStream(first)");
    await settle(2);
    controller.abort(new Error("not needed"));
    await assert.rejects(queued, /not needed/);
    await until(() => served.serverSide.stats().cancelsApplied === 1, "the cancel");
    assert.equal(queuedReleased, 1, "its body released as soon as cancelled");
    openFirst({ byteLength: 5, body: [utf8("first")] });
    assert.equal(text(await readAll(await first)), "first");
    assert.equal(text(await readAll(await served.client.stream("later"))), "later");
    assert.equal(queuedSource.reads, 0, "the cancelled body was never read");
    assert.equal(queuedReleased, 1);
    assert.equal(served.server.chunksBeingTransferred, 0);
  } finally {
    await served.close();
  }
});

test("a body on the wire with a small rest is padded; the source is not read again", async () => {
  let released = 0;
  const source = new GatedSource(16 * 1024);
  const length = 256 * 1024;
  const manager = new OneForOneStreamManager({
    openNamedStream: () => ({ byteLength: length, body: source, release: () => released++ }),
  });
  const served = serve({
    rpcHandler: echo,
    streamManager: manager,
    interceptor: ferryCancelResponder,
  });
  try {
    const stream = served.client.stream("slow");
    await until(() => source.waiting === 1, "the first read");
    source.allow(2);
    const body = await stream;
    const reader = body.getReader();
    assert.equal((await reader.read()).value?.byteLength, 16 * 1024);
    await reader.cancel();
    assert.equal(sendFerryCancel(served.client, { kind: "stream", streamId: "slow" }), true);
    await until(() => served.serverSide.stats().cancelsApplied === 1, "the cancel");
    assert.equal(released, 1);
    assert.equal(source.returns, 1);
    const readsAtCancel = source.reads;
    source.allow(100);
    // The rest (≤ 1 MiB default) went out as zeros: the connection is still in sync.
    assert.equal(text(await served.client.sendRpc(utf8("still in sync"))), "still in sync");
    assert.equal(source.reads, readsAtCancel, "no read after the cancel");
    assert.ok(served.client.isActive);
    assert.equal(served.server.chunksBeingTransferred, 0);
  } finally {
    await served.close();
  }
});

test("a body on the wire with more left than maxCancelPaddingBytes resets the connection", async () => {
  const source = new GatedSource(64 * 1024);
  const manager = new OneForOneStreamManager({
    openNamedStream: () => ({ byteLength: 2 ** 30, body: source }),
  });
  const served = serve({
    rpcHandler: echo,
    streamManager: manager,
    interceptor: ferryCancelResponder,
    maxCancelPaddingBytes: 64 * 1024,
  });
  enableFerryCancel(served.client);
  try {
    const stream = served.client.stream("gib");
    await until(() => source.waiting === 1, "the first read");
    source.allow(1);
    const body = await stream;
    await body.cancel(); // with cancel enabled, this alone sends the stream cancel
    const closed = await served.serverSide.closed;
    assert.equal(served.serverSide.stats().cancelsReceived, 1);
    assert.ok(closed.error instanceof LimitError, String(closed.error));
    assert.match(closed.error.message, /cancelled by the peer with \d+ of its 1073741824 bytes/);
    const readsAtClose = source.reads;
    source.allow(100);
    await settle(3);
    assert.equal(source.reads, readsAtClose);
    assert.ok(readsAtClose <= 2, `source reads: ${readsAtClose}`);
    assert.equal(source.returns, 1);
    assert.ok(served.serverSide.stats().bytesSent < 1024 * 1024);
  } finally {
    await served.close();
  }
});

test("ambiguous and unknown cancels are ignored; malformed ones are reported", async () => {
  const errors: string[] = [];
  let open = 0;
  const gates: ((body: StreamBody) => void)[] = [];
  const manager = new OneForOneStreamManager({
    openNamedStream: () => {
      open++;
      return new Promise<StreamBody>((resolve) => gates.push(resolve));
    },
  });
  const served = serve({
    rpcHandler: echo,
    streamManager: manager,
    interceptor: ferryCancelResponder,
    onHandlerError: (error) => errors.push(String(error)),
  });
  try {
    const a = served.client.stream("same");
    const b = served.client.stream("same");
    await until(() => open === 2, "both opened");
    sendFerryCancel(served.client, { kind: "stream", streamId: "same" });
    sendFerryCancel(served.client, { kind: "stream", streamId: "nobody" });
    sendFerryCancel(served.client, { kind: "chunk", streamId: 42, chunkIndex: 1 });
    served.client.send(encodeCancel({ kind: "stream", streamId: "x" }).subarray(0, 12));
    // The malformed one never reaches the responder's cancelServing: it is reported instead.
    await until(() => errors.length === 1, "the malformed cancel reported");
    assert.equal(served.serverSide.stats().cancelsReceived, 3);
    assert.equal(served.serverSide.stats().cancelsApplied, 0);
    assert.equal(served.serverSide.stats().handlerErrors, 1);
    assert.match(errors[0]!, /Malformed Ferry cancel/);
    for (const gate of gates) gate({ byteLength: 2, body: [utf8("ok")] });
    assert.equal(text(await readAll(await a)), "ok");
    assert.equal(text(await readAll(await b)), "ok");
    assert.throws(
      () => sendFerryCancel(served.client, { kind: "chunk", streamId: 1, chunkIndex: -1 }),
      InvalidArgumentError,
    );
  } finally {
    await served.close();
  }
});

test("the bootstrap never sends a cancel to a peer not known to be Ferry", async () => {
  for (const features of [[], ["ferry"]]) {
    const [a, b] = memorySocketPair();
    const spark = new RawPeer(b); // a Spark-like server: codec only, never answers
    const client = new TransportClient(a);
    const context = { peerFeatures: new Set(features) } as unknown as BootstrapContext;
    await ferryCancelBootstrap()(client, context);
    const controller = new AbortController();
    const fetch = client.fetchChunk(5, 0, { signal: controller.signal });
    const stream = client.stream("s", { signal: controller.signal });
    await spark.received(2);
    controller.abort(new Error("stop"));
    await assert.rejects(fetch, /stop/);
    await assert.rejects(stream, /stop/);
    await client.sendRpc(utf8("x"), { timeoutMs: 1 }).catch(() => {});
    await spark.received(3);
    const types = spark.messages.map((message) => message.type);
    if (features.length === 0) {
      assert.deepEqual(types, [
        MessageType.ChunkFetchRequest,
        MessageType.StreamRequest,
        MessageType.RpcRequest,
      ]);
    } else {
      // Told the peer is Ferry, the two cancels go out (before the RPC).
      assert.deepEqual(types, [
        MessageType.ChunkFetchRequest,
        MessageType.StreamRequest,
        MessageType.OneWayMessage,
        MessageType.OneWayMessage,
        MessageType.RpcRequest,
      ]);
    }
    await client.close();
  }
});
