/**
 * Issue 15's "done when" checks for items 4 and 8 over real loopback TCP (Node adapter):
 * - 5 000 connections that each announce a 2^53−1-byte stream body and then fall silent are all
 *   closed at the no-progress deadline; the server's connection count and this process's open
 *   descriptors (/proc/self/fd) go back to their baseline.
 * - 20 connections that each send one valid frame and then most of a 60 MiB frame: the server's
 *   inbound budget (default 256 MiB) holds four, the rest are not read; RSS growth stays within the
 *   budget, and every charge is released when the no-progress deadline closes them.
 * - Against a scripted Spark-like server: a 200 MiB ChunkFetchSuccess (one in-frame reply, as Spark
 *   sends up to `maxRemoteBlockSizeFetchToMem`) is received with default client options; a 300 MiB
 *   one, over the default 256 MiB `maxReplyFrameLength`, fails only its own fetch with a
 *   LimitError and the RPC behind it on the same connection succeeds.
 * Each prints its figures; bounds are generous (a shared 2-core machine).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import { once } from "node:events";
import { tcpConnect, tcpListen } from "../../adapters/node/tcp.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { InboundFrameBudget } from "../../src/connection/inbound-frame-budget.ts";
import { defaultLimits } from "../../src/limits.ts";
import { LimitError, TimeoutError } from "../../src/errors.ts";
import { FrameDecoder } from "../../src/protocol/decoder.ts";
import { encodeMessage } from "../../src/protocol/encoder.ts";
import { writeInt64 } from "../../src/protocol/int64.ts";
import { MessageType } from "../../src/protocol/messages.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { concat, text, utf8 } from "../helpers/engine-fixtures.ts";

const host = "127.0.0.1";
const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const openDescriptors = () => fs.readdirSync("/proc/self/fd").length;

async function until(what: string, timeoutMs: number, check: () => boolean): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) {
      assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(20);
  }
}

test("5 000 connections announcing a body that never comes are all closed", {
  timeout: 180_000,
}, async () => {
  const COUNT = 5_000;
  // Long enough for all of them to be open together on a loaded machine (opening takes seconds).
  const NO_PROGRESS_MS = 15_000;
  const server = new TransportServer({
    rpcHandler: { receive: (_client, body) => body },
    noProgressTimeoutMs: NO_PROGRESS_MS,
    // Every connection comes from 127.0.0.1: the per-address cap would refuse most of them before
    // the deadline under test could close them.
    maxConnectionsPerAddress: COUNT,
  });
  const listener = await server.listen(tcpListen({ host, port: 0, backlog: 1024 }));
  const baseline = openDescriptors();
  const header = concat(encodeMessage({
    type: MessageType.StreamResponse,
    streamId: "never",
    byteCount: Number.MAX_SAFE_INTEGER,
  }));
  // Server side: how each connection ended (polled; every connection lives ≥ NO_PROGRESS_MS).
  const seen = new Set<TransportClient>();
  const reasons = new Map<string, number>();
  let peakConnections = 0;
  const watch = setInterval(() => {
    peakConnections = Math.max(peakConnections, server.connections.size);
    for (const client of server.connections) {
      if (seen.has(client)) continue;
      seen.add(client);
      client.closed.then(({ error }) => {
        const reason = error instanceof TimeoutError && /noProgressTimeoutMs/.test(error.message)
          ? "no-progress"
          : String(error);
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      });
    }
  }, 20);
  const started = performance.now();
  const sockets: net.Socket[] = [];
  let clientClosed = 0;
  for (let batch = 0; batch < COUNT; batch += 250) {
    const opened = Array.from({ length: Math.min(250, COUNT - batch) }, () => {
      const socket = net.connect({ host, port: listener.address.port });
      socket.on("error", () => {}); // the server resets them
      socket.on("close", () => clientClosed++);
      sockets.push(socket);
      return once(socket, "connect").then(() => socket.write(header));
    });
    await Promise.all(opened);
  }
  const openedMs = performance.now() - started;
  await until("every connection to be accepted", 60_000, () => seen.size === COUNT);
  const peakDescriptors = openDescriptors();
  await until("the server to close every connection", 90_000, () => server.connections.size === 0);
  const closedMs = performance.now() - started;
  await until("every client socket to see its end", 30_000, () => clientClosed === COUNT);
  clearInterval(watch);
  await sleep(50);
  const after = openDescriptors();
  console.log(
    `${COUNT} silent announced bodies: opened in ${openedMs.toFixed(0)} ms, peak ` +
      `${peakConnections} server connections, descriptors ${baseline} → ${peakDescriptors} → ` +
      `${after}; all closed ${closedMs.toFixed(0)} ms after the first connect ` +
      `(noProgressTimeoutMs ${NO_PROGRESS_MS}); reasons ${JSON.stringify([...reasons])}`,
  );
  assert.equal(reasons.get("no-progress"), COUNT);
  assert.equal(peakConnections, COUNT, "the connections really were open together");
  assert.ok(peakDescriptors >= baseline + COUNT);
  assert.ok(after <= baseline + 5, `descriptors back to baseline: ${baseline} → ${after}`);
  await server.close();
});

test("20 partial 60 MiB frames: the server holds at most its inbound budget, then frees it", {
  timeout: 120_000,
}, async () => {
  const COUNT = 20;
  const budget = new InboundFrameBudget(); // the default maxInboundFrameBytes
  const server = new TransportServer({
    rpcHandler: { receive: (_client, body) => body },
    inboundFrameBudget: budget,
    noProgressTimeoutMs: 4_000,
  });
  const listener = await server.listen(tcpListen({ host, port: 0 }));
  const frameLength = 60 * MiB;
  const header = new Uint8Array(8 + 1 + 8 + 4);
  const view = new DataView(header.buffer);
  writeInt64(view, 0, frameLength);
  header[8] = MessageType.RpcRequest;
  writeInt64(view, 9, 7);
  view.setInt32(17, frameLength - header.length);
  // One buffer for every sender: most of the frame's body, never its end.
  const partialBody = new Uint8Array(frameLength - header.length - MiB).fill(1);
  const valid = concat(
    encodeMessage({ type: MessageType.RpcRequest, requestId: 1, body: utf8("hi") }),
  );
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sample = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }, 20);
  const sockets = await Promise.all(Array.from({ length: COUNT }, async () => {
    const socket = net.connect({ host, port: listener.address.port });
    socket.on("error", () => {});
    await once(socket, "connect");
    socket.write(valid);
    socket.write(header);
    socket.write(partialBody);
    return socket;
  }));
  await until(
    "four frames to be charged and the rest to wait",
    30_000,
    () => budget.reserved === 4 * (frameLength - 8) && budget.waiting === COUNT - 4,
  );
  await sleep(500); // let the charged frames fill
  const rssHolding = process.memoryUsage().rss;
  await until("every connection to be closed", 60_000, () => server.connections.size === 0);
  clearInterval(sample);
  console.log(
    `${COUNT} partial 60 MiB frames: budget ${budget.limit / MiB} MiB, peak charged ` +
      `${(budget.peak / MiB).toFixed(1)} MiB; RSS ${(rssBefore / MiB).toFixed(0)} → ` +
      `${(rssHolding / MiB).toFixed(0)} (holding) / peak ${(rssPeak / MiB).toFixed(0)} MiB; ` +
      `after close: ${budget.reserved} bytes charged, ${budget.waiting} waiting`,
  );
  assert.equal(budget.limit, defaultLimits.maxInboundFrameBytes);
  assert.ok(budget.peak <= budget.limit);
  assert.ok(rssPeak - rssBefore <= budget.limit + 96 * MiB, "RSS growth bounded by the budget");
  assert.equal(budget.reserved, 0);
  assert.equal(budget.waiting, 0);
  for (const socket of sockets) socket.destroy();
  await server.close();
});

/**
 * A Spark-like peer: answers ChunkFetchRequest(streamId, i) with an in-frame ChunkFetchSuccess of
 * `streamId` MiB (written 1 MiB at a time from one buffer, so it holds no big buffer itself), and
 * echoes RpcRequests, strictly in request order.
 */
