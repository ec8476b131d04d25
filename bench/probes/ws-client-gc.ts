/**
 * Where a Node WebSocket client's time goes: `node --import tsx bench/probes/ws-client-gc.ts KIND
 * [ROUNDS]`, KIND one of `lent` (`fetchChunkWith`), `owned` (`fetchChunk`) or `raw` (the raw `ws`
 * blast client). One client per process, so no other contestant's garbage is in its heap. Each
 * round moves 1 GiB as 1 MiB chunks (16 in flight) and prints its MiB/s, the client's CPU seconds
 * and the garbage collections it ran, major (mark-compact) and minor (scavenge).
 *
 * The bench (`ws-chunk-fetch-node`) gives the ratio; this shows why it moves: a body that V8
 * carries into its old generation is freed only by a mark-compact, and a client doing many of
 * them is a client short of CPU.
 *
 * @module
 */

import { constants, PerformanceObserver } from "node:perf_hooks";
import process from "node:process";
import WebSocket from "ws";
import { webSocketConnect, type WebSocketConstructor } from "../../adapters/websocket/connect.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { RawWebSocketBlastClient } from "../baselines/raw-ws-blast-client.ts";
import { chunkBytes, fetchChunks, fetchChunksLent, throughput } from "../cases/chunk-fetch-work.ts";
import { startServerProcess } from "../harness/server-process.ts";

type Transfer = (count: number) => Promise<{ mibPerSecond: number }>;

const kinds = ["lent", "owned", "raw"];
const [kind = "", roundsText = "4"] = process.argv.slice(2);
const rounds = Number(roundsText);
if (!kinds.includes(kind) || !Number.isInteger(rounds) || rounds < 1) {
  console.error(
    `usage: ws-client-gc.ts ${kinds.join("|")} [ROUNDS], received ${kind} ${roundsText}`,
  );
  process.exit(2);
}

const collections = { major: 0, minor: 0 };
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const gcKind = (entry as { detail?: { kind?: number } }).detail?.kind;
    if (gcKind === constants.NODE_PERFORMANCE_GC_MAJOR) collections.major++;
    else if (gcKind === constants.NODE_PERFORMANCE_GC_MINOR) collections.minor++;
  }
});
observer.observe({ entryTypes: ["gc"] });

const server = await startServerProcess({ kinds: ["ferry-ws", "raw-ws-blast"] });
let close: () => Promise<void>;
let transfer: Transfer;
if (kind === "raw") {
  const raw = await RawWebSocketBlastClient.connect(server.directory.get("raw-ws-blast"));
  close = () => raw.close();
  transfer = async (count) => {
    const startedAt = performance.now();
    return throughput(await raw.receive(count, chunkBytes), count * chunkBytes, startedAt);
  };
} else {
  const { host, port } = server.directory.get("ferry-ws");
  const client = await TransportClient.connect(
    webSocketConnect({
      url: `ws://${host}:${port}/`,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    }),
    { timeoutMs: 10_000 },
  );
  close = () => client.close();
  const fetch = kind === "lent" ? fetchChunksLent : fetchChunks;
  transfer = (count) => fetch(client, count);
}

try {
  await transfer(256); // warm-up, as the bench does
  for (let round = 1; round <= rounds; round++) {
    const before = { ...collections };
    const cpuBefore = process.cpuUsage();
    const { mibPerSecond } = await transfer(1024);
    await new Promise((resolve) => setTimeout(resolve, 0)); // let the gc entries arrive
    const cpu = process.cpuUsage(cpuBefore);
    console.log(
      `${kind} round ${round}: ${mibPerSecond.toFixed(0)} MiB/s, client CPU ` +
        `${((cpu.user + cpu.system) / 1e6).toFixed(2)} s, mark-compacts ` +
        `${collections.major - before.major}, scavenges ${collections.minor - before.minor}`,
    );
  }
} finally {
  observer.disconnect();
  await close();
  await server.stop();
}
