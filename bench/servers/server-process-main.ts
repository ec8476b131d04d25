/**
 * Entry point of the bench server process: `node --import tsx bench/servers/server-process-main.ts
 * KIND...`. Starts one server of each kind on 127.0.0.1 (ephemeral ports), prints one ready line
 * `FERRY_BENCH_READY {"kind":port,...}` on stdout, and runs until its stdin closes (the runner
 * closes it to stop the servers; if the runner dies, stdin closes too, so no server outlives it).
 *
 * It answers two request lines on stdin, each with one JSON line on stdout: `cpu` →
 * `{"cpuSeconds":N}` (`process.cpuUsage()`, user + system, so far) and `memory` →
 * `{"rssBytes":N,"heapUsedBytes":N,"externalBytes":N,"arrayBuffersBytes":N,"gc":0|1}` (after a
 * full collection when started with `--expose-gc`, which `gc` says). `snapshot FILE` writes a V8
 * heap snapshot to FILE (`bench/probes/connection-heap.ts` reads it) → `{"written":1}`.
 *
 * @module
 */

import process from "node:process";
import { writeHeapSnapshot } from "node:v8";
import { createInterface } from "node:readline";
import { readyLinePrefix, type RunningServer } from "./running-server.ts";
import { serverKinds } from "./server-kinds.ts";

async function main(kinds: readonly string[]): Promise<void> {
  if (kinds.length === 0) throw new Error("bench server process: no server kind given");
  const running: RunningServer[] = [];
  const ports: Record<string, number> = {};
  for (const kind of kinds) {
    const load = serverKinds[kind];
    if (load === undefined) {
      const known = Object.keys(serverKinds).join(", ");
      throw new Error(`bench server process: unknown server kind "${kind}" (known: ${known})`);
    }
    const server = await (await load())();
    running.push(server);
    ports[kind] = server.port;
  }

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await Promise.allSettled(running.map((server) => server.close()));
    // Open keep-alive connections or grpc internals must not keep the process around.
    process.exit(0);
  };
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => process.stdout.write(`${JSON.stringify(answer(line.trim()))}\n`));
  lines.on("close", stop);
  process.on("SIGTERM", stop);
  process.stdout.write(`${readyLinePrefix}${JSON.stringify(ports)}\n`);
}

/** The reply to one request line (see the module comment). */
function answer(request: string): Record<string, number | string> {
  if (request === "cpu") {
    const usage = process.cpuUsage();
    return { cpuSeconds: (usage.user + usage.system) / 1e6 };
  }
  if (request === "memory") {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const usage = process.memoryUsage();
    return {
      rssBytes: usage.rss,
      heapUsedBytes: usage.heapUsed,
      externalBytes: usage.external,
      arrayBuffersBytes: usage.arrayBuffers,
      gc: gc === undefined ? 0 : 1,
    };
  }
  if (request.startsWith("snapshot ")) {
    writeHeapSnapshot(request.slice("snapshot ".length));
    return { written: 1 };
  }
  return { error: `unknown request "${request.slice(0, 40)}" (known: cpu, memory, snapshot)` };
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(
    `bench server process failed: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
