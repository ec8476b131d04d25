/**
 * The in-process Ferry contestants of the Node TCP and TLS cases, run by `contestant-host.ts` in a
 * process of their own (see `cases/fresh-process-contestant.ts`):
 *
 * - `chunk-fetch-tcp`: `fetchChunk` of 1 MiB chunks, 16 in flight, over `tcpConnect`.
 * - `chunk-fetch-tcp-lent`: the same with `fetchChunkWith`, each body lent to a counting callback.
 * - `chunk-fetch-tls`: the same over `tlsConnect` (verified, trusting the server process's
 *   self-signed certificate, fetched once over plain TCP with the `certificate` RPC).
 * - `rpc-echo`: 64-byte `sendRpc` echoes, 256 in flight.
 * - `rpc-echo-callback`: the same with `sendRpcWith` (callbacks, no promise per request).
 * - `rpc-latency`: 64-byte `sendRpc`, one in flight, each round trip timed.
 *
 * @module
 */

import { tlsConnect } from "../../adapters/node/tls.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import type { Contestant } from "../harness/bench-case.ts";
import { keepInFlight } from "../harness/keep-in-flight.ts";
import {
  chunksInFlight,
  ferryChunkFetchContestant,
  fetchChunksLent,
} from "../cases/chunk-fetch-work.ts";
import { connectFerry, withWriteCount } from "../cases/ferry-connection.ts";
import {
  fastWorkload,
  inFlight,
  payloadBytes,
  pingCount,
  rate,
  requestCount,
  summarizeLatencies,
} from "../cases/rpc-work.ts";
import { echoPayload, encodeCertificateRequest } from "../servers/ferry-bench-protocol.ts";

const chunkFetchTcp = ferryChunkFetchContestant(
  "ferry-tcp",
  `TransportClient.fetchChunk over tcpConnect, ${chunksInFlight} in flight`,
  (context) => connectFerry(context.servers),
);

const chunkFetchTcpLent = ferryChunkFetchContestant(
  "ferry-lent",
  `TransportClient.fetchChunkWith (lent bodies) over tcpConnect, ${chunksInFlight} in flight`,
  (context) => connectFerry(context.servers),
  fetchChunksLent,
);

const chunkFetchTls = ferryChunkFetchContestant(
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

const rpcEcho: Contestant = {
  name: "ferry",
  description: `TransportClient.sendRpc, ${payloadBytes}-byte echo, ${inFlight} in flight`,
  async open(context) {
    const client = await connectFerry(context.servers);
    const payload = echoPayload(payloadBytes);
    return {
      run: (phase) =>
        withWriteCount(client, async () => {
          const total = requestCount(context, phase, fastWorkload);
          const startedAt = performance.now();
          await keepInFlight(total, inFlight, () => client.sendRpc(payload), (reply) => {
            if (reply.byteLength !== payloadBytes) {
              throw new Error(`rpc-echo: Ferry reply of ${reply.byteLength} bytes`);
            }
          });
          return rate(total, startedAt);
        }),
      close: () => client.close(),
    };
  },
};

const rpcEchoCallback: Contestant = {
  name: "ferry-callback",
  description: `TransportClient.sendRpcWith, ${payloadBytes}-byte echo, ${inFlight} in flight`,
  async open(context) {
    const client = await connectFerry(context.servers);
    const payload = echoPayload(payloadBytes);
    return {
      run: (phase) =>
        withWriteCount(client, () => {
          const total = requestCount(context, phase, fastWorkload);
          const startedAt = performance.now();
          return new Promise((resolve, reject) => {
            // The raw echo's driver: a new request as each reply arrives, no promise per request.
            let started = 0;
            let completed = 0;
            const callback = {
              onSuccess(reply: Uint8Array) {
                if (reply.byteLength !== payloadBytes) {
                  reject(new Error(`rpc-echo: Ferry reply of ${reply.byteLength} bytes`));
                  return;
                }
                completed++;
                if (started < total) {
                  started++;
                  client.sendRpcWith(payload, callback);
                } else if (completed === total) resolve(rate(total, startedAt));
              },
              onFailure: reject,
            };
            for (; started < Math.min(inFlight, total); started++) {
              client.sendRpcWith(payload, callback);
            }
          });
        }),
      close: () => client.close(),
    };
  },
};

const rpcLatency: Contestant = {
  name: "ferry",
  description: `TransportClient.sendRpc, ${payloadBytes}-byte echo, one in flight`,
  async open(context) {
    const client = await connectFerry(context.servers);
    const payload = echoPayload(payloadBytes);
    return {
      run: (phase) =>
        withWriteCount(client, async () => {
          const latencies = new Float64Array(pingCount(context, phase));
          for (let i = 0; i < latencies.length; i++) {
            const startedAt = performance.now();
            const reply = await client.sendRpc(payload);
            latencies[i] = (performance.now() - startedAt) * 1000;
            if (reply.byteLength !== payloadBytes) {
              throw new Error(`rpc-latency: Ferry reply of ${reply.byteLength} bytes`);
            }
          }
          return summarizeLatencies(latencies);
        }),
      close: () => client.close(),
    };
  },
};

export const contestants: Record<string, Contestant> = {
  "chunk-fetch-tcp": chunkFetchTcp,
  "chunk-fetch-tcp-lent": chunkFetchTcpLent,
  "chunk-fetch-tls": chunkFetchTls,
  "rpc-echo": rpcEcho,
  "rpc-echo-callback": rpcEchoCallback,
  "rpc-latency": rpcLatency,
};
