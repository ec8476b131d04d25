/**
 * A peer that never reads, over TCP, while the other side tries to send 1 GiB: the sender's memory
 * stays flat (backpressure holds the body in its source, not in buffers) and the slow consumer is
 * closed with a `LimitError` once `slowConsumerTimeoutMs` passes. Both directions: a server
 * streaming to a client that stopped reading, and a client uploading to a handler that never
 * reads the body.
 *
 * Figures printed: bytes the sender got out before it was stopped, its peak memory growth (RSS
 * and array buffers), and how long after blocking it closed the connection.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { tcpConnect, tcpListen } from "../../adapters/node/tcp.ts";
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

test("a server streaming 1 GiB to a client that never reads: flat memory, slow consumer closed", async () => {
  const server = gibibyteStreamServer();
  const listener = await server.listen(tcpListen({ host: "127.0.0.1", port: 0 }));
  // A raw peer: asks for the stream, then never reads a byte.
  const peer = net.connect({ host: "127.0.0.1", port: listener.address.port });
  await new Promise((resolve) => peer.once("connect", resolve));
  peer.pause();
  let peerEnd = "a close";
  peer.on("error", (error: NodeJS.ErrnoException) => peerEnd = error.code ?? error.message);
  peer.on("end", () => peerEnd = "an end");
  const peerClosed = new Promise((resolve) => peer.once("close", resolve));
  const watch = senderWatch();
  peer.write(concat(encodeMessage({ type: MessageType.StreamRequest, streamId: "gib" })));
  const { closed, growth, sent } = await serverSideClose(server, watch);
  // A peer that does not read cannot see the reset either: let it read now.
  peer.resume();
  await peerClosed;
  console.log(
    `slow consumer (server → never-reading client, TCP): sent ${mib(sent)} MiB of 1024 MiB, ` +
      `closed ${growth.elapsedMs.toFixed(0)} ms after the request (slowConsumerTimeoutMs ` +
      `${SLOW_CONSUMER_MS}) with ${(closed.error as Error)?.name}; sender memory growth: RSS ` +
      `${mib(growth.rss)} MiB, array buffers ${mib(growth.arrayBuffers)} MiB; peer saw ${peerEnd}`,
  );
  assert.ok(closed.error instanceof LimitError, String(closed.error));
  assert.match(closed.error.message, /slow consumer/);
  assert.ok(sent < 256 * MiB, "the sender stopped long before 1 GiB");
  assertFlatMemory(growth);
  await server.close();
});

test("a client uploading 1 GiB to a handler that never reads: flat memory, closed as slow consumer", async () => {
  const server = neverReadingUploadServer();
  const listener = await server.listen(tcpListen({ host: "127.0.0.1", port: 0 }));
  const client = await TransportClient.connect(
    tcpConnect({ host: "127.0.0.1", port: listener.address.port }),
    { slowConsumerTimeoutMs: SLOW_CONSUMER_MS },
  );
  const { upload, closed, growth, sent } = await uploadGibibyte(client);
  console.log(
    `slow consumer (client → never-reading upload handler, TCP): sent ${mib(sent)} MiB of 1024 ` +
      `MiB, upload failed ${growth.elapsedMs.toFixed(0)} ms after it started with ${
        (upload as Error)?.name
      } (cause ${(closed.error as Error)?.name}); sender memory growth: RSS ${mib(growth.rss)} ` +
      `MiB, array buffers ${mib(growth.arrayBuffers)} MiB`,
  );
  assert.ok(upload instanceof ConnectionClosedError, String(upload));
  assert.ok(closed.error instanceof LimitError, String(closed.error));
  assert.ok(sent < 256 * MiB);
  assertFlatMemory(growth);
  await server.close();
});
