/**
 * The Node WebSocket clients of the `ws-chunk-fetch-node` case, each opened once and then asked for
 * transfers of N 1 MiB chunks: `lent` (`TransportClient.fetchChunkWith`) and `owned`
 * (`fetchChunk`), both 16 in flight over `webSocketConnect` with the `ws` package's WebSocket;
 * `bare` (the same requests written out by hand on a `ws` socket, no library: the floor of
 * request/response); and `raw` (the raw `ws` blast client). Shared by the bench client process and
 * the GC probe.
 *
 * @module
 */

import WebSocket from "ws";
import { webSocketConnect, type WebSocketConstructor } from "../../adapters/websocket/connect.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { BareWebSocketChunkFetchClient } from "../baselines/bare-ws-chunk-fetch-client.ts";
import { RawWebSocketBlastClient } from "../baselines/raw-ws-blast-client.ts";
import {
  chunkBytes,
  chunksInFlight,
  fetchChunks,
  fetchChunksLent,
  throughput,
} from "../cases/chunk-fetch-work.ts";
import { withWriteCount } from "../cases/write-count.ts";
import type { ServerAddress } from "../harness/server-directory.ts";

export const webSocketClientKinds = ["lent", "owned", "raw", "bare"] as const;
export type WebSocketClientKind = typeof webSocketClientKinds[number];

export interface WebSocketTransfers {
  /** Moves `count` chunks; resolves with the figures (`mibPerSecond`, `seconds`, ...). */
  transfer(count: number): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export function isWebSocketClientKind(kind: string): kind is WebSocketClientKind {
  return (webSocketClientKinds as readonly string[]).includes(kind);
}

/** Opens the `kind` client to `address` (the Ferry WebSocket server, or the raw blast for `raw`). */
export async function openWebSocketTransfers(
  kind: WebSocketClientKind,
  address: ServerAddress,
): Promise<WebSocketTransfers> {
  if (kind === "raw") {
    const raw = await RawWebSocketBlastClient.connect(address);
    return {
      async transfer(count) {
        const startedAt = performance.now();
        return throughput(await raw.receive(count, chunkBytes), count * chunkBytes, startedAt);
      },
      close: () => raw.close(),
    };
  }
  if (kind === "bare") {
    const bare = await BareWebSocketChunkFetchClient.connect(address);
    return {
      async transfer(count) {
        const startedAt = performance.now();
        const bytes = await bare.fetch(count, chunkBytes, chunksInFlight);
        return throughput(bytes, count * chunkBytes, startedAt);
      },
      close: () => bare.close(),
    };
  }
  const connect = webSocketConnect({
    url: `ws://${address.host}:${address.port}/`,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
  });
  const client = await TransportClient.connect(connect, { timeoutMs: 10_000 });
  const fetch = kind === "lent" ? fetchChunksLent : fetchChunks;
  return {
    transfer: (count) => withWriteCount(client, () => fetch(client, count)),
    close: () => client.close(),
  };
}
