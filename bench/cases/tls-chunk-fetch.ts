/**
 * What TLS costs a bulk transfer: the same Ferry chunk fetch (1 GiB as 1 MiB chunks, 16 in
 * flight) over Node TLS and over plain TCP, client and server in fresh Node processes every round.
 * Target: TLS ≥ 0.7× TCP.
 *
 * - ferry-tls: `tlsConnect` with full verification, trusting the server process's self-signed
 *   certificate (fetched once over plain TCP with the bench protocol's `certificate` RPC).
 * - ferry-tcp: `tcpConnect`, as in `chunk-fetch`.
 *
 * @module
 */

import type { BenchCase } from "../harness/bench-case.ts";
import { chunksInFlight } from "./chunk-fetch-work.ts";
import { freshProcessContestant } from "./fresh-process-contestant.ts";

const ferryTls = freshProcessContestant({
  name: "ferry-tls",
  description: `TransportClient.fetchChunk over tlsConnect (verified), ${chunksInFlight} in flight`,
  module: "bench/node/ferry-contestants.ts",
  exportName: "chunk-fetch-tls",
  servers: ["ferry", "ferry-tls"],
});

const ferryTcp = freshProcessContestant({
  name: "ferry-tcp",
  description: `TransportClient.fetchChunk over tcpConnect, ${chunksInFlight} in flight`,
  module: "bench/node/ferry-contestants.ts",
  exportName: "chunk-fetch-tcp",
  servers: ["ferry"],
});

export const tlsChunkFetchCase: BenchCase = {
  name: "tls-chunk-fetch",
  description: `1 GiB as 1 MiB Ferry chunks, ${chunksInFlight} in flight, over Node TLS vs over ` +
    `plain TCP (the cost of TLS)`,
  servers: [],
  contestants: [ferryTls, ferryTcp],
  rows: [{
    name: "tls-chunk-fetch-1gib",
    metric: "mibPerSecond",
    unit: "MiB/s",
    higherIsBetter: true,
    subject: "ferry-tls",
    baseline: "ferry-tcp",
    target: { op: ">=", ratio: 0.7 },
  }],
};
