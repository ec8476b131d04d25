/**
 * A peer that never reads, over WebSocket, while the other side tries to send 1 GiB: the sender's
 * memory stays flat (backpressure reaches the body's source through `bufferedAmount`, not through
 * buffers) and the slow consumer is closed with a `LimitError` once `slowConsumerTimeoutMs`
 * passes. Both directions, as `slow-consumer.test.ts` does for TCP:
 *
 * - a server (Node `webSocketListen`) streaming to a `ws` client that paused its TCP socket;
 * - a client (`webSocketConnect` over the `ws` package) uploading to a handler that never reads
 *   the body, so the server pauses its WebSocket and TCP backpressure reaches the client.
 *
 * Figures printed: bytes the sender got out before it was stopped, its peak memory growth (RSS
 * and array buffers), and how long after blocking it closed the connection.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WebSocket } from "ws";
import { webSocketListen } from "../../adapters/node/ws-listen.ts";
import { webSocketConnect, type WebSocketConstructor } from "../../adapters/websocket/connect.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { ConnectionClosedError, LimitError } from "../../src/errors.ts";
import { encodeMessage } from "../../src/protocol/encoder.ts";
import { MessageType } from "../../src/protocol/messages.ts";
import { concat } from "../helpers/engine-fixtures.ts";
import {
  assertFlatMemory,
  gibibyteStreamServer,
  MiB,
  mib,
  neverReadingUploadServer,
  senderWatch,
  serverSideClose,
  SLOW_CONSUMER_MS,
  uploadGibibyte,
} from "../helpers/slow-consumer-scenario.ts";

test("a server streaming 1 GiB over WebSocket to a client that never reads: flat memory, slow consumer closed", async () => {
  const server = gibibyteStreamServer();
  const listener = await server.listen(webSocketListen({ host: "127.0.0.1", port: 0 }));
  // A raw `ws` peer: asks for the stream, then pauses its TCP socket and never reads a byte.
  const peer = new WebSocket(listener.address.url);
  await new Promise((resolve, reject) => {
    peer.once("open", resolve);
    peer.once("error", reject);
  });
  let peerEnd = "a close";
  peer.on("error", (error: Error & { code?: string }) => peerEnd = error.code ?? error.message);
  const peerClosed = new Promise<number>((resolve) => peer.once("close", resolve));
  const watch = senderWatch();
  peer.send(concat(encodeMessage({ type: MessageType.StreamRequest, streamId: "gib" })));
  peer.pause();
  assert.ok(peer.isPaused, "the peer's socket is paused");
  const { closed, growth, sent } = await serverSideClose(server, watch);
  // A peer that does not read cannot see the close either: let it read now.
  peer.resume();
  const code = await peerClosed;
  console.log(
    `slow consumer (server → never-reading client, WebSocket): sent ${mib(sent)} MiB of 1024 ` +
      `MiB, closed ${growth.elapsedMs.toFixed(0)} ms after the request (slowConsumerTimeoutMs ` +
      `${SLOW_CONSUMER_MS}) with ${(closed.error as Error)?.name}; sender memory growth: RSS ` +
      `${mib(growth.rss)} MiB, array buffers ${mib(growth.arrayBuffers)} MiB; peer saw ` +
      `${peerEnd} (close code ${code})`,
  );
  assert.ok(closed.error instanceof LimitError, String(closed.error));
  assert.match(closed.error.message, /slow consumer/);
  assert.ok(sent < 256 * MiB, "the sender stopped long before 1 GiB");
  assertFlatMemory(growth);
  await server.close();
});

test("a client uploading 1 GiB over WebSocket to a handler that never reads: flat memory, closed as slow consumer", async () => {
  // The handler never reads the body: the server pauses its WebSocket (and so its TCP socket).
  const server = neverReadingUploadServer();
  const listener = await server.listen(webSocketListen({ host: "127.0.0.1", port: 0 }));
  const client = await TransportClient.connect(
    webSocketConnect({
      url: listener.address.url,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    }),
    { slowConsumerTimeoutMs: SLOW_CONSUMER_MS },
  );
  const { upload, closed, growth, sent } = await uploadGibibyte(client);
  console.log(
    `slow consumer (client → never-reading upload handler, WebSocket): sent ${mib(sent)} MiB of ` +
      `1024 MiB, upload failed ${growth.elapsedMs.toFixed(0)} ms after it started with ${
        (upload as Error)?.name
      } (cause ${(closed.error as Error)?.name}); sender memory growth: RSS ${mib(growth.rss)} ` +
      `MiB, array buffers ${mib(growth.arrayBuffers)} MiB`,
  );
  assert.ok(upload instanceof ConnectionClosedError, String(upload));
  assert.ok(closed.error instanceof LimitError, String(closed.error));
  assert.match(closed.error.message, /slow consumer/);
  assert.ok(sent < 256 * MiB);
  assertFlatMemory(growth);
  await server.close();
});
