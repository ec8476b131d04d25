/**
 * One process of the `observability-cost` case (`cases/observability-cost.ts`):
 *
 *     node --expose-gc --import ./bench/harness/ts-loader-observability-variants.mjs \
 *       bench/node/observability-cost-worker.ts MODE SIZE [FIRST]
 *
 * It loads Ferry twice (`observability-cost-library.ts`): a copy with the instrumentation compiled
 * out (`?without`) and the copy as shipped, and gives each a server and a client over TCP on
 * 127.0.0.1 (both sides in this process, so both sides' instrumentation is in its CPU time). MODE
 * `no-sdk` leaves the shipped copy as applications that do not opt in run it (no OpenTelemetry
 * SDK, no channel subscriber); MODE `sdk` registers the OpenTelemetry SDK before the shipped copy
 * connects: a `MeterProvider` with a reader and a `BasicTracerProvider` whose `BatchSpanProcessor`
 * exports every span to an exporter that drops it (metrics and a span per request on each side,
 * before any network export; the flush is inside the timed batch). MODE `a-a` loads a second
 * unchanged copy in place of the compiled-out one: two identical copies, whose ratio shows how
 * far apart the method measures the same code (run by hand; see docs/observability.md). SIZE is
 * `quick` or `full`; FIRST (`without`, the default, or `shipped`) is the copy loaded and connected
 * first.
 *
 * After a warm-up of both, it alternates batches between the two copies (order swapped every
 * round, a full collection before each batch so a batch pays for its own garbage): RPC batches
 * (64-byte `sendRpc` echoes, 256 in flight) and chunk batches (1 MiB `fetchChunk`s, 16 in
 * flight), each rated in CPU microseconds per operation (`process.cpuUsage()`, user + system).
 * Batches next to each other in time see the same machine, so their ratio is far steadier than
 * that of separate processes minutes apart on a loaded machine. Prints one JSON line (the means of
 * each copy's batches) and exits.
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
import { keepInFlight } from "../harness/keep-in-flight.ts";

type Library = typeof import("./observability-cost-library.ts");

const [mode = "", size = "full", first = "without"] = process.argv.slice(2);
const quick = size === "quick";
const rpcBytes = 64;
const rpcInFlight = 256;
const chunkBytes = 1024 * 1024;
const chunksInFlight = 16;
/** Operations per batch, and rounds (one batch of each work on each copy per round). */
const rpcsPerBatch = quick ? 1_000 : 10_000;
const chunksPerBatch = quick ? 8 : 32;
const rounds = quick ? 2 : 12;

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

