/**
 * What Ferry's observability costs on the RPC and chunk-fetch work (issue 21 item 6): the same
 * work in fresh processes three ways, alternating —
 *
 * - `without`: the library with its instrumentation compiled out (loaded through
 *   `harness/ts-loader-without-observability.mjs`, which removes every hook the connection, client,
 *   server and request handler run; `harness/without-observability.mjs` lists them): the code as
 *   if the instrumentation had never been written.
 * - `no-sdk`: the library as shipped, with no OpenTelemetry SDK registered and no channel
 *   subscriber (what every application that does not opt in runs).
 * - `sdk`: as shipped with the OpenTelemetry SDK registered: a `MeterProvider` with a reader and a
 *   `BasicTracerProvider` whose `BatchSpanProcessor` exports every span to an exporter that drops
 *   it (metrics and a span per request on each side, before any network export).
 *
 * Each process (`node/observability-cost-worker.ts`) runs server and client over TCP on 127.0.0.1
 * and rates each work in CPU microseconds per operation (`process.cpuUsage()` of the process:
 * both sides), the median of its batches after a warm-up: CPU time, unlike wall time, barely
 * depends on what else the machine runs. A run of the case runs `triplesPerRun` triples, the
 * order inside each triple rotating; its figures are the triples' means. The rows are paired: each
 * round's ratio is `no-sdk / without` (or `sdk / without`) of that round, and the table prints
 * their geometric mean with its 95 % interval, so the 2 % target is resolvable with enough rounds
 * (`--rounds 10`).
 *
 * @module
 */

import type { BenchCase, Contestant, Sample } from "../harness/bench-case.ts";
import { ScriptProcess } from "../harness/script-process.ts";

const workerScript = "bench/node/observability-cost-worker.ts";
const withoutLoader = new URL("../harness/ts-loader-without-observability.mjs", import.meta.url)
  .href;

type Variant = "without" | "no-sdk" | "sdk";
const variants: readonly Variant[] = ["without", "no-sdk", "sdk"];
/** Sample keys of each variant's figures. */
const prefix: Record<Variant, string> = { without: "without", "no-sdk": "noSdk", sdk: "sdk" };

/** One fresh worker process: its figures, or an Error with what it printed. */
async function runWorker(variant: Variant, quick: boolean): Promise<Record<string, number>> {
  const worker = ScriptProcess.node(
    workerScript,
    [variant, quick ? "quick" : "full"],
    variant === "without" ? { loader: withoutLoader } : {},
  );
  try {
    const reply = JSON.parse(await worker.nextLine()) as Record<string, number | string>;
    if (typeof reply.error === "string") {
      throw new Error(`observability-cost ${variant}: ${reply.error}`);
    }
    return reply as Record<string, number>;
  } finally {
    await worker.stop();
  }
}

const threeWays: Contestant = {
  name: "ferry",
  description: "fresh processes, alternating: instrumentation compiled out / no SDK / with the " +
    "OpenTelemetry SDK (metrics + tracing); RPC 64-byte echo 256 in flight, 1 MiB chunk fetch " +
    "16 in flight; CPU µs per operation, client and server in one process",
  open(context) {
    const triplesPerRun = context.quick ? 1 : 4;
    let triples = 0;
    return Promise.resolve({
      async run(): Promise<Sample> {
        const sums: Record<string, number> = {};
        for (let t = 0; t < triplesPerRun; t++) {
          const first = triples++ % variants.length;
          for (let i = 0; i < variants.length; i++) {
            const variant = variants[(first + i) % variants.length]!;
            const figures = await runWorker(variant, context.quick);
            for (const work of ["rpc", "chunk"]) {
              const key = `${prefix[variant]}${work === "rpc" ? "Rpc" : "Chunk"}CpuMicros`;
              sums[key] = (sums[key] ?? 0) + figures[`${work}CpuMicros`]!;
            }
            if (variant === "sdk") {
              sums.spansExported = (sums.spansExported ?? 0) + figures.spansExported!;
            }
          }
        }
        const sample: Record<string, number> = {};
        for (const [key, sum] of Object.entries(sums)) {
          sample[key] = key === "spansExported" ? sum : sum / triplesPerRun;
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
  description: "CPU per RPC and per chunk fetch with Ferry's instrumentation compiled out, " +
    "present with no SDK, and with the OpenTelemetry SDK, in alternating fresh processes",
  servers: [],
  contestants: [threeWays],
  rows: [
    {
      ...row,
      name: "observability-cost-rpc-no-sdk",
      metric: "noSdkRpcCpuMicros",
      baselineMetric: "withoutRpcCpuMicros",
      target: { op: "<=", ratio: 1.02 },
    },
    {
      ...row,
      name: "observability-cost-chunk-no-sdk",
      metric: "noSdkChunkCpuMicros",
      baselineMetric: "withoutChunkCpuMicros",
      target: { op: "<=", ratio: 1.02 },
    },
    {
      ...row,
      name: "observability-cost-rpc-sdk",
      metric: "sdkRpcCpuMicros",
      baselineMetric: "withoutRpcCpuMicros",
    },
    {
      ...row,
      name: "observability-cost-chunk-sdk",
      metric: "sdkChunkCpuMicros",
      baselineMetric: "withoutChunkCpuMicros",
    },
  ],
};
