/**
 * RPC latency: 64-byte echoes, one in flight; each round trip is timed and the round reports its
 * p50 and p99.
 *
 * - ferry: `TransportClient.sendRpc`, awaited one at a time.
 * - raw-net: length-prefixed ping-pong over `node:net`.
 *
 * @module
 */

import type { BenchCase, CaseContext, Contestant, RunPhase } from "../harness/bench-case.ts";
import { percentileInPlace } from "../harness/statistics.ts";
import { RawEchoClient } from "../baselines/raw-echo-client.ts";
import { echoPayload } from "../servers/ferry-bench-protocol.ts";
import { connectFerry, withWriteCount } from "./ferry-connection.ts";

const payloadBytes = 64;

function pingCount(context: CaseContext, phase: RunPhase): number {
  if (context.quick) return phase === "warmup" ? 200 : 1_000;
  return phase === "warmup" ? 5_000 : 30_000;
}

function summarize(latencies: Float64Array) {
  return {
    p50Micros: percentileInPlace(latencies, 50),
    p99Micros: percentileInPlace(latencies, 99),
  };
}

const ferry: Contestant = {
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
          return summarize(latencies);
        }),
      close: () => client.close(),
    };
  },
};

const rawNet: Contestant = {
  name: "raw-net",
  description: `length-prefixed node:net ping-pong, ${payloadBytes}-byte payload`,
  async open(context) {
    const client = await RawEchoClient.connect(context.servers.get("raw-echo"));
    const payload = echoPayload(payloadBytes);
    return {
      async run(phase) {
        return summarize(await client.pingPong(pingCount(context, phase), payload));
      },
      close: () => client.close(),
    };
  },
};

const row = { unit: "µs", higherIsBetter: false, subject: "ferry", baseline: "raw-net" };

export const rpcLatencyCase: BenchCase = {
  name: "rpc-latency",
  description: `${payloadBytes}-byte echo RPC, one in flight: round-trip percentiles`,
  servers: ["ferry", "raw-echo"],
  contestants: [ferry, rawNet],
  rows: [
    { ...row, name: "rpc-latency-p50", metric: "p50Micros", target: { op: "<=", ratio: 1.3 } },
    { ...row, name: "rpc-latency-p99", metric: "p99Micros" },
  ],
};
