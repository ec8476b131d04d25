/**
 * What TLS costs a bulk transfer: the same Ferry chunk fetch (1 GiB as 1 MiB chunks, 16 in
 * flight) over Node TLS and over plain TCP, in the same run. Recorded, no target.
 *
 * - ferry-tls: `tlsConnect` with full verification, trusting the server process's self-signed
 *   certificate (fetched once over plain TCP with the bench protocol's `certificate` RPC).
 * - ferry-tcp: `tcpConnect`, as in `chunk-fetch`.
 *
 * @module
 */

import { tlsConnect } from "../../adapters/node/tls.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import type { BenchCase } from "../harness/bench-case.ts";
import { encodeCertificateRequest } from "../servers/ferry-bench-protocol.ts";
import { chunksInFlight, ferryChunkFetchContestant } from "./chunk-fetch-work.ts";
import { connectFerry } from "./ferry-connection.ts";

const ferryTls = ferryChunkFetchContestant(
  "ferry-tls",
  `TransportClient.fetchChunk over tlsConnect (verified), ${chunksInFlight} in flight`,
  async (context) => {
    const plain = await connectFerry(context.servers);
    let certPem: string;
    try {
      certPem = new TextDecoder().decode(await plain.sendRpc(encodeCertificateRequest()));
    } finally {
      await plain.close();
    }
    const { host, port } = context.servers.get("ferry-tls");
    return TransportClient.connect(tlsConnect({ host, port, ca: certPem }), {
      timeoutMs: 10_000,
    });
  },
);

const ferryTcp = ferryChunkFetchContestant(
  "ferry-tcp",
  `TransportClient.fetchChunk over tcpConnect, ${chunksInFlight} in flight`,
  (context) => connectFerry(context.servers),
);

export const tlsChunkFetchCase: BenchCase = {
  name: "tls-chunk-fetch",
  description: `1 GiB as 1 MiB Ferry chunks, ${chunksInFlight} in flight, over Node TLS vs over ` +
    `plain TCP (the cost of TLS; recorded, no target)`,
  servers: ["ferry", "ferry-tls"],
  contestants: [ferryTls, ferryTcp],
  rows: [{
    name: "tls-chunk-fetch-1gib",
    metric: "mibPerSecond",
    unit: "MiB/s",
    higherIsBetter: true,
    subject: "ferry-tls",
    baseline: "ferry-tcp",
  }],
};
