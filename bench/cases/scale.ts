/**
 * Many connections on one server: a Ferry server (a fresh Node process with `--expose-gc`, its
 * descriptor limit raised to the hard limit as a server's start script would) holds 10 000 idle
 * connections running the Ferry heartbeat while 100 other connections send 64-byte echo RPCs, one
 * in flight each. Every round:
 *
 * 1. start the server; measure its heap (after a full collection) and RSS;
 * 2. a client process opens the 100 active connections; they warm up, then run their RPCs alone:
 *    `aloneP50Micros`, `aloneP99Micros`; the server's heap and RSS again;
 * 3. two more client processes open 5 000 idle connections each (two, so each stays far below
 *    its descriptor limit); each connection pings once (its first frame) and runs the heartbeat
 *    every 5 s, so pings land inside the measured window (~2 000 a second); the server's heap and
 *    RSS again: `heapBytesPerIdleConnection` and `rssGrowthMiB` are the growth over step 2;
 * 4. the 100 run their RPCs again, next to the 10 000: `loadedP50Micros`, `loadedP99Micros`;
 *    the idle connections must all still be open (`idleConnectionsLost` otherwise fails the run).
 *
 * `--quick` holds 1 000 idle connections and 20 active ones.
 *
 * `raw-net-idle` is the floor of the memory rows: a `node:net` server process (the raw echo
 * server) holding the same number of idle plain sockets, measured the same way. Node's own socket
 * objects are in both figures; the difference is what Ferry adds per connection.
 *
 * @module
 */

import type { BenchCase, CaseContext, Contestant, RunPhase } from "../harness/bench-case.ts";
import { FreshServer } from "../harness/fresh-server.ts";
import { ScriptProcess } from "../harness/script-process.ts";
import { benchHost } from "../servers/running-server.ts";

const clientScript = "bench/node/scale-clients.ts";
const heartbeatMs = 5_000;
const idleProcesses = 2;
const MiB = 1024 * 1024;

interface ScaleWork {
  readonly idle: number;
  readonly active: number;
  /** Sequential RPCs per active connection per measurement. */
  readonly rpcsPerClient: number;
}

function work(context: CaseContext, phase: RunPhase): ScaleWork {
  if (context.quick || phase === "warmup") return { idle: 1_000, active: 20, rpcsPerClient: 50 };
  return { idle: 10_000, active: 100, rpcsPerClient: 300 };
}

function startClients(port: number, mode: "ferry" | "raw" = "ferry"): ScriptProcess {
  return ScriptProcess.node(clientScript, [benchHost, String(port), String(heartbeatMs), mode], {
    raiseDescriptorLimit: true,
  });
}

/** Opens `idle` connections from {@linkcode idleProcesses} client processes; their replies. */
function openIdle(clients: readonly ScriptProcess[], idle: number) {
  return Promise.all(
    clients.map((c, i) =>
      c.request(`open ${Math.floor(idle / idleProcesses) + (i < idle % idleProcesses ? 1 : 0)}`)
    ),
  );
}

/** Fails unless all `idle` connections of `clients` are still open. */
async function checkStillOpen(clients: readonly ScriptProcess[], idle: number): Promise<void> {
  const stillOpen = (await Promise.all(clients.map((c) => c.request("active"))))
    .reduce((sum, reply) => sum + reply.active!, 0);
  if (stillOpen !== idle) {
    throw new Error(`scale: ${idle - stillOpen} of ${idle} idle connections closed meanwhile`);
  }
}

const serverOptions = { flags: ["--expose-gc"], raiseDescriptorLimit: true };

/** The raw floor: a `node:net` server's memory for `idle` idle plain sockets. */
async function runRawIdle(context: CaseContext, phase: RunPhase): Promise<Record<string, number>> {
  const { idle } = work(context, phase);
  const server = await FreshServer.start(["raw-echo"], serverOptions);
  const clients: ScriptProcess[] = [];
  try {
    const port = server.ports["raw-echo"]!;
    const empty = await server.memory();
    if (!empty.collected) throw new Error("scale: the server process did not expose gc()");
    clients.push(...Array.from({ length: idleProcesses }, () => startClients(port, "raw")));
    await Promise.all(clients.map((c) => c.ready()));
    await openIdle(clients, idle);
    const withIdle = await server.memory();
    await checkStillOpen(clients, idle);
    return {
      idleConnections: idle,
      heapBytesPerIdleConnection: (withIdle.heapUsedBytes - empty.heapUsedBytes) / idle,
      rssGrowthMiB: (withIdle.rssBytes - empty.rssBytes) / MiB,
      arrayBufferBytesPerIdleConnection: (withIdle.arrayBuffersBytes - empty.arrayBuffersBytes) /
        idle,
    };
  } finally {
    await Promise.all([...clients.map((c) => c.stop()), server.stop()]);
  }
}

