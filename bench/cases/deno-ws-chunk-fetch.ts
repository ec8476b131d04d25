/**
 * Bulk transfer over WebSocket with both sides in Deno: 1 GiB as 1 MiB chunks over loopback.
 *
 * - ferry-deno-wsconnect: a Deno client process fetching chunks, 16 in flight, over `wsConnect`
 *   (Ferry's own WebSocket framing on Deno TCP, the Deno client Ferry recommends outside browsers)
 *   from a Deno server process serving the bench Ferry service on Ferry's Deno WebSocket listener
 *   (`Deno.serve` + `Deno.upgradeWebSocket`), each body lent to a callback that counts it
 *   (`fetchChunkWith`).
 * - ferry-deno-ws: the same over `webSocketConnect` with Deno's own WebSocket; its row has no
 *   target.
 * - ferry-deno-ws-owned: that with `fetchChunk`; its row has no target.
 * - raw-deno-ws: Deno's WebSocket reading from a raw `Deno.serve` WebSocket blast that sends the
 *   same bytes as 1 MiB binary messages honouring `bufferedAmount`
 *   (`bench/deno/deno-raw-ws-blast.ts`); the client counts bytes.
 *
 * @module
 */

import type { BenchCase } from "../harness/bench-case.ts";
import { chunksInFlight } from "./chunk-fetch-work.ts";
import { denoContestant } from "./deno-contestant.ts";

export const denoWsChunkFetchCase: BenchCase = {
  name: "deno-ws-chunk-fetch",
  description: `1 GiB as 1 MiB chunks, ${chunksInFlight} in flight, Deno client and Deno server ` +
    `over WebSocket, vs a raw Deno WebSocket blast`,
  servers: [],
  contestants: [
    denoContestant(
      "ferry-deno-ws",
      "ferry-ws",
      `Deno TransportClient.fetchChunkWith (lent bodies) over webSocketConnect (Deno ` +
        `WebSocket), ${chunksInFlight} in flight`,
    ),
    denoContestant(
      "ferry-deno-ws-owned",
      "ferry-ws-owned",
      `Deno TransportClient.fetchChunk (owned bodies) over webSocketConnect (Deno WebSocket), ` +
        `${chunksInFlight} in flight`,
      "ferry-ws",
    ),
    denoContestant(
      "ferry-deno-wsconnect",
      "ferry-wsconnect",
      `Deno TransportClient.fetchChunkWith (lent bodies) over wsConnect (Ferry's framing on Deno ` +
        `TCP), ${chunksInFlight} in flight`,
      "ferry-ws",
    ),
    denoContestant(
      "raw-deno-ws",
      "raw-ws",
      "Deno.serve WebSocket sends 1 MiB messages honouring bufferedAmount; Deno client counts",
    ),
  ],
  rows: [{
    name: "deno-ws-chunk-fetch-1gib",
    metric: "mibPerSecond",
    unit: "MiB/s",
    higherIsBetter: true,
    subject: "ferry-deno-wsconnect",
    baseline: "raw-deno-ws",
    target: { op: ">=", ratio: 0.9 },
  }, {
    name: "deno-ws-chunk-fetch-global-websocket-1gib",
    metric: "mibPerSecond",
    unit: "MiB/s",
    higherIsBetter: true,
    subject: "ferry-deno-ws",
    baseline: "raw-deno-ws",
  }, {
    name: "deno-ws-chunk-fetch-owned-1gib",
    metric: "mibPerSecond",
    unit: "MiB/s",
    higherIsBetter: true,
    subject: "ferry-deno-ws-owned",
    baseline: "raw-deno-ws",
  }],
};
