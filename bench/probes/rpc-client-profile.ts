/**
 * A CPU profile of the RPC echo client alone, over its measured part only (no start-up in it):
 * `node --import ./bench/harness/ts-loader.mjs bench/probes/rpc-client-profile.ts [REQUESTS]`
 * starts a Ferry bench server in a child process (`rpc-cost-child.ts`), runs `REQUESTS` (default
 * 2 000 000) 64-byte echoes with 256 in flight after a warm-up, and prints the functions with the
 * most self time (and writes the `.cpuprofile` to the temporary directory).
 *
 * @module
 */

import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { tcpConnect } from "../../adapters/node/tcp.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { keepInFlight } from "../harness/keep-in-flight.ts";
import { echoPayload } from "../servers/ferry-bench-protocol.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const requests = Number(process.argv[2] ?? 2_000_000);
const server = spawn(process.execPath, [
  // e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the server too (start-up included).
  ...(process.env.RPC_PROFILE_SERVER_FLAGS ?? "").split(/\s+/).filter((flag) => flag !== ""),
  "--import",
  new URL("../harness/ts-loader.mjs", import.meta.url).href,
  fileURLToPath(new URL("./rpc-cost-child.ts", import.meta.url)),
  root,
  "server",
  "ferry",
], { stdio: ["pipe", "pipe", "inherit"] });
const lines = createInterface({ input: server.stdout! })[Symbol.asyncIterator]();
const { port } = JSON.parse((await lines.next()).value as string) as { port: number };

const client = await TransportClient.connect(tcpConnect({ host: "127.0.0.1", port }));
const payload = echoPayload(64);
const run = (total: number) => keepInFlight(total, 256, () => client.sendRpc(payload), () => {});
await run(200_000);
const session = new Session();
session.connect();
await session.post("Profiler.enable");
await session.post("Profiler.setSamplingInterval", { interval: 50 });
await session.post("Profiler.start");
const writesBefore = client.stats().socketWrites;
const cpuBefore = process.cpuUsage();
const startedAt = performance.now();
await run(requests);
const seconds = (performance.now() - startedAt) / 1000;
const cpu = process.cpuUsage(cpuBefore);
const { profile } = await session.post("Profiler.stop");
const writes = client.stats().socketWrites - writesBefore;
await client.close();
server.stdin!.end();

const file = join(tmpdir(), `rpc-client-${process.pid}.cpuprofile`);
writeFileSync(file, JSON.stringify(profile));
console.log(
  `${requests} requests, ${(requests / seconds).toFixed(0)} req/s, client ` +
    `${((cpu.user + cpu.system) / requests).toFixed(3)} µs/req (profiled), ` +
    `${(requests / writes).toFixed(1)} requests per socket write; profile: ${file}`,
);
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map<string, number>();
let total = 0;
profile.samples!.forEach((id, index) => {
  const frame = byId.get(id)!.callFrame;
  const key = `${frame.functionName || "(anonymous)"} ${frame.url.split("/").pop()}:${
    frame.lineNumber + 1
  }`;
  const delta = profile.timeDeltas![index]!;
  self.set(key, (self.get(key) ?? 0) + delta);
  total += delta;
});
for (const [key, time] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
  console.log(`${(time / total * 100).toFixed(1).padStart(5)}%  ${key}`);
}
