/**
 * RPC throughput: 64-byte echoes with 256 outstanding at all times on one connection (a new
 * request goes out as each reply arrives), for a fixed number of requests. Every contestant's
 * client and server run in fresh Node processes each round (`fresh-process-contestant.ts`).
 *
 * - ferry: `TransportClient.sendRpc` against a TransportServer whose RpcHandler echoes the body.
 * - ferry-callback: the same with `TransportClient.sendRpcWith` (callbacks, no promise per request).
 * - raw-net: length-prefixed frames over `node:net`, same pipelining (a strong floor).
 * - grpc-js: unary calls of a raw-bytes echo service on one channel, same pipelining.
 *
 * @module
 */

import type { BenchCase } from "../harness/bench-case.ts";
import { freshProcessContestant } from "./fresh-process-contestant.ts";
import { inFlight, payloadBytes } from "./rpc-work.ts";

const ferry = freshProcessContestant({
  name: "ferry",
  description: `TransportClient.sendRpc, ${payloadBytes}-byte echo, ${inFlight} in flight`,
  module: "bench/node/ferry-contestants.ts",
  exportName: "rpc-echo",
  servers: ["ferry"],
});

const ferryCallback = freshProcessContestant({
  name: "ferry-callback",
  description:
    `TransportClient.sendRpcWith (callbacks), ${payloadBytes}-byte echo, ${inFlight} in flight`,
  module: "bench/node/ferry-contestants.ts",
  exportName: "rpc-echo-callback",
  servers: ["ferry"],
});

const rawNet = freshProcessContestant({
  name: "raw-net",
  description: `length-prefixed node:net echo, ${payloadBytes}-byte payload, ${inFlight} in flight`,
  module: "bench/node/raw-contestants.ts",
  exportName: "echo-pipelined",
  servers: ["raw-echo"],
});

const grpcJs = freshProcessContestant({
  name: "grpc-js",
  description:
    `@grpc/grpc-js unary raw-bytes echo, ${payloadBytes}-byte payload, ${inFlight} in flight`,
  module: "bench/node/raw-contestants.ts",
  exportName: "grpc-echo",
  servers: ["grpc-echo"],
});

const row = { metric: "requestsPerSecond", unit: "req/s", higherIsBetter: true, subject: "ferry" };

export const rpcEchoCase: BenchCase = {
  name: "rpc-echo",
  description: `${payloadBytes}-byte echo RPCs, ${inFlight} in flight on one connection`,
  servers: [],
  contestants: [ferry, ferryCallback, rawNet, grpcJs],
  rows: [
    { ...row, name: "rpc-echo-256-vs-raw", baseline: "raw-net", target: { op: ">=", ratio: 0.8 } },
    { ...row, name: "rpc-echo-256-vs-grpc", baseline: "grpc-js", target: { op: ">=", ratio: 10 } },
    // The same echo with callbacks (`sendRpcWith`): what the promise of `sendRpc` costs.
    {
      ...row,
      name: "rpc-echo-256-callback-vs-raw",
      subject: "ferry-callback",
      baseline: "raw-net",
    },
  ],
};
