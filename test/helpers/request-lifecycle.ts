/**
 * One connection's whole life with a fixed number of requests, for tests that count what the
 * instrumentation does per connection and per request: a server (echo RpcHandler, a chunk stream)
 * and a client over `connect`/`listen`, `requests` RPCs of 64 bytes and `requests` chunk fetches
 * of 1 KiB (16 in flight each), then both closed. `between` runs right after the connection is up
 * and right before it closes, so a caller can tell per-connection work from per-request work.
 *
 * @module
 */

import type { Connect, Listen } from "../../src/socket.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { OneForOneStreamManager } from "../../src/responder/one-for-one-stream-manager.ts";

export interface LifecycleMarks {
  /** The client and the server side are connected; no request has been sent. */
  connected(client: TransportClient, serverSide: TransportClient): void;
  /** Every request has been answered; nothing is closed yet. */
  answered(): void;
}

export async function requestLifecycle(
  network: { readonly listen: Listen; readonly connect: Connect },
  requests: number,
  marks: LifecycleMarks,
): Promise<void> {
  const streams = new OneForOneStreamManager();
  const server = new TransportServer({
    rpcHandler: { receive: (_client, body) => body },
    streamManager: streams,
  });
  await server.listen(network.listen);
  const client = await TransportClient.connect(network.connect);
  try {
    // The server side is registered by the time the first reply arrives.
    await client.sendRpc(new Uint8Array(64));
    const [serverSide] = [...server.connections];
    const chunk = new Uint8Array(1024).fill(7);
    const streamId = streams.registerStream(serverSide!, {
      chunkCount: requests,
      getChunk: () => chunk,
    });
    marks.connected(client, serverSide!);
    const body = new Uint8Array(64);
    const inFlight = 16;
    let next = 0;
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next < requests) {
        next++;
        const reply = await client.sendRpc(body);
        if (reply.byteLength !== 64) throw new Error(`echo of ${reply.byteLength} bytes`);
      }
    }));
    next = 0;
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next < requests) {
        const fetched = await client.fetchChunk(streamId, next++);
        if (fetched.byteLength !== 1024) throw new Error(`chunk of ${fetched.byteLength} bytes`);
      }
    }));
    marks.answered();
  } finally {
    await client.close();
    await server.close();
  }
}
