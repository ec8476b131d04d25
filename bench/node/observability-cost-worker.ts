/**
 * One process of the `observability-cost` case (`cases/observability-cost.ts`): a Ferry server and
 * client in this process over TCP on 127.0.0.1, so both sides' instrumentation is in its CPU time.
 *
 *     node --import ./bench/harness/ts-loader.mjs bench/node/observability-cost-worker.ts VARIANT QUICK
 *
 * VARIANT is `without` (loaded through `ts-loader-without-observability.mjs`: the hooks compiled
 * out), `no-sdk` (as shipped; no OpenTelemetry SDK, no channel subscriber) or `sdk` (an SDK
 * `MeterProvider` with a reader, and a `BasicTracerProvider` whose `BatchSpanProcessor` hands every
 * span to an exporter that drops it: the SDK's own cost, before any network export). QUICK is
 * `quick` or `full`. After a warm-up, it runs the RPC work (64-byte `sendRpc` echoes, 256 in
 * flight) and the chunk work (1 MiB `fetchChunk`s, 16 in flight) in alternating batches, and
 * prints one JSON line: the median over batches of each work's CPU microseconds per operation
 * (`process.cpuUsage()`, user + system: client and server together), then exits.
 *
 * @module
 */

import process from "node:process";
import { metrics, trace } from "@opentelemetry/api";
import { ExportResultCode } from "@opentelemetry/core";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { tcpConnect, tcpListen } from "../../adapters/node/tcp.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { connectionEventOf, tapOf } from "../../src/observability/observe.ts";
import { OneForOneStreamManager } from "../../src/responder/one-for-one-stream-manager.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { keepInFlight } from "../harness/keep-in-flight.ts";
import { median } from "../harness/statistics.ts";

const [variant = "", size = "full"] = process.argv.slice(2);
const quick = size === "quick";
const rpcBytes = 64;
const rpcInFlight = 256;
const chunkBytes = 1024 * 1024;
const chunksInFlight = 16;
/** Operations per batch and batches per process: a few seconds of CPU in full size. */
const rpcsPerBatch = quick ? 2_000 : 25_000;
const chunksPerBatch = quick ? 16 : 64;
const batches = quick ? 2 : 6;

class DroppingExporter implements SpanExporter {
  spans = 0;
  export(spans: ReadableSpan[], done: (result: { code: ExportResultCode }) => void): void {
    this.spans += spans.length;
    done({ code: ExportResultCode.SUCCESS });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

class CollectOnDemand extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

async function main(): Promise<Record<string, number>> {
  if (!["without", "no-sdk", "sdk"].includes(variant)) {
    throw new Error(`observability-cost worker: unknown variant "${variant}"`);
  }
  const exporter = new DroppingExporter();
  const reader = new CollectOnDemand();
  const meterProvider = new MeterProvider({ readers: [reader] });
  // A queue large enough that no span is dropped between two exports (dropping would be cheaper).
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [
      new BatchSpanProcessor(exporter, {
        maxQueueSize: 1 << 16,
        maxExportBatchSize: 2048,
        scheduledDelayMillis: 100,
      }),
    ],
  });
  if (variant === "sdk") {
    metrics.setGlobalMeterProvider(meterProvider);
    trace.setGlobalTracerProvider(tracerProvider);
  }

  const streams = new OneForOneStreamManager();
  const server = new TransportServer({
    rpcHandler: { receive: (_client, body) => body },
    streamManager: streams,
  });
  const listener = await server.listen(tcpListen({ host: "127.0.0.1", port: 0 }));
  const client = await TransportClient.connect(
    tcpConnect({ host: "127.0.0.1", port: listener.address.port }),
  );
  const rpcBody = new Uint8Array(rpcBytes);
  await client.sendRpc(rpcBody);
  const [serverSide] = [...server.connections];
  // The variant is what it claims: compiled out, present but idle, or tapped.
  const observed = connectionEventOf(client) !== undefined;
  const tapped = tapOf(client) !== undefined && tapOf(serverSide!) !== undefined;
  const expected = { without: [false, false], "no-sdk": [true, false], sdk: [true, true] };
  if (JSON.stringify([observed, tapped]) !== JSON.stringify(expected[variant as "sdk"])) {
    throw new Error(`variant ${variant}: observed ${observed}, tapped ${tapped}`);
  }
  const chunk = new Uint8Array(chunkBytes).fill(1);
  const streamId = streams.registerStream(serverSide!, {
    chunkCount: 1 << 30,
    getChunk: () => chunk,
  });
  let nextChunk = 0;

  const cpuMicros = () => {
    const { user, system } = process.cpuUsage();
    return user + system;
  };
  const rpcs = async (count: number) => {
    const started = cpuMicros();
    await keepInFlight(count, rpcInFlight, () => client.sendRpc(rpcBody), (reply) => {
      if (reply.byteLength !== rpcBytes) throw new Error(`echo of ${reply.byteLength} bytes`);
    });
    return (cpuMicros() - started) / count;
  };
  const chunks = async (count: number) => {
    const started = cpuMicros();
    await keepInFlight(count, chunksInFlight, () => client.fetchChunk(streamId, nextChunk++), (
      body,
    ) => {
      if (body.byteLength !== chunkBytes) throw new Error(`chunk of ${body.byteLength} bytes`);
    });
    return (cpuMicros() - started) / count;
  };

  await rpcs(rpcsPerBatch);
  await chunks(chunksPerBatch);
  const rpcFigures: number[] = [];
  const chunkFigures: number[] = [];
  for (let batch = 0; batch < batches; batch++) {
    rpcFigures.push(await rpcs(rpcsPerBatch));
    chunkFigures.push(await chunks(chunksPerBatch));
  }
  await client.close();
  await server.close();
  await tracerProvider.forceFlush();
  const metricsCollected = (await reader.collect()).resourceMetrics.scopeMetrics.length;
  await Promise.all([meterProvider.shutdown(), tracerProvider.shutdown()]);
  return {
    rpcCpuMicros: median(rpcFigures),
    chunkCpuMicros: median(chunkFigures),
    rpcs: rpcsPerBatch * batches,
    chunks: chunksPerBatch * batches,
    spansExported: exporter.spans,
    metricScopes: metricsCollected,
  };
}

main().then(
  (figures) => {
    process.stdout.write(`${JSON.stringify(figures)}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    process.stdout.write(
      `${JSON.stringify({ error: error instanceof Error ? error.message : String(error) })}\n`,
    );
    process.exit(1);
  },
);