async function scriptedServer() {
  const piece = new Uint8Array(MiB);
  for (let i = 0; i < piece.length; i++) piece[i] = (i * 13 + 5) & 0xff;
  const server = net.createServer((socket) => {
    socket.on("error", () => {});
    const queue: Array<() => Promise<void>> = [];
    let busy = false;
    const run = async () => {
      if (busy) return;
      busy = true;
      while (queue.length > 0) await queue.shift()!();
      busy = false;
    };
    const write = async (bytes: Uint8Array) => {
      if (!socket.write(bytes)) await once(socket, "drain");
    };
    const decoder = new FrameDecoder({
      message(message) {
        if (message.type === MessageType.ChunkFetchRequest) {
          queue.push(async () => {
            const size = Number(message.streamId) * MiB;
            const header = new Uint8Array(8 + 1 + 8 + 4);
            const view = new DataView(header.buffer);
            writeInt64(view, 0, header.length + size);
            header[8] = MessageType.ChunkFetchSuccess;
            writeInt64(view, 9, message.streamId);
            view.setInt32(17, message.chunkIndex);
            await write(header);
            for (let sent = 0; sent < size; sent += MiB) await write(piece);
          });
        } else if (message.type === MessageType.RpcRequest) {
          queue.push(() =>
            write(concat(encodeMessage({
              type: MessageType.RpcResponse,
              requestId: message.requestId,
              body: message.body,
            })))
          );
        }
        void run();
      },
      body() {},
      bodyEnd() {},
    });
    socket.on("data", (chunk: Uint8Array) => decoder.push(new Uint8Array(chunk)));
  });
  server.listen(0, host);
  await once(server, "listening");
  return { server, port: (server.address() as net.AddressInfo).port, piece };
}

