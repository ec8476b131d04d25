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

import type { BenchCase, CaseContext, Contestant, RunPhase } from "../harness/bench-case.ts";
import { keepInFlight } from "../harness/keep-in-flight.ts";
import { RawBlastClient } from "../baselines/raw-blast-client.ts";
import { decodeStreamId, encodeOpenStream } from "../servers/ferry-bench-protocol.ts";
import { connectFerry, withWriteCount } from "./ferry-connection.ts";

const MiB = 1024 * 1024;
const chunkBytes = 1 * MiB;
/** Fetches outstanding at once (the issue asks for 8–16). */
const chunksInFlight = 16;

/** Chunks per run: 1 GiB measured (64 MiB with --quick), less to warm up. */
function chunkCount(context: CaseContext, phase: RunPhase): number {
  if (context.quick) return phase === "warmup" ? 16 : 64;
  return phase === "warmup" ? 256 : 1024;
}

function throughput(bytes: number, expected: number, startedAt: number) {
  const seconds = (performance.now() - startedAt) / 1000;
  if (bytes !== expected) {
    throw new Error(`chunk-fetch: received ${bytes} bytes, expected ${expected}`);
  }
  return { mibPerSecond: bytes / MiB / seconds, seconds };
}

const ferry: Contestant = {
  name: "ferry",
  description: `TransportClient.fetchChunk, ${chunksInFlight} in flight, random-access stream`,
  async open(context) {
    const client = await connectFerry(context.servers);
    return {
      run: (phase) =>
        withWriteCount(client, async () => {
          const count = chunkCount(context, phase);
          let bytes = 0;
          const startedAt = performance.now();
          const streamId = decodeStreamId(
            await client.sendRpc(encodeOpenStream(count, chunkBytes)),
          );
          await keepInFlight(
            count,
            chunksInFlight,
            (index) => client.fetchChunk(streamId, index),
            (chunk) => {
              bytes += chunk.byteLength;
            },
          );
          return throughput(bytes, count * chunkBytes, startedAt);
        }),
      close: () => client.close(),
    };
  },
};

const rawNet: Contestant = {
  name: "raw-net",
  description: "node:net server writes 1 MiB buffers honouring backpressure; client counts bytes",
  async open(context) {
    const client = await RawBlastClient.connect(context.servers.get("raw-blast"));
    return {
      async run(phase) {
        const count = chunkCount(context, phase);
        const startedAt = performance.now();
        const bytes = await client.receive(count, chunkBytes);
        return throughput(bytes, count * chunkBytes, startedAt);
      },
      close: () => client.close(),
    };
  },
};

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
