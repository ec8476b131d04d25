/**
 * Bulk transfer: 1 GiB as 1 MiB chunks over loopback TCP.
 *
 * - ferry: `TransportClient.fetchChunk` with 16 fetches in flight, against a TransportServer whose
 *   OneForOneStreamManager serves a random-access source (every chunk is one preallocated 1 MiB
 *   buffer). Timed from the RPC that registers the stream to the last chunk received.
 * - raw-net: the same bytes as `node:net` writes of a preallocated 1 MiB buffer, honouring
 *   backpressure; the client only counts bytes. Timed from the request to the last byte.
 *
 * @module
 */

import type { BenchCase } from "../harness/bench-case.ts";
import { RawBlastClient } from "../baselines/raw-blast-client.ts";
import { blastContestant, chunksInFlight, ferryChunkFetchContestant } from "./chunk-fetch-work.ts";
import { connectFerry } from "./ferry-connection.ts";

const ferry = ferryChunkFetchContestant(
  "ferry",
  `TransportClient.fetchChunk, ${chunksInFlight} in flight, random-access stream`,
  (context) => connectFerry(context.servers),
);

const rawNet = blastContestant(
  "raw-net",
  "node:net server writes 1 MiB buffers honouring backpressure; client counts bytes",
  (context) => RawBlastClient.connect(context.servers.get("raw-blast")),
);

export const chunkFetchCase: BenchCase = {
  name: "chunk-fetch",
  description:
    `1 GiB as 1 MiB chunks, ${chunksInFlight} in flight, loopback TCP, vs a raw node:net blast`,
  servers: ["ferry", "raw-blast"],
  contestants: [ferry, rawNet],
  rows: [{
    name: "chunk-fetch-1gib",
    metric: "mibPerSecond",
    unit: "MiB/s",
    higherIsBetter: true,
    subject: "ferry",
    baseline: "raw-net",
    target: { op: ">=", ratio: 0.9 },
  }],
};
