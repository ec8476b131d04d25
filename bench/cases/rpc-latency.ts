/**
 * RPC latency: 64-byte echoes, one in flight; each round trip is timed and the round reports its
 * p50 and p99. Client and server in fresh Node processes every round.
 *
 * - ferry: `TransportClient.sendRpc`, awaited one at a time.
 * - raw-net: length-prefixed ping-pong over `node:net`.
 *
 * @module
 */

import type { BenchCase } from "../harness/bench-case.ts";
import { freshProcessContestant } from "./fresh-process-contestant.ts";
import { payloadBytes } from "./rpc-work.ts";

const ferry = freshProcessContestant({
  name: "ferry",
  description: `TransportClient.sendRpc, ${payloadBytes}-byte echo, one in flight`,
  module: "bench/node/ferry-contestants.ts",
  exportName: "rpc-latency",
  servers: ["ferry"],
});

const rawNet = freshProcessContestant({
  name: "raw-net",
  description: `length-prefixed node:net ping-pong, ${payloadBytes}-byte payload`,
  module: "bench/node/raw-contestants.ts",
  exportName: "echo-ping-pong",
  servers: ["raw-echo"],
});

const row = { unit: "µs", higherIsBetter: false, subject: "ferry", baseline: "raw-net" };

export const rpcLatencyCase: BenchCase = {
  name: "rpc-latency",
  description: `${payloadBytes}-byte echo RPC, one in flight: round-trip percentiles`,
  servers: [],
  contestants: [ferry, rawNet],
  rows: [
    { ...row, name: "rpc-latency-p50", metric: "p50Micros", target: { op: "<=", ratio: 1.3 } },
    { ...row, name: "rpc-latency-p99", metric: "p99Micros" },
  ],
};
