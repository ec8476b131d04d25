/**
 * What TLS costs a bulk transfer: the same Ferry chunk fetch (1 GiB as 1 MiB chunks, 16 in
 * flight) over Node TLS and over plain TCP, client and server in fresh Node processes every round.
 * Target: TLS ≥ 0.7× TCP.
 *
 * - ferry-tls: `tlsConnect` with full verification, trusting the server process's self-signed
 *   certificate (fetched once over plain TCP with the bench protocol's `certificate` RPC).
 * - ferry-tcp: `tcpConnect`, as in `chunk-fetch`.
 * - raw-tls / raw-net: the raw blast over Node TLS and over plain TCP: `raw-tls ÷ raw-net` is what
 *   TLS costs Node itself here (the floor under Ferry's ratio), `ferry-tls ÷ raw-tls` what Ferry
 *   adds on top of Node's TLS.
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

const rawTls = freshProcessContestant({
  name: "raw-tls",
  description: "the raw node:net blast over Node TLS (tls.createServer / tls.connect)",
  module: "bench/node/raw-contestants.ts",
  exportName: "tls-blast",
  servers: ["raw-tls-blast"],
});

const rawNet = freshProcessContestant({
  name: "raw-net",
  description: "node:net server writes 1 MiB buffers honouring backpressure; client counts bytes",
  module: "bench/node/raw-contestants.ts",
  exportName: "blast",
  servers: ["raw-blast"],
});

const row = { metric: "mibPerSecond", unit: "MiB/s", higherIsBetter: true };

export const tlsChunkFetchCase: BenchCase = {
  name: "tls-chunk-fetch",
  description: `1 GiB as 1 MiB Ferry chunks, ${chunksInFlight} in flight, over Node TLS vs over ` +
    `plain TCP (the cost of TLS)`,
  servers: [],
  contestants: [ferryTls, ferryTcp, rawTls, rawNet],
  rows: [
    {
      ...row,
      name: "tls-chunk-fetch-1gib",
      subject: "ferry-tls",
      baseline: "ferry-tcp",
      target: { op: ">=", ratio: 0.7 },
    },
    { ...row, name: "tls-chunk-fetch-vs-raw-tls-1gib", subject: "ferry-tls", baseline: "raw-tls" },
    { ...row, name: "tls-raw-blast-over-tcp-1gib", subject: "raw-tls", baseline: "raw-net" },
  ],
};
