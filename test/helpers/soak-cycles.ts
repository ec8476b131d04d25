/**
 * Soak program: `cycles` times connect → RPC → close against a server in the same process, then
 * prints one JSON line with heap, file descriptors and active handles before and after (measured
 * after garbage collection). Run with `--expose-gc`:
 * `node --expose-gc --import tsx test/helpers/soak-cycles.ts <cycles> [parallel]`.
 *
 * @module
 */

import { readdirSync } from "node:fs";
import process from "node:process";
import { tcpConnect, tcpListen } from "../../adapters/node/tcp.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { TransportServer } from "../../src/server/transport-server.ts";

const cycles = Number(process.argv[2] ?? 5000);
const parallel = Number(process.argv[3] ?? 8);
const WARMUP = 500;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc");

const server = new TransportServer({ rpcHandler: { receive: (_c, m) => m } });
const listener = await server.listen(tcpListen({ host: "127.0.0.1", port: 0 }));
const connect = tcpConnect({ host: "127.0.0.1", port: listener.address.port });
const body = new TextEncoder().encode("soak");

async function run(count: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next++ < count) {
      const client = await TransportClient.connect(connect);
      const reply = await client.sendRpc(body, { timeoutMs: 10_000 });
      if (reply.byteLength !== body.byteLength) throw new Error("wrong reply");
      await client.close();
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

async function settled() {
  // Let the server side of the last connections finish closing, then collect.
  for (let i = 0; i < 200 && server.connections.size > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  for (let i = 0; i < 4; i++) {
    gc!();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return {
    heapUsed: process.memoryUsage().heapUsed,
    fds: readdirSync("/proc/self/fd").length,
    handles: process.getActiveResourcesInfo().length,
    resources: process.getActiveResourcesInfo().join(","),
    serverConnections: server.connections.size,
  };
}

await run(WARMUP);
const before = await settled();
const started = performance.now();
await run(cycles);
const seconds = (performance.now() - started) / 1000;
const after = await settled();
await server.close();
process.stdout.write(JSON.stringify({ cycles, parallel, seconds, before, after }) + "\n");