/** A server and a client of one copy of the library, and its two kinds of batch. */
async function rig(lib: Library, flush: () => Promise<void>) {
  const streams = new lib.OneForOneStreamManager();
  const server = new lib.TransportServer({
    rpcHandler: { receive: (_client, body) => body },
    streamManager: streams,
  });
  const listener = await server.listen(lib.tcpListen({ host: "127.0.0.1", port: 0 }));
  const client = await lib.TransportClient.connect(
    lib.tcpConnect({ host: "127.0.0.1", port: listener.address.port }),
  );
  const rpcBody = new Uint8Array(rpcBytes);
  await client.sendRpc(rpcBody);
  const [serverSide] = [...server.connections];
  const chunk = new Uint8Array(chunkBytes).fill(1);
  const streamId = streams.registerStream(serverSide!, {
    chunkCount: 1 << 30,
    getChunk: () => chunk,
  });
  let nextChunk = 0;
  const timed = async (count: number, work: () => Promise<void>) => {
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.cpuUsage();
    await work();
    await flush();
    const used = process.cpuUsage(before);
    return (used.user + used.system) / count;
  };
  return {
    observed: lib.connectionEventOf(client) !== undefined,
    tapped: lib.tapOf(client) !== undefined && lib.tapOf(serverSide!) !== undefined,
    rpcs: (count: number) =>
      timed(
        count,
        () =>
          keepInFlight(count, rpcInFlight, () => client.sendRpc(rpcBody), (reply) => {
            if (reply.byteLength !== rpcBytes) throw new Error(`echo of ${reply.byteLength} bytes`);
          }),
      ),
    chunks: (count: number) =>
      timed(
        count,
        () =>
          keepInFlight(count, chunksInFlight, () => client.fetchChunk(streamId, nextChunk++), (
            body,
          ) => {
            if (body.byteLength !== chunkBytes) throw new Error(`chunk of ${body.byteLength} B`);
          }),
      ),
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

async function main(): Promise<Record<string, number>> {
  if (mode !== "no-sdk" && mode !== "sdk" && mode !== "a-a") {
    throw new Error(`observability-cost worker: unknown mode "${mode}"`);
  }
  const libraryUrl = new URL("./observability-cost-library.ts", import.meta.url).href;
  // `a-a`: the "without" copy is a second copy as shipped (both sides of every ratio identical).
  const query = mode === "a-a" ? "?again" : "?without";
  // Which copy is loaded and connected first alternates between processes (FIRST): in A/A runs
  // the copy set up second measured 5-10 % apart from the first, the same in every process.
  const order = first === "shipped"
    ? (["shipped", "without"] as const)
    : (["without", "shipped"] as const);
  const libraries: Partial<Record<(typeof order)[number], Library>> = {};
  for (const copy of order) {
    // Both copies are query copies: in A/A runs a copy under the plain URL measured 6 % apart.
    libraries[copy] = await import(`${libraryUrl}${copy === "without" ? query : "?shipped"}`);
  }
  const withoutLibrary = libraries.without!;
  const shippedLibrary = libraries.shipped!;
  if (withoutLibrary.TransportClient === shippedLibrary.TransportClient) {
    throw new Error("observability-cost worker: the two copies are one (is the loader in use?)");
  }

  const exporter = new DroppingExporter();
  const reader = new CollectOnDemand();
  const meterProvider = new MeterProvider({ readers: [reader] });
  // A queue large enough that no span is dropped between flushes (dropping would be cheaper).
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [
      new BatchSpanProcessor(exporter, { maxQueueSize: 1 << 17, maxExportBatchSize: 4096 }),
    ],
  });
  // Registered before either copy connects: the compiled-out copy has no hook that could see it.
  if (mode === "sdk") {
    metrics.setGlobalMeterProvider(meterProvider);
    trace.setGlobalTracerProvider(tracerProvider);
  }
  const flush = mode === "sdk" ? () => tracerProvider.forceFlush() : () => Promise.resolve();
  const rigs: Partial<Record<(typeof order)[number], Awaited<ReturnType<typeof rig>>>> = {};
  for (const copy of order) {
    rigs[copy] = await rig(libraries[copy]!, copy === "shipped" ? flush : () => Promise.resolve());
  }
  const without = rigs.without!;
  const shipped = rigs.shipped!;
  // Each copy is what it claims: compiled out; present but idle; or tapped by the SDK.
  const claims = [without.observed, shipped.observed, shipped.tapped];
  const expected = [mode === "a-a", true, mode === "sdk"];
  if (JSON.stringify(claims) !== JSON.stringify(expected)) {
    throw new Error(`mode ${mode}: observed/observed/tapped ${claims}, expected ${expected}`);
  }

  const figures = {
    withoutRpc: [] as number[],
    shippedRpc: [] as number[],
    withoutChunk: [] as number[],
    shippedChunk: [] as number[],
  };
  for (const copy of order.map((name) => rigs[name]!)) {
    await copy.rpcs(rpcsPerBatch * 4);
    await copy.chunks(chunksPerBatch * 2);
  }
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [without, shipped] : [shipped, without];
    for (const copy of order) {
      (copy === without ? figures.withoutRpc : figures.shippedRpc).push(
        await copy.rpcs(rpcsPerBatch),
      );
    }
    for (const copy of order.reverse()) {
      (copy === without ? figures.withoutChunk : figures.shippedChunk).push(
        await copy.chunks(chunksPerBatch),
      );
    }
  }
  await without.close();
  await shipped.close();
  await reader.collect();
  await Promise.all([meterProvider.shutdown(), tracerProvider.shutdown()]);
  return {
    withoutRpcCpuMicros: mean(figures.withoutRpc),
    shippedRpcCpuMicros: mean(figures.shippedRpc),
    withoutChunkCpuMicros: mean(figures.withoutChunk),
    shippedChunkCpuMicros: mean(figures.shippedChunk),
    batches: rounds,
    spansExported: exporter.spans,
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
