/**
 * The work of the RPC cases (`rpc-echo`, `rpc-latency`), shared by their Ferry and baseline
 * contestants: 64-byte echoes, 256 in flight or one at a time, for a fixed number of requests.
 *
 * @module
 */

import type { CaseContext, RunPhase } from "../harness/bench-case.ts";
import { percentileInPlace } from "../harness/statistics.ts";

export const payloadBytes = 64;
/** Requests outstanding at once in `rpc-echo`. */
export const inFlight = 256;

/** Requests per run of one contestant: `[warm-up, measured]`, full and `--quick`. */
export interface Workload {
  readonly full: readonly [number, number];
  readonly quick: readonly [number, number];
}

/** Ferry and raw-net: ~1 s of work per measured run on 2 cores. */
export const fastWorkload: Workload = { full: [30_000, 300_000], quick: [1_000, 4_000] };
/** grpc-js is ~100× slower here (~2k req/s), so it runs fewer requests to keep the bench short. */
export const grpcWorkload: Workload = { full: [1_000, 6_000], quick: [256, 512] };

export function requestCount(context: CaseContext, phase: RunPhase, workload: Workload): number {
  return (context.quick ? workload.quick : workload.full)[phase === "warmup" ? 0 : 1];
}

/** `{ requestsPerSecond, seconds, requests }` of `requests` started at `startedAt`. */
export function rate(requests: number, startedAt: number) {
  const seconds = (performance.now() - startedAt) / 1000;
  return { requestsPerSecond: requests / seconds, seconds, requests };
}

/** Round trips per run of `rpc-latency`. */
export function pingCount(context: CaseContext, phase: RunPhase): number {
  if (context.quick) return phase === "warmup" ? 200 : 1_000;
  return phase === "warmup" ? 5_000 : 30_000;
}

/** p50 and p99 of round trips in microseconds (sorts `latencies`), and how many there were. */
export function summarizeLatencies(latencies: Float64Array) {
  return {
    p50Micros: percentileInPlace(latencies, 50),
    p99Micros: percentileInPlace(latencies, 99),
    requests: latencies.length,
  };
}
