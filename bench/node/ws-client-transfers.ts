/**
 * The Node WebSocket clients of the `ws-chunk-fetch-node` case, each opened once and then asked for
 * transfers of N 1 MiB chunks: `lent` (`TransportClient.fetchChunkWith`) and `owned`
 * (`fetchChunk`), both 16 in flight over `wsConnect` (Ferry's own framing on Node TCP);
 * `lent-ws-package` (lent, over `webSocketConnect` with the `ws` package's WebSocket); `bare` (the
 * same requests written out by hand on a `ws` socket, no library: the floor of request/response
 * there); and `raw` (the raw `ws` blast client). Shared by the bench client process and the GC
 * probe.
 *
 * @module
 */

import type { Connect } from "../../src/socket.ts";
import type { WebSocketConstructor } from "../../adapters/websocket/connect.ts";
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

export const webSocketClientKinds = ["lent", "owned", "raw", "bare", "lent-ws-package"] as const;
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
  const url = `ws://${address.host}:${address.port}/`;
  const connect = kind === "lent-ws-package"
    ? await wsPackageConnect(url)
    : await framedConnect(url);
  const client = await TransportClient.connect(connect, { timeoutMs: 10_000 });
  const fetch = kind !== "owned" ? fetchChunksLent : fetchChunks;
  return {
    transfer: (count) => withWriteCount(client, () => fetch(client, count)),
    close: () => client.close(),
  };
}

/**
 * The connectors are imported only by the process that uses them: a process that loads both runs
 * the `ws` package's client 40% slower (600–900 against 1,100–1,400 MiB/s, same server), as the
 * extra code moves its heap across a threshold where V8 collects more often.
 */
async function wsPackageConnect(url: string): Promise<Connect> {
  const [{ default: WebSocket }, { webSocketConnect }] = await Promise.all([
    import("ws"),
    import("../../adapters/websocket/connect.ts"),
  ]);
  return webSocketConnect({ url, WebSocket: WebSocket as unknown as WebSocketConstructor });
}

async function framedConnect(url: string): Promise<Connect> {
  const { wsConnect } = await import("../../adapters/node/ws-connect.ts");
  return wsConnect({ url });
}
