/**
 * One side of `rpc-cost-ab.ts`, in a Node process of its own, loading the bench code of another
 * checkout (ROOT) so the same probe measures the old and the new code:
 *
 * - `node --import ROOT/bench/harness/ts-loader.mjs rpc-cost-child.ts ROOT server KIND` starts the
 *   bench server of KIND (`bench/servers/server-kinds.ts` of ROOT) and prints `{"port":N}`;
 * - `... rpc-cost-child.ts ROOT client MODULE NAME PORTS_JSON` opens contestant NAME of MODULE of
 *   ROOT (as `bench/node/contestant-host.ts` does) and prints `{"ready":true}`.
 *
 * With `RPC_COST_TIMEOUT_MS=N` in the environment every `sendRpc` of the client passes
 * `{ timeoutMs: N }` (the same patch in every checkout).
 *
 * Both then answer stdin lines with one JSON line each: `begin` (start counting) → `{}`, `end` →
 * `{"cpuSeconds","userSeconds","allocatedBytes","gcs"}` since `begin`; the client also answers `warmup` →
 * `{}` and `measure` → the contestant's figures plus the same counters over the measured run.
 * Allocation is counted from V8's heap statistics around every collection (`v8.GCProfiler`):
 * bytes freed by each collection plus the growth of the used heap, so nothing is sampled.
 *
 * @module
 */

import { resolve } from "node:path";
import process from "node:process";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import v8 from "node:v8";

const [root = "", mode = "", ...rest] = process.argv.slice(2);
const reply = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
const load = (path: string) => import(pathToFileURL(resolve(root, path)).href);

interface GcStats {
  readonly beforeGC: { readonly heapStatistics: { readonly usedHeapSize: number } };
  readonly afterGC: { readonly heapStatistics: { readonly usedHeapSize: number } };
}

interface GcProfiler {
  start(): void;
  stop(): { statistics: GcStats[] };
}

/** CPU seconds and allocated bytes from `begin()` to `end()`. */
class Meter {
  #cpu = 0;
  #user = 0;
  #used = 0;
  #profiler: GcProfiler | undefined;

  begin(): void {
    const Profiler = (v8 as unknown as { GCProfiler: new () => GcProfiler }).GCProfiler;
    this.#profiler = new Profiler();
    this.#profiler.start();
    this.#used = v8.getHeapStatistics().used_heap_size;
    const usage = process.cpuUsage();
    this.#cpu = usage.user + usage.system;
    this.#user = usage.user;
  }

  end(): { cpuSeconds: number; userSeconds: number; allocatedBytes: number; gcs: number } {
    const usage = process.cpuUsage();
    const cpuSeconds = (usage.user + usage.system - this.#cpu) / 1e6;
    const userSeconds = (usage.user - this.#user) / 1e6;
    const used = v8.getHeapStatistics().used_heap_size;
    const { statistics } = this.#profiler!.stop();
    let freed = 0;
    for (const gc of statistics) {
      freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
    }
    return {
      cpuSeconds,
      userSeconds,
      allocatedBytes: used - this.#used + freed,
      gcs: statistics.length,
    };
  }
}

const meter = new Meter();

if (mode === "server") {
  const kind = rest[0] ?? "";
  const { serverKinds } = await load("bench/servers/server-kinds.ts");
  const start = serverKinds[kind];
  if (start === undefined) throw new Error(`rpc-cost-child: unknown server kind ${kind}`);
  const server = await (await start())();
  reply({ port: server.port });
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === "begin") {
      meter.begin();
      reply({});
    } else if (line === "end") reply(meter.end());
    else reply({ error: `bad line "${line}"` });
  }
  await server.close();
  process.exit(0);
} else if (mode === "client") {
  const [modulePath = "", name = "", portsJson = "{}"] = rest;
  const { contestants } = await load(modulePath);
  const { ServerDirectory } = await load("bench/harness/server-directory.ts");
  const ports = JSON.parse(portsJson) as Record<string, number>;
  const addresses = new Map(
    Object.entries(ports).map(([kind, port]) => [kind, { host: "127.0.0.1", port }]),
  );
  const timeoutMs = Number(process.env.RPC_COST_TIMEOUT_MS ?? 0);
  if (timeoutMs > 0) {
    // Every sendRpc of the checkout under test carries a deadline (as Spark's clients' do).
    const { TransportClient } = await load("src/client/transport-client.ts");
    const sendRpc = TransportClient.prototype.sendRpc;
    const options = { timeoutMs };
    TransportClient.prototype.sendRpc = function (this: unknown, body: Uint8Array) {
      return sendRpc.call(this, body, options);
    };
  }
  const contestant = contestants[name];
  if (contestant === undefined) throw new Error(`rpc-cost-child: no contestant ${name}`);
  const context = { quick: false, servers: new ServerDirectory(addresses), serverPid: -1 };
  const opened = await contestant.open(context);
  reply({ ready: true });
  for await (const line of createInterface({ input: process.stdin })) {
    try {
      if (line === "warmup") {
        await opened.run("warmup");
        reply({});
      } else if (line === "measure") {
        meter.begin();
        const figures = await opened.run("measure");
        reply({ ...figures, ...meter.end() });
      } else reply({ error: `bad line "${line}"` });
    } catch (error) {
      reply({ error: error instanceof Error ? error.message : String(error) });
    }
  }
  await opened.close();
  process.exit(0);
} else {
  console.error("usage: rpc-cost-child.ts ROOT server KIND | ROOT client MODULE NAME PORTS_JSON");
  process.exit(2);
}
