/**
 * What Ferry's observability costs on the RPC and chunk-fetch work (issue 21 item 6). Every round
 * starts two fresh processes (`node/observability-cost-worker.ts`, their order alternating), each
 * loading Ferry twice and alternating batches of the same work between the two copies:
 *
 * - `without`: the copy with its instrumentation compiled out (the `?without` copy of
 *   `harness/ts-loader-observability-variants.mjs`, which removes every hook the connection,
 *   client, server and request handler run; `harness/without-observability.mjs` lists them): the
 *   code as if the instrumentation had never been written. It is the baseline of every row.
 * - `no-sdk` (first process): the copy as shipped, with no OpenTelemetry SDK registered and no
 *   channel subscriber — what every application that does not opt in runs.
 * - `sdk` (second process): as shipped with the OpenTelemetry SDK registered: a `MeterProvider`
 *   with a reader, and a `BasicTracerProvider` whose `BatchSpanProcessor` exports every span to an
 *   exporter that drops it (metrics and a span per request on each side, before network export).
 * - `a-a` (third process): two identical copies as shipped, measured the same way: the rows
 *   `…-a-a` show how far apart the method puts the same code (its noise floor, and any bias).
 *
 * The work: 64-byte `sendRpc` echoes with 256 in flight, and 1 MiB `fetchChunk`s with 16 in
 * flight, server and client in the process over TCP on 127.0.0.1, rated in CPU microseconds per
 * operation of the process (`process.cpuUsage()`: both sides). The rows are paired: a round's
 * ratio is the shipped copy's figure over the compiled-out copy's figure of the same process, and
 * the table prints the geometric mean of the rounds' ratios with its 95 % interval, so whether
 * the 2 % target is met can be read off rather than guessed from one noisy figure. On a loaded
 * machine CPU time still moves with the neighbours (a VM's CPU time includes time its vCPU waited),
 * so the interval needs many rounds there (`--rounds 20`); docs/observability.md gives figures.
 *
 * @module
 */

import type { BenchCase, Contestant, Sample } from "../harness/bench-case.ts";
import { ScriptProcess } from "../harness/script-process.ts";

const workerScript = "bench/node/observability-cost-worker.ts";
const loader = new URL("../harness/ts-loader-observability-variants.mjs", import.meta.url).href;

type Mode = "no-sdk" | "sdk" | "a-a";

/** One fresh worker process: its figures, or an Error with what it printed. */
async function runWorker(
  mode: Mode,
  quick: boolean,
  first: "without" | "shipped",
): Promise<Record<string, number>> {
  const worker = ScriptProcess.node(workerScript, [mode, quick ? "quick" : "full", first], {
    loader,
    flags: ["--expose-gc"],
  });
  try {
    const reply = JSON.parse(await worker.nextLine()) as Record<string, number | string>;
    if (typeof reply.error === "string") {
      throw new Error(`observability-cost ${mode}: ${reply.error}`);
    }
    return reply as Record<string, number>;
  } finally {
    await worker.stop();
  }
}

const threeWays: Contestant = {
  name: "ferry",
  description: "three fresh processes per round, each alternating batches between Ferry with its " +
    "instrumentation compiled out and as shipped (no SDK; with the OpenTelemetry SDK, metrics + " +
    "tracing; and an A/A control): RPC 64-byte echo 256 in flight, 1 MiB chunk fetch 16 in " +
    "flight; CPU µs per op",
  open(context) {
    let round = 0;
    return Promise.resolve({
      async run(): Promise<Sample> {
        const sample: Record<string, number> = {};
        // Which process runs first alternates, and (every other pair of rounds) which copy each
        // process loads and connects first: in A/A runs the second copy measured 5-10 % apart.
        const modes: Mode[] = round % 2 === 0 ? ["no-sdk", "sdk", "a-a"] : ["a-a", "sdk", "no-sdk"];
        const first = round % 4 < 2 ? "without" : "shipped";
        round++;
        for (const mode of modes) {
          const figures = await runWorker(mode, context.quick, first);
          const name = mode === "sdk" ? "sdk" : mode === "a-a" ? "aa" : "noSdk";
          sample[`${name}RpcCpuMicros`] = figures.shippedRpcCpuMicros!;
          sample[`${name}ChunkCpuMicros`] = figures.shippedChunkCpuMicros!;
          sample[`${name}WithoutRpcCpuMicros`] = figures.withoutRpcCpuMicros!;
          sample[`${name}WithoutChunkCpuMicros`] = figures.withoutChunkCpuMicros!;
          if (mode === "sdk") sample.spansExported = figures.spansExported!;
        }
        return sample;
      },
      close: () => Promise.resolve(),
      warmsUpEachRun: true,
    });
  },
};

const row = {
  unit: "CPU µs/op",
  higherIsBetter: false,
  subject: "ferry",
  baseline: "ferry",
  baselineLabel: "without",
  paired: true,
} as const;

export const observabilityCostCase: BenchCase = {
  name: "observability-cost",
  description: "CPU per RPC and per chunk fetch of Ferry as shipped (no SDK; with the " +
    "OpenTelemetry SDK) over the same with its instrumentation compiled out, alternating in " +
    "fresh processes",
  servers: [],
  contestants: [threeWays],
  rows: [
    {
      ...row,
      name: "observability-cost-rpc-no-sdk",
      metric: "noSdkRpcCpuMicros",
      baselineMetric: "noSdkWithoutRpcCpuMicros",
      target: { op: "<=", ratio: 1.02 },
    },
    {
      ...row,
      name: "observability-cost-chunk-no-sdk",
      metric: "noSdkChunkCpuMicros",
      baselineMetric: "noSdkWithoutChunkCpuMicros",
      target: { op: "<=", ratio: 1.02 },
    },
    {
      ...row,
      name: "observability-cost-rpc-a-a",
      metric: "aaRpcCpuMicros",
      baselineMetric: "aaWithoutRpcCpuMicros",
      baselineLabel: "same code",
    },
    {
      ...row,
      name: "observability-cost-chunk-a-a",
      metric: "aaChunkCpuMicros",
      baselineMetric: "aaWithoutChunkCpuMicros",
      baselineLabel: "same code",
    },
    {
      ...row,
      name: "observability-cost-rpc-sdk",
      metric: "sdkRpcCpuMicros",
      baselineMetric: "sdkWithoutRpcCpuMicros",
    },
    {
      ...row,
      name: "observability-cost-chunk-sdk",
      metric: "sdkChunkCpuMicros",
      baselineMetric: "sdkWithoutChunkCpuMicros",
    },
  ],
};
