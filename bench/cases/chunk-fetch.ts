/**
 * Bulk transfer: 1 GiB as 1 MiB chunks over loopback TCP, every contestant's client and server in
 * fresh Node processes each round (`fresh-process-contestant.ts`).
 *
 * - ferry: `TransportClient.fetchChunk` with 16 fetches in flight, against a TransportServer whose
 *   OneForOneStreamManager serves a random-access source (every chunk is one preallocated 1 MiB
 *   buffer). Timed from the RPC that registers the stream to the last chunk received.
 * - ferry-lent: the same with `fetchChunkWith`, each body lent to a callback that counts it (what
 *   a high-throughput consumer uses; the WebSocket and Deno rows' targets are on lent fetches).
 *   A body of `fetchChunk` is the caller's and lives until collected: 1 GiB of them costs full
 *   collections a lent body does not.
 * - raw-net: the same bytes as `node:net` writes of a preallocated 1 MiB buffer, honouring
 *   backpressure; the client only counts bytes of its `data` events. Timed from the request to the
 *   last byte.
 * - raw-net-onread: the same blast read with `onread` into one reused 1 MiB buffer (no allocation
 *   per read): the stretch baseline.
 *
 * @module
 */

import type { BenchCase } from "../harness/bench-case.ts";
import { chunksInFlight } from "./chunk-fetch-work.ts";
import { freshProcessContestant } from "./fresh-process-contestant.ts";

/**
 * Untimed 256 MiB warm-up runs before each measured GiB, for every contestant (raw and Ferry
 * alike). TurboFan optimizes a function after roughly 1 000–3 500 calls here (three interrupt-budget
 * ticks of 66 KB of bytecode each, more for long functions), and the per-chunk functions run about
 * once per chunk: after 4 runs (1 024 chunks) V8 was still compiling the Ferry server's and
 * client's per-chunk functions inside the measured GiB. 4 → 12, four alternations at load 17–20
 * (lent fetches, s/GiB medians): Ferry server 0.385 → 0.295 (user 0.185 → 0.08), client 0.325 →
 * 0.28; the raw onread blast unchanged (server 0.20 → 0.18).
 */
const chunkFetchWarmupRuns = 12;

const ferry = freshProcessContestant({
  warmupRuns: chunkFetchWarmupRuns,
  name: "ferry",
  description: `TransportClient.fetchChunk, ${chunksInFlight} in flight, random-access stream`,
  module: "bench/node/ferry-contestants.ts",
  exportName: "chunk-fetch-tcp",
  servers: ["ferry"],
});

const ferryLent = freshProcessContestant({
  warmupRuns: chunkFetchWarmupRuns,
  name: "ferry-lent",
  description: `TransportClient.fetchChunkWith (lent bodies), ${chunksInFlight} in flight`,
  module: "bench/node/ferry-contestants.ts",
  exportName: "chunk-fetch-tcp-lent",
  servers: ["ferry"],
});

const rawNet = freshProcessContestant({
  warmupRuns: chunkFetchWarmupRuns,
  name: "raw-net",
  description: "node:net server writes 1 MiB buffers honouring backpressure; client counts bytes",
  module: "bench/node/raw-contestants.ts",
  exportName: "blast",
  servers: ["raw-blast"],
});

const rawNetOnread = freshProcessContestant({
  warmupRuns: chunkFetchWarmupRuns,
  name: "raw-net-onread",
  description: "the same raw blast, read with onread into one reused 1 MiB buffer",
  module: "bench/node/raw-contestants.ts",
  exportName: "blast-onread",
  servers: ["raw-blast"],
});

const row = { metric: "mibPerSecond", unit: "MiB/s", higherIsBetter: true, subject: "ferry" };

export const chunkFetchCase: BenchCase = {
  name: "chunk-fetch",
  description:
    `1 GiB as 1 MiB chunks, ${chunksInFlight} in flight, loopback TCP, vs a raw node:net blast ` +
    `(client and server in fresh processes every round)`,
  servers: [],
  contestants: [ferry, ferryLent, rawNet, rawNetOnread],
  rows: [
    { ...row, name: "chunk-fetch-1gib", baseline: "raw-net", target: { op: ">=", ratio: 0.9 } },
    { ...row, name: "chunk-fetch-lent-1gib", subject: "ferry-lent", baseline: "raw-net" },
    {
      ...row,
      name: "chunk-fetch-lent-1gib-vs-onread",
      subject: "ferry-lent",
      baseline: "raw-net-onread",
      target: { op: ">=", ratio: 0.9 },
    },
  ],
};