test("a 200 MiB ChunkFetchSuccess is received with defaults; a 300 MiB one fails alone", {
  timeout: 120_000,
}, async () => {
  const { server, port, piece } = await scriptedServer();
  const client = await TransportClient.connect(tcpConnect({ host, port }));
  const rssBefore = process.memoryUsage().rss;
  let started = performance.now();
  const chunk = await client.fetchChunk(200, 0);
  const receivedMs = performance.now() - started;
  assert.equal(chunk.length, 200 * MiB);
  for (const k of [0, 1, 99, 199]) {
    assert.deepEqual(chunk.subarray(k * MiB, (k + 1) * MiB), piece, `MiB ${k} of the chunk`);
  }
  const rssWithChunk = process.memoryUsage().rss;
  started = performance.now();
  const tooBig = client.fetchChunk(300, 0);
  const next = client.sendRpc(utf8("after the skipped chunk"));
  await assert.rejects(
    tooBig,
    (error: unknown) =>
      error instanceof LimitError &&
      /ChunkFetchSuccess frame of 314572821 bytes is over maxReplyFrameLength \(268435456/
        .test(error.message),
  );
  assert.equal(text(await next), "after the skipped chunk");
  const skippedMs = performance.now() - started;
  const rssAfter = process.memoryUsage().rss;
  console.log(
    `200 MiB in-frame chunk received in ${receivedMs.toFixed(0)} ms ` +
      `(${(200 / (receivedMs / 1000)).toFixed(0)} MiB/s); 300 MiB one skipped + next RPC in ` +
      `${skippedMs.toFixed(0)} ms; RSS ${(rssBefore / MiB).toFixed(0)} → ` +
      `${(rssWithChunk / MiB).toFixed(0)} (chunk held) → ${(rssAfter / MiB).toFixed(0)} MiB ` +
      `after the skip (the skip buffers nothing: growth ≤ 64 MiB)`,
  );
  assert.ok(rssAfter - rssWithChunk <= 64 * MiB, "skipping 300 MiB buffered none of it");
  assert.equal(client.stats().oversizedFrames, 1);
  assert.ok(client.isActive);
  await client.close();
  server.close();
});
