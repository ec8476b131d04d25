/**
 * Bulk transfer over WebSocket from a Node client: 1 GiB as 1 MiB chunks over loopback.
 *
 * - ferry-ws: `TransportClient.fetchChunkWith`, 16 in flight, over `webSocketConnect` (with the
 *   `ws` package's WebSocket, as Node 20 has no global one) to the bench Ferry service on Ferry's
 *   Node WebSocket listener; each body is lent to a callback that counts it. Timed from the
 *   `openStream` RPC to the last chunk.
 * - ferry-ws-owned (case `ws-chunk-fetch-node-owned`): the same with `fetchChunk`, no target. It is
 *   a case of its own because the clients share the runner's heap, and its garbage would bring
 *   full collections into the other contestants' rounds. Each fetch's promise is made
 *   when the request is sent and lives long enough to reach V8's old generation, so the body it
 *   resolves with survives every scavenge until a full collection: about 20 mark-compacts per
 *   4 GiB against 1 for the raw client. A lent body is referred to by nothing that old.
 * - raw-ws: a `ws` server sends the same bytes as 1 MiB binary messages honouring
 *   `bufferedAmount`; a `ws` client counts bytes. Timed from the request to the last byte.
 *
 * @module
 */

import WebSocket from "ws";
import { webSocketConnect, type WebSocketConstructor } from "../../adapters/websocket/connect.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import type { BenchCase } from "../harness/bench-case.ts";
import { RawWebSocketBlastClient } from "../baselines/raw-ws-blast-client.ts";
import type { CaseContext } from "../harness/bench-case.ts";
import {
  blastContestant,
  chunksInFlight,
  ferryChunkFetchContestant,
  fetchChunksLent,
} from "./chunk-fetch-work.ts";

function connectFerryWs(context: CaseContext): Promise<TransportClient> {
  const { host, port } = context.servers.get("ferry-ws");
  const connect = webSocketConnect({
    url: `ws://${host}:${port}/`,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
  });
  return TransportClient.connect(connect, { timeoutMs: 10_000 });
}

const ferryWs = ferryChunkFetchContestant(
  "ferry-ws",
  `TransportClient.fetchChunkWith (lent bodies) over webSocketConnect (ws package), ` +
    `${chunksInFlight} in flight`,
  connectFerryWs,
  fetchChunksLent,
);

const ferryWsOwned = ferryChunkFetchContestant(
  "ferry-ws-owned",
  `TransportClient.fetchChunk (owned bodies) over webSocketConnect (ws package), ` +
    `${chunksInFlight} in flight`,
  connectFerryWs,
);

const rawWs = blastContestant(
  "raw-ws",
  "ws server sends 1 MiB binary messages honouring bufferedAmount; ws client counts",
  (context) => RawWebSocketBlastClient.connect(context.servers.get("raw-ws-blast")),
);

export const wsChunkFetchNodeCase: BenchCase = {
  name: "ws-chunk-fetch-node",
  description: `1 GiB as 1 MiB chunks, ${chunksInFlight} in flight, over WebSocket from a Node ` +
    `client, vs a raw ws blast`,
  servers: ["ferry-ws", "raw-ws-blast"],
  contestants: [ferryWs, rawWs],
  rows: [{
    name: "ws-chunk-fetch-node-1gib",
    metric: "mibPerSecond",
    unit: "MiB/s",
    higherIsBetter: true,
    subject: "ferry-ws",
    baseline: "raw-ws",
    target: { op: ">=", ratio: 0.9 },
  }],
};

export const wsChunkFetchNodeOwnedCase: BenchCase = {
  name: "ws-chunk-fetch-node-owned",
  description: `ws-chunk-fetch-node with fetchChunk (owned bodies), vs the same raw ws blast`,
  servers: ["ferry-ws", "raw-ws-blast"],
  contestants: [ferryWsOwned, rawWs],
  rows: [{
    name: "ws-chunk-fetch-node-owned-1gib",
    metric: "mibPerSecond",
    unit: "MiB/s",
    higherIsBetter: true,
    subject: "ferry-ws-owned",
    baseline: "raw-ws",
  }],
};
