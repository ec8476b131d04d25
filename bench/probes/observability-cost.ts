/**
 * What Ferry's observability costs on the RPC and chunk-fetch paths: the library before
 * instrumentation (`base`, a copy of `src/` and `adapters/` from an older commit, given with
 * `--base`) against this tree, either with no OpenTelemetry SDK and no channel subscriber
 * (`no-sdk`, the default), with an SDK MeterProvider registered (`--sdk`: connections get a tap
 * and every request is timed into a histogram), or with an SDK TracerProvider (`--tracing`: every
 * request gets a span on each side).
 *
 *     git archive <base-commit> src adapters | tar -x -C /tmp/ferry-base
 *     cp tsconfig.json package.json /tmp/ferry-base/   # same transpilation as here
 *     ln -s "$PWD/node_modules" /tmp/ferry-base/node_modules
 *     node --import tsx bench/probes/observability-cost.ts --base /tmp/ferry-base [--pairs 8]
 *     node --import tsx bench/probes/observability-cost.ts --base /tmp/ferry-base --sdk
 *
 * Each variant runs in a child process of its own (one copy of the code per process, so neither
 * variant's JIT state affects the other), the two alternating in pairs, the first of a pair
 * alternating too. In each process, after a warm-up, `--rounds` rounds of 20 000 RPCs of 64 bytes
 * (32 in flight) and 4 000 chunk fetches of 16 KiB (16 in flight) over TCP on 127.0.0.1, rated in
 * operations per second of the process's CPU time (user + system; client and server both run in
 * it), because wall time on a shared machine mostly measures the neighbours. Prints every pair
 * and the median of the pairs' ratios. A probe, not a test: run it with `--base` pointing at a
 * copy of this very tree first (an A/A run) to see the noise floor of the machine. Where the code
 * lives matters too (a tree under /tmp ran ~5–10 % slower than the worktree here): to compare like
 * with like, copy this tree next to the base the same way and pass it as `--candidate <dir>`.
 *
 * @module
 */

