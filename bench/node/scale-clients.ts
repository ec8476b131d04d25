/**
 * Many Ferry clients in one Node process, for the `scale` case:
 * `node bench/node/scale-clients.ts HOST PORT HEARTBEAT_MS [raw]`. Prints `{"ready":true}`, then
 * answers one JSON line per stdin line:
 *
 * - `open N`: opens N more connections (256 connecting at once), each a `TransportClient` over
 *   `tcpConnect` that sends one Ferry ping (its first frame, well within the server's first-frame
 *   deadline) and then runs the Ferry heartbeat every HEARTBEAT_MS → `{"connections":total,
 *   "seconds":N}`.
 * - `rpc K`: every connection sends K 64-byte echo RPCs one after another, all connections at
 *   once (as many in flight as connections), each round trip timed → `{"p50Micros", "p99Micros",
 *   "requests", "seconds"}`.
 * - `active`: `{"active":N}`, the connections still open.
 *
 * With `raw`, `open N` opens plain `node:net` connections that send nothing (the floor: what an
 * idle socket costs a `node:net` server), and `rpc` is refused.
 *
 * Exits when stdin ends, without closing the connections one by one (the server process goes
 * too).
 *
 * @module
 */

import net from "node:net";
import process from "node:process";
import { createInterface } from "node:readline";
import { tcpConnect } from "../../adapters/node/tcp.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { ferryPing } from "../../src/extensions/ferry-ping.ts";
import { startFerryHeartbeat } from "../../src/extensions/ferry-heartbeat.ts";
import { keepInFlight } from "../harness/keep-in-flight.ts";
import { payloadBytes, summarizeLatencies } from "../cases/rpc-work.ts";
import { echoPayload } from "../servers/ferry-bench-protocol.ts";

const [host = "", portText = "", heartbeatText = "", mode = "ferry"] = process.argv.slice(2);
const port = Number(portText);
const heartbeatMs = Number(heartbeatText);
if (host === "" || !Number.isInteger(port) || !Number.isInteger(heartbeatMs)) {
  console.error(`scale clients: usage HOST PORT HEARTBEAT_MS, received ${process.argv.slice(2)}`);
  process.exit(2);
}

const connectingAtOnce = 256;
const clients: TransportClient[] = [];
const rawSockets: net.Socket[] = [];
const connect = tcpConnect({ host, port });
const payload = echoPayload(payloadBytes);

function connectRaw(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, noDelay: true });
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      socket.on("error", () => {});
      resolve(socket);
    });
  });
}

async function openRaw(count: number) {
  const startedAt = performance.now();
  await keepInFlight(count, connectingAtOnce, connectRaw, (socket) => void rawSockets.push(socket));
  return { connections: rawSockets.length, seconds: (performance.now() - startedAt) / 1000 };
}

async function open(count: number) {
  if (mode === "raw") return await openRaw(count);
  const startedAt = performance.now();
  await keepInFlight(count, connectingAtOnce, async () => {
    const client = await TransportClient.connect(connect, { timeoutMs: 60_000 });
    await ferryPing(client, { timeoutMs: 60_000 });
    startFerryHeartbeat(client, { intervalMs: heartbeatMs });
    return client;
  }, (client) => void clients.push(client));
  return { connections: clients.length, seconds: (performance.now() - startedAt) / 1000 };
}

async function rpc(perClient: number) {
  if (mode === "raw") throw new Error("scale clients: raw connections send no RPCs");
  const latencies = new Float64Array(clients.length * perClient);
  let next = 0;
  const startedAt = performance.now();
  await Promise.all(clients.map(async (client) => {
    for (let i = 0; i < perClient; i++) {
      const sentAt = performance.now();
      const reply = await client.sendRpc(payload);
      latencies[next++] = (performance.now() - sentAt) * 1000;
      if (reply.byteLength !== payloadBytes) {
        throw new Error(`scale: reply of ${reply.byteLength} bytes`);
      }
    }
  }));
  const seconds = (performance.now() - startedAt) / 1000;
  return { ...summarizeLatencies(latencies), seconds };
}

const reply = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
reply({ ready: true });
for await (const line of createInterface({ input: process.stdin })) {
  const [command = "", argument = ""] = line.trim().split(/\s+/);
  const count = Number(argument);
  try {
    if (command === "active") {
      const active = mode === "raw"
        ? rawSockets.filter((socket) => !socket.destroyed).length
        : clients.filter((client) => client.isActive).length;
      reply({ active });
      continue;
    }
    if (!Number.isInteger(count) || count < 1) throw new Error(`bad count in "${line}"`);
    if (command === "open") reply(await open(count));
    else if (command === "rpc") reply(await rpc(count));
    else throw new Error(`unknown command "${command}" (known: open, rpc, active)`);
  } catch (error) {
    reply({ error: error instanceof Error ? error.message : String(error) });
  }
}
process.exit(0);
