/**
 * Ferry cancel over real TCP: a client aborts a 1 GiB stream from a slow source part-way (the
 * reader's `cancel()` alone: with cancel enabled the client sends the stream cancel itself); the
 * server stops reading the source at once (0 reads after the cancel reached it) and, since far
 * more than `maxCancelPaddingBytes` is left, resets the connection instead of sending the rest. A
 * stream cancelled with a small rest is finished with padding and the connection carries on. A
 * chunk fetch whose deadline passes is cancelled at the server before its bytes are produced.
 * Prints the figures.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tcpConnect, tcpListen } from "../../adapters/node/tcp.ts";
import { enableFerryCancel, ferryCancelResponder } from "../../src/extensions/ferry-cancel.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { LimitError } from "../../src/errors.ts";
import { OneForOneStreamManager } from "../../src/responder/one-for-one-stream-manager.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { text, utf8 } from "../helpers/engine-fixtures.ts";

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits on real I/O until `condition` holds; the bound is generous so load cannot trip it. */
async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const giveUpAt = performance.now() + timeoutMs;
  while (!condition() && performance.now() < giveUpAt) await sleep(2);
  assert.ok(condition(), `timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A slow source (one 64 KiB chunk per timer tick) that records what happens after `return()`. */
class SlowSource implements AsyncIterable<Uint8Array> {
  reads = 0;
  readsAfterReturn = 0;
  returnedAtRead = -1;
  returnedAt = 0;
  readonly #chunk = new Uint8Array(CHUNK).fill(0x5a);
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: async () => {
        this.reads++;
        if (this.returnedAtRead >= 0) this.readsAfterReturn++;
        await sleep(1);
        return { done: false, value: this.#chunk };
      },
      return: () => {
        this.returnedAtRead = this.reads;
        this.returnedAt = performance.now();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }
}

async function setup(maxCancelPaddingBytes?: number) {
  const sources = new Map<string, { source: SlowSource; byteLength: number; released: number }>();
  const manager = new OneForOneStreamManager({
    openNamedStream: (id) => {
      const byteLength = id === "gib" ? 1024 * MiB : 4 * MiB;
      const entry = { source: new SlowSource(), byteLength, released: 0 };
      sources.set(id, entry);
      return { byteLength, body: entry.source, release: () => entry.released++ };
    },
  });
  const server = new TransportServer({
    rpcHandler: { receive: (_client, message) => message },
    streamManager: manager,
    interceptor: ferryCancelResponder,
    ...(maxCancelPaddingBytes === undefined ? {} : { maxCancelPaddingBytes }),
  });
  const listener = await server.listen(tcpListen({ host: "127.0.0.1", port: 0 }));
  const client = await TransportClient.connect(
    tcpConnect({ host: "127.0.0.1", port: listener.address.port }),
  );
  enableFerryCancel(client);
  const serverSide = [...server.connections][0]!;
  return { server, client, serverSide, sources, manager };
}

/** Reads `bytes` from the stream, then cancels it (the caller abandons it part-way). */
async function readThenCancel(
  stream: ReadableStream<Uint8Array>,
  bytes: number,
  beforeCancel?: () => void,
): Promise<number> {
  const reader = stream.getReader();
  let read = 0;
  while (read < bytes) {
    const { done, value } = await reader.read();
    if (done) break;
    read += value.byteLength;
  }
  beforeCancel?.();
  await reader.cancel(new Error("the caller lost interest"));
  return read;
}

test("aborting a 1 GiB stream from a slow source stops the source and resets instead of sending the rest", async () => {
  const { server, client, serverSide, sources } = await setup();
  try {
    const body = await client.stream("gib");
    assert.equal(body.byteLength, 1024 * MiB);
    let sentAtCancel = 0;
    let cancelSent = 0;
    const read = await readThenCancel(body, 4 * MiB, () => {
      sentAtCancel = serverSide.stats().bytesSent;
      cancelSent = performance.now();
    });
    const closed = await serverSide.closed;
    assert.equal(serverSide.stats().cancelsReceived, 1, "one cancel, sent by the reader's cancel");
    const closedAt = performance.now();
    const entry = sources.get("gib")!;
    const { source } = entry;
    await sleep(200);
    assert.ok(closed.error instanceof LimitError, String(closed.error));
    assert.match(closed.error.message, /more than maxCancelPaddingBytes \(1048576\)/);
    assert.equal(source.readsAfterReturn, 0, "the source was not read after the cancel");
    assert.equal(source.reads, source.returnedAtRead, "no read after release");
    assert.equal(entry.released, 1, "StreamBody.release ran once");
    const sentTotal = serverSide.stats().bytesSent;
    assert.ok(sentTotal < 64 * MiB, `sent ${sentTotal} bytes of 1 GiB`);
    assert.equal(server.chunksBeingTransferred, 0);
    assert.equal(client.isActive, false, "the client's connection ended too");
    console.log(
      `cancel 1 GiB stream (TCP): client read ${(read / MiB).toFixed(1)} MiB then cancelled; ` +
        `server read ${source.reads} chunks of 64 KiB (${source.readsAfterReturn} after the ` +
        `cancel), sent ${(sentTotal / MiB).toFixed(1)} MiB in all ` +
        `(${((sentTotal - sentAtCancel) / MiB).toFixed(2)} MiB after the client sent the cancel, ` +
        `already queued or in flight); source released ` +
        `${(source.returnedAt - cancelSent).toFixed(1)} ms and connection reset ` +
        `${(closedAt - cancelSent).toFixed(1)} ms after the cancel was sent`,
    );
  } finally {
    await client.close();
    await server.close();
  }
});

test("a stream cancelled with a small rest is padded and the connection carries on", async () => {
  const { server, client, serverSide, sources } = await setup(8 * MiB);
  try {
    const body = await client.stream("small");
    const read = await readThenCancel(body, 512 * 1024);
    await until(() => serverSide.stats().cancelsApplied > 0, "the cancel to be applied");
    assert.equal(serverSide.stats().cancelsApplied, 1, "the reader's cancel reached the server");
    assert.equal(serverSide.stats().cancelsReceived, 1);
    assert.equal(text(await client.sendRpc(utf8("after the cancel"))), "after the cancel");
    const { source } = sources.get("small")!;
    assert.equal(source.readsAfterReturn, 0);
    assert.ok(client.isActive && serverSide.isActive);
    const padded = 4 * MiB - source.returnedAtRead * CHUNK;
    console.log(
      `cancel 4 MiB stream (TCP): client read ${(read / 1024).toFixed(0)} KiB; server read ` +
        `${source.reads} chunks, then finished ~${(padded / MiB).toFixed(2)} MiB as zeros ` +
        `(≤ maxCancelPaddingBytes 8 MiB); the connection stayed in sync`,
    );
  } finally {
    await client.close();
    await server.close();
  }
});

test("a chunk fetch past its deadline is cancelled before its bytes are produced", async () => {
  const { server, client, serverSide, manager } = await setup();
  // getChunk is slow until the test lets it finish (after the cancel): no race with real time.
  let finishChunk!: () => void;
  const chunkMayFinish = new Promise<void>((resolve) => (finishChunk = resolve));
  let chunkProduced!: () => void;
  const produced = new Promise<void>((resolve) => (chunkProduced = resolve));
  try {
    const id = manager.registerStream(serverSide, {
      chunkCount: 1,
      getChunk: async () => {
        await chunkMayFinish;
        chunkProduced();
        return new Uint8Array(8 * MiB);
      },
    });
    const sentBefore = serverSide.stats().bytesSent;
    await assert.rejects(client.fetchChunk(id, 0, { timeoutMs: 20 }), /Fetching chunk 0/);
    await until(() => serverSide.stats().cancelsApplied > 0, "the cancel to be applied");
    assert.equal(serverSide.stats().cancelsApplied, 1);
    assert.equal(server.chunksBeingTransferred, 0, "the budget slot was freed at the cancel");
    finishChunk();
    await produced; // getChunk finished (it cannot be interrupted)
    // A round trip behind it: had the chunk been written, its bytes would be ahead of this reply.
    assert.equal(text(await client.sendRpc(utf8("after the chunk"))), "after the chunk");
    const sent = serverSide.stats().bytesSent - sentBefore;
    assert.ok(sent < 1024, `the 8 MiB chunk was never written (${sent} bytes sent)`);
    assert.equal(client.stats().droppedReplies, 0, "no late reply reached the client");
  } finally {
    await client.close();
    await server.close();
  }
});
