/**
 * Bulk transfer over WebSocket from a Node client: 1 GiB as 1 MiB chunks over loopback. Every
 * client runs in a Node process of its own (`bench/node/node-bench-client.ts`, clients in
 * `bench/node/ws-client-transfers.ts`) against the server process: in the runner's own process the
 * clients shared one heap, and the raw client's rounds paid for the full collections Ferry's garbage
 * brought on, which flattered Ferry.
 *
 * - ferry-ws: `TransportClient.fetchChunkWith`, 16 in flight, over `wsConnect` (Ferry's own
 *   WebSocket framing over Node TCP, reading bodies straight into the decoder's frames) to the
 *   bench Ferry service on Ferry's Node WebSocket listener (the `ws` package's server); each body is
 *   lent to a callback that counts it. Timed from the `openStream` RPC to the last chunk.
 * - ferry-ws-package: the same over `webSocketConnect` with the `ws` package's WebSocket (Node 20
 *   has no global one); its row has no target.
 * - ferry-ws-owned: `fetchChunk` over `wsConnect`; its row has no target. Each
 *   fetch's promise is made when the request is sent and lives long enough to reach V8's old
 *   generation, so the body it resolves with survives every scavenge until a full collection
 *   (`bench/probes/ws-client-gc.ts` counts them). A lent body is referred to by nothing that old.
 * - bare-ws: the same requests written out by hand on a `ws` WebSocket, no library
 *   (`bench/baselines/bare-ws-chunk-fetch-client.ts`); its row has no target. It is the floor of
 *   request/response on the `ws` package's client: `ferry-ws-package ÷ bare-ws` is the library's
 *   share, `bare-ws ÷ raw-ws` what answering requests costs rather than streaming. It stayed at
 *   0.82–0.88×, below the target, which is why `ferry-ws` does its own framing.
 * - raw-ws: a `ws` server sends the same bytes as 1 MiB binary messages honouring
 *   `bufferedAmount`; a `ws` client counts bytes. Timed from the request to the last byte.
 *
 * @module
 */

import type { BenchCase } from "../harness/bench-case.ts";
import { chunksInFlight } from "./chunk-fetch-work.ts";
import { nodeClientContestant } from "./node-client-contestant.ts";

const ferryWs = nodeClientContestant(
  "ferry-ws",
  "lent",
  "ferry-ws",
  `TransportClient.fetchChunkWith (lent bodies) over wsConnect (Ferry's framing on Node TCP), ` +
    `${chunksInFlight} in flight, in a Node process of its own`,
);

const ferryWsOwned = nodeClientContestant(
  "ferry-ws-owned",
  "owned",
  "ferry-ws",
  `TransportClient.fetchChunk (owned bodies) over wsConnect (Ferry's framing on Node TCP), ` +
    `${chunksInFlight} in flight, in a Node process of its own`,
);

const ferryWsPackage = nodeClientContestant(
  "ferry-ws-package",
  "lent-ws-package",
  "ferry-ws",
  `TransportClient.fetchChunkWith (lent bodies) over webSocketConnect with the ws package's ` +
    `WebSocket, ${chunksInFlight} in flight, in a Node process of its own`,
);

const bareWs = nodeClientContestant(
  "bare-ws",
  "bare",
  "ferry-ws",
  `ChunkFetchRequests hand-written on a ws WebSocket, no library, ${chunksInFlight} in flight, ` +
    `against the same Ferry server, in a Node process of its own`,
);

const rawWs = nodeClientContestant(
  "raw-ws",
  "raw",
  "raw-ws-blast",
  "ws server sends 1 MiB binary messages honouring bufferedAmount; ws client (own process) counts",
);

export const wsChunkFetchNodeCase: BenchCase = {
  name: "ws-chunk-fetch-node",
  description: `1 GiB as 1 MiB chunks, ${chunksInFlight} in flight, over WebSocket from a Node ` +
    `client, vs a raw ws blast`,
  servers: [], // each contestant starts its own server process every round
  contestants: [ferryWs, ferryWsOwned, ferryWsPackage, bareWs, rawWs],
  rows: [{
    name: "ws-chunk-fetch-node-1gib",
    metric: "mibPerSecond",
    unit: "MiB/s",
    higherIsBetter: true,
    subject: "ferry-ws",
    baseline: "raw-ws",
    target: { op: ">=", ratio: 0.9 },
  }, {
    name: "ws-chunk-fetch-node-owned-1gib",
    metric: "mibPerSecond",
    unit: "MiB/s",
    higherIsBetter: true,
    subject: "ferry-ws-owned",
    baseline: "raw-ws",
  }, {
    name: "ws-chunk-fetch-node-ws-package-1gib",
    metric: "mibPerSecond",
    unit: "MiB/s",
    higherIsBetter: true,
    subject: "ferry-ws-package",
    baseline: "raw-ws",
  }, {
    name: "ws-chunk-fetch-node-bare-1gib",
    metric: "mibPerSecond",
    unit: "MiB/s",
    higherIsBetter: true,
    subject: "bare-ws",
    baseline: "raw-ws",
  }],
};
