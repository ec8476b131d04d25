/**
 * Bulk transfer with both sides in Deno: 1 GiB as 1 MiB chunks over loopback TCP.
 *
 * - ferry-deno: a Deno client process (`bench/deno/deno-bench-client.ts ferry-tcp`) fetching
 *   chunks, 16 in flight, over Ferry's Deno TCP adapter from a Deno server process serving the
 *   bench Ferry service on Ferry's Deno TCP listener. Each body is lent to a callback that counts
 *   it (`fetchChunkWith`), so its buffer holds a later chunk: what a high-throughput consumer uses.
 * - ferry-deno-owned: the same with `fetchChunk` (`ferry-tcp-owned`), each body the caller's to
 *   keep, so every chunk needs a fresh, zero-filled buffer (Deno cannot allocate uninitialized
 *   memory). Its row has no target: it shows what lending saves.
 * - ferry-deno-tls: the lent fetches over Ferry's Deno TLS adapter (`Deno.startTls`, verified)
 *   from the same service on `Deno.listenTls` (`deno-bench-server.ts ferry-tls`); its row is TLS ÷
 *   TCP (`ferry-deno`), target 0.7× as for Node.
 * - raw-deno-tls: the raw blast over Deno TLS (`Deno.listenTls` / `Deno.startTls`, verified),
 *   read into one reused buffer: `raw-deno-tls ÷ raw-deno` is what TLS costs Deno itself, the floor
 *   under the TLS row's ratio.
 * - raw-deno: a Deno client reading from a raw `Deno.listen` blast (`deno-bench-server.ts
 *   raw-tcp`) that writes the same bytes as awaited writes of a preallocated 1 MiB buffer.
 *
 * Each contestant has its own server and client process (an idle one costs nothing), so neither
 * shares an event loop with the Node runner. `serverCpuSeconds` is the Deno server's.
 *
 * @module
 */

import type { BenchCase } from "../harness/bench-case.ts";
import { chunksInFlight } from "./chunk-fetch-work.ts";
import { denoContestant } from "./deno-contestant.ts";

export const denoTcpChunkFetchCase: BenchCase = {
  name: "deno-tcp-chunk-fetch",
  description: `1 GiB as 1 MiB chunks, ${chunksInFlight} in flight, Deno client and Deno server ` +
    `over loopback TCP, vs a raw Deno TCP blast`,
  servers: [],
  contestants: [
    denoContestant(
      "ferry-deno",
      "ferry-tcp",
      `Deno TransportClient.fetchChunkWith (lent bodies) over Ferry's Deno TCP adapter, ` +
        `${chunksInFlight} in flight`,
    ),
    denoContestant(
      "ferry-deno-owned",
      "ferry-tcp-owned",
      `Deno TransportClient.fetchChunk (owned bodies) over Ferry's Deno TCP adapter, ` +
        `${chunksInFlight} in flight`,
      "ferry-tcp",
    ),
    denoContestant(
      "ferry-deno-tls",
      "ferry-tls",
      `Deno TransportClient.fetchChunkWith (lent bodies) over Ferry's Deno TLS adapter ` +
        `(verified), ${chunksInFlight} in flight`,
    ),
    denoContestant(
      "raw-deno-tls",
      "raw-tls",
      "Deno.listenTls server awaits writes of a 1 MiB buffer; Deno.startTls client counts bytes",
    ),
    denoContestant(
      "raw-deno",
      "raw-tcp",
      "Deno.listen server awaits writes of a 1 MiB buffer; Deno.connect client counts bytes",
    ),
  ],
  rows: [{
    name: "deno-tcp-chunk-fetch-1gib",
    metric: "mibPerSecond",
    unit: "MiB/s",
    higherIsBetter: true,
    subject: "ferry-deno",
    baseline: "raw-deno",
    target: { op: ">=", ratio: 0.9 },
  }, {
    name: "deno-tcp-chunk-fetch-owned-1gib",
    metric: "mibPerSecond",
    unit: "MiB/s",
    higherIsBetter: true,
    subject: "ferry-deno-owned",
    baseline: "raw-deno",
  }, {
    name: "deno-tls-chunk-fetch-1gib",
    metric: "mibPerSecond",
    unit: "MiB/s",
    higherIsBetter: true,
    subject: "ferry-deno-tls",
    baseline: "ferry-deno",
    target: { op: ">=", ratio: 0.7 },
  }, {
    name: "deno-tls-chunk-fetch-vs-raw-tls-1gib",
    metric: "mibPerSecond",
    unit: "MiB/s",
    higherIsBetter: true,
    subject: "ferry-deno-tls",
    baseline: "raw-deno-tls",
  }, {
    name: "deno-tls-raw-blast-over-tcp-1gib",
    metric: "mibPerSecond",
    unit: "MiB/s",
    higherIsBetter: true,
    subject: "raw-deno-tls",
    baseline: "raw-deno",
  }],
};
