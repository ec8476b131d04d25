/**
 * The slow-consumer scenario shared by `test/node/slow-consumer.test.ts` (TCP) and
 * `test/node/slow-consumer-ws.test.ts` (WebSocket): a 1 GiB body that costs no memory to produce,
 * the two servers (one streaming it to a peer that never reads, one whose upload handler never
 * reads), a watch on the sender's memory growth, and the checks that it stayed flat. Node only
 * (memory is read with `process.memoryUsage`).
 *
 * @module
 */

import assert from "node:assert/strict";
import process from "node:process";
import type { TransportClient } from "../../src/client/transport-client.ts";
import type { SocketClosed } from "../../src/socket.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { utf8 } from "./engine-fixtures.ts";

export const GiB = 1 << 30;
export const MiB = 1 << 20;
/** The `slowConsumerTimeoutMs` of every sender in the scenario. */
export const SLOW_CONSUMER_MS = 1_500;
/** Memory growth a sender may show while blocked (RSS and array buffers each). */
const FLAT_MEMORY_BYTES = 16 * MiB;
const PIECE = new Uint8Array(64 * 1024).fill(0x5a);

/** 1 GiB as 64 KiB views of one buffer: producing it costs no memory. */
export function* gibibyte(): Generator<Uint8Array> {
  for (let sent = 0; sent < GiB; sent += PIECE.byteLength) yield PIECE;
}

/** Peak memory growth over the baseline, and the time since the watch started. */
export interface SenderGrowth {
  readonly rss: number;
  readonly arrayBuffers: number;
  readonly elapsedMs: number;
}

/** Starts the clock and samples memory growth over a baseline every 10 ms until stopped. */
export function senderWatch(): { stop(): SenderGrowth } {
  const base = process.memoryUsage();
  const started = performance.now();
  let rss = 0;
  let arrayBuffers = 0;
  const sample = () => {
    const now = process.memoryUsage();
    rss = Math.max(rss, now.rss - base.rss);
    arrayBuffers = Math.max(arrayBuffers, now.arrayBuffers - base.arrayBuffers);
  };
  const timer = setInterval(sample, 10);
  return {
    stop() {
      const elapsedMs = performance.now() - started;
      clearInterval(timer);
      sample();
      return { rss, arrayBuffers, elapsedMs };
    },
  };
}

/** Bytes as MiB with one decimal, for the printed figures. */
export const mib = (bytes: number): string => (bytes / MiB).toFixed(1);

/** A server whose stream "gib" is 1 GiB, closing consumers slower than `SLOW_CONSUMER_MS`. */
export function gibibyteStreamServer(): TransportServer {
  return new TransportServer({
    rpcHandler: { receive: (_c, m) => m },
    streamManager: {
      getChunk: () => Promise.reject(new Error("none")),
      openStream: () => Promise.resolve({ byteLength: GiB, body: gibibyte() }),
      connectionTerminated() {},
    },
    slowConsumerTimeoutMs: SLOW_CONSUMER_MS,
  });
}

/**
 * A server whose upload handler never reads the body: the server's reading pauses at the stream
 * high-water mark (256 KiB), so backpressure reaches the uploading client.
 */
export function neverReadingUploadServer(): TransportServer {
  return new TransportServer({
    rpcHandler: {
      receive: (_c, m) => m,
      receiveStream: () => new Promise<Uint8Array>(() => {}),
    },
    streamHighWaterMark: 256 * 1024,
  });
}

/** What the server side of a stream to a never-reading peer ended with. */
export interface ServerSideOutcome {
  readonly closed: SocketClosed;
  readonly growth: SenderGrowth;
  readonly sent: number;
}

/** Waits for `server`'s first connection to close; stops `watch` then. */
export async function serverSideClose(
  server: TransportServer,
  watch: ReturnType<typeof senderWatch>,
): Promise<ServerSideOutcome> {
  while (server.connections.size === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const [serverSide] = server.connections;
  const closed = await serverSide!.closed;
  const growth = watch.stop();
  return { closed, growth, sent: serverSide!.stats().bytesSent };
}

/** What a client uploading 1 GiB to a never-reading handler ended with. */
export interface UploadOutcome {
  /** `"replied"`, or what the upload rejected with. */
  readonly upload: unknown;
  readonly closed: SocketClosed;
  readonly growth: SenderGrowth;
  readonly sent: number;
}

/** Uploads 1 GiB as "gib" from `client`, watching its memory until the upload settles. */
export async function uploadGibibyte(client: TransportClient): Promise<UploadOutcome> {
  const watch = senderWatch();
  const upload = await client.uploadStream(utf8("gib"), gibibyte(), { byteLength: GiB }).then(
    () => "replied",
    (error: unknown) => error,
  );
  const growth = watch.stop();
  const closed = await client.closed;
  return { upload, closed, growth, sent: client.stats().bytesSent };
}

/** The sender's memory stayed flat while it was blocked. */
export function assertFlatMemory(growth: SenderGrowth): void {
  assert.ok(growth.rss <= FLAT_MEMORY_BYTES, `RSS grew ${mib(growth.rss)} MiB`);
  assert.ok(
    growth.arrayBuffers <= FLAT_MEMORY_BYTES,
    `array buffers grew ${mib(growth.arrayBuffers)} MiB`,
  );
}