async function runScale(context: CaseContext, phase: RunPhase): Promise<Record<string, number>> {
  const { idle, active, rpcsPerClient } = work(context, phase);
  const server = await FreshServer.start(["ferry-heartbeat"], serverOptions);
  const clients: ScriptProcess[] = [];
  try {
    const port = server.ports["ferry-heartbeat"]!;
    const empty = await server.memory();
    if (!empty.collected) throw new Error("scale: the server process did not expose gc()");
    const activeClients = startClients(port);
    clients.push(activeClients);
    await activeClients.ready();
    await activeClients.request(`open ${active}`);
    await activeClients.request(`rpc ${Math.max(10, rpcsPerClient >> 2)}`); // warm-up, untimed
    const alone = await activeClients.request(`rpc ${rpcsPerClient}`);
    const withActive = await server.memory();

    const idleClients = Array.from({ length: idleProcesses }, () => startClients(port));
    clients.push(...idleClients);
    await Promise.all(idleClients.map((c) => c.ready()));
    const opened = await openIdle(idleClients, idle);
    const withIdle = await server.memory();
    const loaded = await activeClients.request(`rpc ${rpcsPerClient}`);
    await checkStillOpen(idleClients, idle);
    return {
      idleConnections: idle,
      activeConnections: active,
      aloneP50Micros: alone.p50Micros!,
      aloneP99Micros: alone.p99Micros!,
      loadedP50Micros: loaded.p50Micros!,
      loadedP99Micros: loaded.p99Micros!,
      heapBytesPerIdleConnection: (withIdle.heapUsedBytes - withActive.heapUsedBytes) / idle,
      rssGrowthMiB: (withIdle.rssBytes - withActive.rssBytes) / MiB,
      arrayBufferBytesPerIdleConnection:
        (withIdle.arrayBuffersBytes - withActive.arrayBuffersBytes) /
        idle,
      serverRssMiB: withIdle.rssBytes / MiB,
      emptyServerHeapMiB: empty.heapUsedBytes / MiB,
      openIdleSeconds: Math.max(...opened.map((reply) => reply.seconds!)),
    };
  } finally {
    await Promise.all([...clients.map((c) => c.stop()), server.stop()]);
  }
}

const ferryScale: Contestant = {
  name: "ferry-scale",
  description: `one Ferry server (own process), 10 000 idle connections with the Ferry heartbeat ` +
    `every ${heartbeatMs / 1000} s (two client processes) and 100 running 64-byte RPCs`,
  open(context) {
    return Promise.resolve({
      run: (phase) => runScale(context, phase),
      close: () => Promise.resolve(),
      warmsUpEachRun: true,
    });
  },
};

const rawIdle: Contestant = {
  name: "raw-net-idle",
  description:
    "a node:net server process (raw echo) holding as many idle plain sockets, from two " +
    "client processes: what an idle socket costs Node itself",
  open(context) {
    return Promise.resolve({
      run: (phase) => runRawIdle(context, phase),
      close: () => Promise.resolve(),
      warmsUpEachRun: true,
    });
  },
};

const row = { subject: "ferry-scale", baseline: "ferry-scale", higherIsBetter: false };

export const scaleCase: BenchCase = {
  name: "scale",
  description: "one server holding 10 000 idle heartbeat connections while 100 run RPCs: server " +
    "heap and RSS per connection, RPC latency next to them against alone",
  servers: [],
  contestants: [ferryScale, rawIdle],
  rows: [
    {
      ...row,
      name: "scale-10k-rpc-p99",
      unit: "µs",
      metric: "loadedP99Micros",
      baselineMetric: "aloneP99Micros",
      baselineLabel: "alone",
      target: { op: "<=", ratio: 2 },
    },
    {
      ...row,
      name: "scale-10k-rpc-p50",
      unit: "µs",
      metric: "loadedP50Micros",
      baselineMetric: "aloneP50Micros",
      baselineLabel: "alone",
    },
    {
      ...row,
      name: "scale-10k-heap-per-idle-connection",
      unit: "B",
      metric: "heapBytesPerIdleConnection",
      budget: 2048,
      target: { op: "<=", ratio: 1 },
    },
    {
      ...row,
      name: "scale-10k-heap-per-idle-connection-vs-raw",
      unit: "B",
      metric: "heapBytesPerIdleConnection",
      baseline: "raw-net-idle",
    },
    {
      ...row,
      name: "scale-10k-rss-growth",
      unit: "MiB",
      metric: "rssGrowthMiB",
      budget: 128,
      target: { op: "<=", ratio: 1 },
    },
    {
      ...row,
      name: "scale-10k-rss-growth-vs-raw",
      unit: "MiB",
      metric: "rssGrowthMiB",
      baseline: "raw-net-idle",
    },
  ],
};
