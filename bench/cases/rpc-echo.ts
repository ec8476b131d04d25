/**
 * RPC throughput: 64-byte echoes with 256 outstanding at all times on one connection (a new
 * request goes out as each reply arrives), for a fixed number of requests.
 *
 * - ferry: `TransportClient.sendRpc` against a TransportServer whose RpcHandler echoes the body.
 * - raw-net: length-prefixed frames over `node:net`, same pipelining (a strong floor).
 * - grpc-js: unary calls of a raw-bytes echo service on one channel, same pipelining.
 *
 * @module
 */

import type { BenchCase, CaseContext, Contestant, RunPhase } from "../harness/bench-case.ts";
import { keepInFlight } from "../harness/keep-in-flight.ts";
import { GrpcEchoClient } from "../baselines/grpc-echo-client.ts";
import { RawEchoClient } from "../baselines/raw-echo-client.ts";
import { echoPayload } from "../servers/ferry-bench-protocol.ts";
import { connectFerry, withWriteCount } from "./ferry-connection.ts";

const payloadBytes = 64;
const inFlight = 256;

/** Requests per run of one contestant: `[warm-up, measured]`, full and `--quick`. */
interface Workload {
  readonly full: readonly [number, number];
  readonly quick: readonly [number, number];
}

/** Ferry and raw-net: ~1 s of work per measured run on 2 cores. */
const fastWorkload: Workload = { full: [30_000, 300_000], quick: [1_000, 4_000] };
/** grpc-js is ~100× slower here (~2k req/s), so it runs fewer requests to keep the bench short. */
const grpcWorkload: Workload = { full: [1_000, 6_000], quick: [256, 512] };

function requestCount(context: CaseContext, phase: RunPhase, workload: Workload): number {
  return (context.quick ? workload.quick : workload.full)[phase === "warmup" ? 0 : 1];
}

function rate(requests: number, startedAt: number) {
  const seconds = (performance.now() - startedAt) / 1000;
  return { requestsPerSecond: requests / seconds, seconds };
}

const ferry: Contestant = {
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

const rawNet: Contestant = {
  name: "raw-net",
  description: `length-prefixed node:net echo, ${payloadBytes}-byte payload, ${inFlight} in flight`,
  async open(context) {
    const client = await RawEchoClient.connect(context.servers.get("raw-echo"));
    const payload = echoPayload(payloadBytes);
    return {
      async run(phase) {
        const total = requestCount(context, phase, fastWorkload);
        const startedAt = performance.now();
        await client.pipelined(total, inFlight, payload);
        return rate(total, startedAt);
      },
      close: () => client.close(),
    };
  },
};

const grpcJs: Contestant = {
  name: "grpc-js",
  description:
    `@grpc/grpc-js unary raw-bytes echo, ${payloadBytes}-byte payload, ${inFlight} in flight`,
  async open(context) {
    const client = await GrpcEchoClient.connect(context.servers.get("grpc-echo"));
    const payload = echoPayload(payloadBytes);
    return {
      async run(phase) {
        const total = requestCount(context, phase, grpcWorkload);
        const startedAt = performance.now();
        await client.pipelined(total, inFlight, payload);
        return rate(total, startedAt);
      },
      close: () => client.close(),
    };
  },
};

const row = { metric: "requestsPerSecond", unit: "req/s", higherIsBetter: true, subject: "ferry" };

export const rpcEchoCase: BenchCase = {
  name: "rpc-echo",
  description: `${payloadBytes}-byte echo RPCs, ${inFlight} in flight on one connection`,
  servers: ["ferry", "raw-echo", "grpc-echo"],
  contestants: [ferry, rawNet, grpcJs],
  rows: [
    { ...row, name: "rpc-echo-256-vs-raw", baseline: "raw-net", target: { op: ">=", ratio: 0.5 } },
    { ...row, name: "rpc-echo-256-vs-grpc", baseline: "grpc-js", target: { op: ">=", ratio: 10 } },
  ],
};
