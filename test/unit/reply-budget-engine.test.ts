/**
 * Pulled replies through the engine (memory sockets): a chunk source is read only when the
 * connection's reply window and the server's reply memory have room; its bytes are charged before
 * the read and given back when handed to the socket, on failure, on a Ferry cancel and when the
 * connection closes; waiting connections take turns. Nothing is left charged afterwards.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  enableFerryCancel,
  ferryCancelResponder,
  sendFerryCancel,
} from "../../src/extensions/ferry-cancel.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import type { Int64 } from "../../src/protocol/messages.ts";
import type { Peer } from "../../src/responder/peer.ts";
import type { StreamBody, StreamManager } from "../../src/responder/stream-manager.ts";
import { TransferBudget } from "../../src/responder/transfer-budget.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { readAll, RecordingSocket, serve, settle } from "../helpers/engine-fixtures.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";

const MiB = 1024 * 1024;
const echo = { receive: (_client: unknown, message: Uint8Array) => message };

/**
 * A StreamManager of any stream id whose chunk `i` is `size` bytes of `i`; chunk index 13 fails.
 * `hold` parks reads until `releaseAll`. Logs which connection each read was for.
 */
class CountingManager implements StreamManager {
  reads = 0;
  readonly log: unknown[] = [];
  hold = false;
  readonly #parked: (() => void)[] = [];
  readonly #size: number;
  constructor(size: number) {
    this.#size = size;
  }
  getChunk(_streamId: Int64, chunkIndex: number, client: Peer): Promise<Uint8Array> {
    this.reads++;
    this.log.push(client);
    if (chunkIndex === 13) return Promise.reject(new Error("chunk 13 is unlucky"));
    const bytes = new Uint8Array(this.#size).fill(chunkIndex & 0xff);
    if (!this.hold) return Promise.resolve(bytes);
    return new Promise((resolve) => this.#parked.push(() => resolve(bytes)));
  }
  get parked(): number {
    return this.#parked.length;
  }
  releaseAll(): void {
    for (const resolve of this.#parked.splice(0)) resolve();
  }
  opens = 0;
  streamReleases = 0;
  openStream(streamId: string): Promise<StreamBody> {
    this.opens++;
    const bytes = new Uint8Array(this.#size).fill(streamId.length);
    return Promise.resolve({
      byteLength: bytes.byteLength,
      body: [bytes],
      release: () => this.streamReleases++,
    });
  }
  connectionTerminated(): void {}
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 3000 && !condition(); i++) await settle(1);
  assert.ok(condition(), `timed out waiting for ${what}`);
}

test("an unread connection holds one window of chunk bytes; the rest wait unread", async () => {
  const manager = new CountingManager(MiB);
  const budget = new TransferBudget(10_000, { replyWindowBytes: 4 * MiB }, 64 * MiB);
  const served = serve({
    rpcHandler: echo,
    streamManager: manager,
    transferBudget: budget,
    interceptor: ferryCancelResponder,
  });
  try {
    served.clientSocket.pause(); // the client never reads its socket
    const fetches = Array.from({ length: 100 }, (_, i) => served.client.fetchChunk(1, i));
    await until(() => manager.reads >= 4, "the first reads");
    await settle(10);
    const memory = budget.replyMemory;
    console.log(
      `unread: 100 fetches of 1 MiB → ${manager.reads} reads, ${memory.charged / MiB} MiB ` +
        `charged (window 4 MiB), socket holds ${served.serverSocket.bufferedAmount} bytes`,
    );
    // The window's 4 reads, plus what the socket took below its high-water mark (1 MiB).
    assert.ok(manager.reads <= 6, `${manager.reads} reads`);
    assert.ok(memory.charged <= 4 * MiB);
    // Accepted, waiting as records: only the reads count as transfers. A reply the socket took
    // whole (its bytes below the socket's high-water mark) is done: neither waiting nor in transfer.
    const handedWhole = Math.floor(served.serverSocket.bufferedAmount / (MiB + 21));
    assert.ok(handedWhole <= 1, `${handedWhole} replies in the socket`);
    assert.equal(memory.waitingReplies + served.server.chunksBeingTransferred, 100 - handedWhole);
    assert.ok(served.server.chunksBeingTransferred <= 6);
    served.clientSocket.resume();
    const results = await Promise.allSettled(fetches);
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 99);
    const failed = results[13] as PromiseRejectedResult;
    assert.match(String(failed.reason), /chunk 13 is unlucky/, "a failed read fails its fetch");
    assert.equal(manager.reads, 100, "every source read once");
    await until(() => budget.inProgress === 0, "transfers done");
    assert.equal(memory.charged, 0);
    assert.equal(memory.waiting, 0);
  } finally {
    await served.close();
  }
});

test("a cancelled waiting fetch never reads; a cancelled read gives its bytes back", async () => {
  const manager = new CountingManager(MiB);
  manager.hold = true;
  const budget = new TransferBudget(10_000, { replyWindowBytes: 2 * MiB }, 64 * MiB);
  const served = serve({
    rpcHandler: echo,
    streamManager: manager,
    transferBudget: budget,
    interceptor: ferryCancelResponder,
  });
  enableFerryCancel(served.client);
  try {
    const controller = new AbortController();
    const signal = controller.signal;
    const fetches = Array.from(
      { length: 10 },
      (_, i) => served.client.fetchChunk(1, i, { signal }),
    );
    await until(() => manager.parked === 2, "two reads in the window");
    assert.equal(budget.replyMemory.charged, 2 * MiB);
    controller.abort(new Error("gave up"));
    for (const fetch of fetches) await assert.rejects(fetch, /gave up/);
    await until(() => served.serverSide.stats().cancelsApplied === 10, "ten cancels applied");
    assert.equal(budget.inProgress, 0, "slots freed at once");
    assert.equal(budget.replyMemory.charged, 2 * MiB, "the two reads still hold their bytes");
    manager.releaseAll(); // the late bytes are dropped and their charge given back
    await until(() => budget.replyMemory.charged === 0, "late reads released");
    assert.equal(manager.reads, 2, "the eight waiting fetches never read their source");
    manager.hold = false;
    assert.equal((await served.client.fetchChunk(1, 3)).byteLength, MiB, "still serving");
  } finally {
    await served.close();
  }
  assert.equal(budget.replyMemory.charged, 0);
});

test("a connection closing drops its waiting fetches and gives back every byte", async () => {
  const manager = new CountingManager(MiB);
  manager.hold = true;
  const budget = new TransferBudget(10_000, { replyWindowBytes: 3 * MiB }, 64 * MiB);
  const served = serve({
    rpcHandler: echo,
    streamManager: manager,
    transferBudget: budget,
    interceptor: ferryCancelResponder,
  });
  try {
    const fetches = Array.from({ length: 50 }, (_, i) => served.client.fetchChunk(1, i));
    await until(() => manager.parked === 3, "three reads in the window");
    assert.equal(budget.replyMemory.waitingReplies, 47);
    served.serverSide.close(new Error("dropped by the test"));
    for (const fetch of fetches) await assert.rejects(fetch);
    await until(() => budget.replyMemory.waitingReplies === 0, "waiting fetches dropped");
    assert.equal(budget.inProgress, 3, "the three reads still hold their slots");
    manager.releaseAll();
    await until(() => budget.inProgress === 0, "reads settled");
    assert.equal(budget.replyMemory.charged, 0);
    assert.equal(budget.replyMemory.waiting, 0);
    assert.equal(manager.reads, 3);
  } finally {
    await served.close();
  }
});

test("stream requests open their source only with room; a waiting one can be cancelled", async () => {
  const manager = new CountingManager(MiB);
  const budget = new TransferBudget(10_000, { replyWindowBytes: 4 * MiB }, 64 * MiB);
  const served = serve({
    rpcHandler: echo,
    streamManager: manager,
    transferBudget: budget,
    interceptor: ferryCancelResponder,
  });
  try {
    served.clientSocket.pause();
    const streams = Array.from({ length: 20 }, (_, i) => served.client.stream(`s${i}`));
    await until(() => manager.opens >= 4, "the first opens");
    await settle(10);
    assert.ok(manager.opens <= 5, `${manager.opens} streams opened`);
    assert.ok(budget.replyMemory.charged <= 4 * MiB);
    assert.equal(sendFerryCancel(served.client, { kind: "stream", streamId: "s15" }), true);
    await until(() => served.serverSide.stats().cancelsApplied === 1, "the cancel applied");
    served.clientSocket.resume();
    const results = await Promise.allSettled(
      streams.map((stream) => stream.then((body) => readAll(body))),
    );
    const rejected = results.flatMap((r, i) => r.status === "rejected" ? [i] : []);
    assert.deepEqual(rejected, [15], "the cancelled one fails in its turn, the rest arrive");
    assert.match(String((results[15] as PromiseRejectedResult).reason), /cancelled by the client/);
    assert.equal(manager.opens, 19, "the cancelled request never opened its stream");
    await until(() => budget.inProgress === 0, "transfers done");
    assert.equal(manager.streamReleases, 19);
    assert.equal(budget.replyMemory.charged, 0);
    // A connection closing with stream requests waiting gives everything back.
    served.clientSocket.pause();
    const late = Array.from({ length: 10 }, (_, i) => served.client.stream(`late${i}`));
    await until(() => manager.opens >= 23, "the next window of opens");
    served.serverSide.close(new Error("dropped by the test"));
    for (const stream of late) await assert.rejects(stream);
    await until(() => budget.inProgress === 0, "waiting requests dropped");
    assert.ok(manager.opens <= 24);
    await until(() => manager.streamReleases === manager.opens, "opened bodies released");
    assert.equal(budget.replyMemory.charged, 0);
    assert.equal(budget.replyMemory.waiting, 0);
  } finally {
    await served.close();
  }
});

test("with the server budget full, backlogged connections take turns", async () => {
  const manager = new CountingManager(MiB);
  const budget = new TransferBudget(10_000, { replyWindowBytes: 8 * MiB }, 2 * MiB);
  const server = new TransportServer({
    rpcHandler: echo,
    streamManager: manager,
    transferBudget: budget,
  });
  const clients: TransportClient[] = [];
  const sides: unknown[] = [];
  for (let i = 0; i < 3; i++) {
    const [a, b] = memorySocketPair();
    sides.push(server.accept(new RecordingSocket(b)));
    clients.push(new TransportClient(a));
  }
  try {
    const all = clients.flatMap((client) =>
      Array.from({ length: 20 }, (_, i) => client.fetchChunk(1, 100 + i))
    );
    await Promise.all(all);
    const order = manager.log.map((side) => sides.indexOf(side));
    // The first connection asked first and filled the budget; from then on no connection gets a
    // long run of reads while another waits.
    let longest = 0;
    let run = 0;
    for (let i = 1; i < 45; i++) {
      run = order[i] === order[i - 1] ? run + 1 : 0;
      longest = Math.max(longest, run + 1);
    }
    console.log(
      `turns: reads by connection ${order.slice(0, 24).join("")}…, longest run ${longest}`,
    );
    assert.ok(longest <= 3, `longest run of one connection: ${longest}`);
    for (const n of [0, 1, 2]) assert.ok(order.slice(0, 30).filter((c) => c === n).length >= 8);
    assert.equal(budget.replyMemory.charged, 0);
    assert.equal(budget.replyMemory.waiting, 0);
  } finally {
    for (const client of clients) await client.close();
    await server.close();
  }
});

test("reply limits are options of TransportServer and validated", () => {
  assert.throws(
    () => new TransportServer({ rpcHandler: echo, maxReplyBytes: 0 }),
    /Invalid maxReplyBytes/,
  );
  assert.throws(
    () => new TransportServer({ rpcHandler: echo, replyWindowBytes: 0.5 }),
    /replyWindowBytes/,
  );
  assert.throws(
    () =>
      new TransportServer({
        rpcHandler: echo,
        maxReplyBytes: MiB,
        transferBudget: new TransferBudget(),
      }),
    /maxReplyBytes cannot be combined with transferBudget/,
  );
  const served = serve({ rpcHandler: echo, maxReplyBytes: 5 * MiB, replyWindowBytes: MiB });
  void served.close();
});