import process from "node:process";
import { execFileSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { metrics, trace } from "@opentelemetry/api";
import { BasicTracerProvider, NoopSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";

interface Library {
  TransportServer: typeof import("../../src/server/transport-server.ts").TransportServer;
  TransportClient: typeof import("../../src/client/transport-client.ts").TransportClient;
  OneForOneStreamManager:
    typeof import("../../src/responder/one-for-one-stream-manager.ts").OneForOneStreamManager;
  tcpListen: typeof import("../../adapters/node/tcp.ts").tcpListen;
  tcpConnect: typeof import("../../adapters/node/tcp.ts").tcpConnect;
}

async function load(root: string): Promise<Library> {
  const src = await import(pathToFileURL(`${root}/src/mod.ts`).href);
  const tcp = await import(pathToFileURL(`${root}/adapters/node/tcp.ts`).href);
  return { ...src, tcpListen: tcp.tcpListen, tcpConnect: tcp.tcpConnect };
}

interface Rig {
  readonly name: string;
  rpc(): Promise<number>;
  chunks(): Promise<number>;
  close(): Promise<void>;
}

const RPCS = 20_000;
const CHUNKS = 4_000;
const CHUNK_BYTES = 16 * 1024;

async function rig(name: string, lib: Library): Promise<Rig> {
  const streams = new lib.OneForOneStreamManager();
  const server = new lib.TransportServer({
    rpcHandler: { receive: (_client: unknown, body: Uint8Array) => body },
    streamManager: streams,
  });
  const listener = await server.listen(lib.tcpListen({ host: "127.0.0.1", port: 0 }));
  const client = await lib.TransportClient.connect(
    lib.tcpConnect({ host: "127.0.0.1", port: listener.address.port }),
  );
  const [serverSide] = [...server.connections];
  const chunk = new Uint8Array(CHUNK_BYTES).fill(1);
  const streamId = streams.registerStream(serverSide!, {
    chunkCount: 1 << 20,
    getChunk: () => chunk,
  });
  const body = new Uint8Array(64);
  const run = async (total: number, inFlight: number, one: (i: number) => Promise<unknown>) => {
    let next = 0;
    // CPU time, not wall time: on a loaded machine the wall clock mostly measures the neighbours.
    const started = process.cpuUsage();
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next < total) await one(next++);
    }));
    const used = process.cpuUsage(started);
    return total / ((used.user + used.system) / 1e6);
  };
  return {
    name,
    rpc: () => run(RPCS, 32, () => client.sendRpc(body)),
    chunks: () => run(CHUNKS, 16, (i) => client.fetchChunk(streamId, i)),
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

class ManualReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** One variant in this process: warm up, then `rounds` rounds; prints medians as JSON. */
async function measure(variant: string, root: string, rounds: number): Promise<void> {
  const reader = new ManualReader();
  const provider = new MeterProvider({ readers: [reader] });
  if (variant === "sdk") metrics.setGlobalMeterProvider(provider);
  // Spans are made and ended (sampled, with a processor that keeps nothing): what tracing costs
  // before any exporter's own work.
  const tracer = new BasicTracerProvider({ spanProcessors: [new NoopSpanProcessor()] });
  if (variant === "tracing") trace.setGlobalTracerProvider(tracer);
  const r = await rig(variant, await load(root));
  await r.rpc();
  await r.chunks();
  const rpc: number[] = [];
  const chunks: number[] = [];
  for (let round = 0; round < rounds; round++) {
    rpc.push(await r.rpc());
    chunks.push(await r.chunks());
  }
  await reader.collect();
  await r.close();
  metrics.disable();
  trace.disable();
  await provider.shutdown();
  await tracer.shutdown();
  console.log(JSON.stringify({ rpc: median(rpc), chunks: median(chunks) }));
}

function child(variant: string, root: string, rounds: number): { rpc: number; chunks: number } {
  const out = execFileSync(process.execPath, [
    "--import",
    "tsx",
    fileURLToPath(import.meta.url),
    "--variant",
    variant,
    "--root",
    root,
    "--rounds",
    String(rounds),
  ], { encoding: "utf8" });
  return JSON.parse(out.trim().split("\n").at(-1)!);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = (flag: string) => {
    const index = args.indexOf(flag);
    return index < 0 ? undefined : args[index + 1];
  };
  const variant = at("--variant");
  const here = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");
  if (variant !== undefined) {
    return await measure(variant, at("--root") ?? here, Number(at("--rounds")));
  }
  const pairs = Number(at("--pairs") ?? 8);
  const rounds = Number(at("--rounds") ?? 5);
  const base = at("--base");
  if (base === undefined) throw new Error("observability-cost: --base <dir> is required");
  const candidate = args.includes("--sdk")
    ? "sdk"
    : args.includes("--tracing")
    ? "tracing"
    : "no-sdk";
  const ratios = { rpc: [] as number[], chunks: [] as number[] };
  const seen = { base: [] as number[], [candidate]: [] as number[] };
  for (let pair = 0; pair < pairs; pair++) {
    // Alternate which variant runs first in each pair.
    const runBase = () => child("base", base, rounds);
    const runCandidate = () => child(candidate, at("--candidate") ?? here, rounds);
    const [a, b] = pair % 2 === 0
      ? [runBase(), runCandidate()]
      : ((c, d) => [d, c])(runCandidate(), runBase());
    ratios.rpc.push(b.rpc / a.rpc);
    ratios.chunks.push(b.chunks / a.chunks);
    seen.base!.push(a.rpc);
    seen[candidate]!.push(b.rpc);
    console.log(
      `pair ${pair}: base rpc ${a.rpc.toFixed(0)}/s chunk ${a.chunks.toFixed(0)}/s; ` +
        `${candidate} rpc ${b.rpc.toFixed(0)}/s chunk ${b.chunks.toFixed(0)}/s`,
    );
  }
  const pct = (values: number[]) => {
    const m = (median(values) - 1) * 100;
    return `${m >= 0 ? "+" : ""}${m.toFixed(1)}% (pairs from ${
      ((Math.min(...values) - 1) * 100).toFixed(1)
    }% to ${((Math.max(...values) - 1) * 100).toFixed(1)}%)`;
  };
  console.log(`${candidate} vs base, median of ${pairs} paired ratios:`);
  console.log(`  rpc   ${pct(ratios.rpc)}`);
  console.log(`  chunk ${pct(ratios.chunks)}`);
}

await main();
