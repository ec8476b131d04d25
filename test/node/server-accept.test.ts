/**
 * Server accept speed: 1000 TCP connections opened at once by a separate client process, timed
 * from "go" until the server has accepted (and, for Ferry, set up) all of them. Raw `node:net` and
 * Ferry's `TransportServer` are measured in the same run, interleaved, with a listen backlog of 511
 * (Node's default) and of 4096 (Ferry's Node default since it removed the cliff described below).
 * Prints medians and ratios; timing decides nothing.
 *
 * What the figures show: with the default backlog, a server whose per-connection setup is slower
 * than the client's connect rate lets the kernel's accept queue overflow; the dropped SYNs are
 * retransmitted after 1 s, so the slowest connections arrive ~1 s late (printed as the spread of
 * arrivals). A larger backlog removes that cliff and leaves the CPU cost of setting a connection up.
 * `FERRY_ACCEPT_CONNECTIONS` (default 1000) and `FERRY_ACCEPT_ROUNDS` (default 3) scale it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import net from "node:net";
import { tcpListen } from "../../adapters/node/tcp.ts";
import { TransportServer } from "../../src/server/transport-server.ts";

const N = Number(process.env.FERRY_ACCEPT_CONNECTIONS ?? 1000);
const ROUNDS = Number(process.env.FERRY_ACCEPT_ROUNDS ?? 3);

/** The client process: on "go" opens N connections at once, prints "connected"; exits on "stop". */
const CLIENT = `
import net from "node:net";
const [port, n] = [Number(process.argv[1]), Number(process.argv[2])];
const sockets = [];
process.stdin.on("data", async (data) => {
  if (data.toString().includes("go")) {
    await Promise.all(Array.from({ length: n }, () => new Promise((resolve, reject) => {
      const socket = net.connect(port, "127.0.0.1", resolve);
      socket.on("error", reject);
      sockets.push(socket);
    })));
    process.stdout.write("connected\\n");
  } else {
    for (const socket of sockets) socket.destroy();
    process.exit(0);
  }
});
process.stdout.write("ready\\n");
`;

interface Run {
  readonly ms: number;
  /** Milliseconds after the first arrival at which the 50th, 90th and last connection arrived. */
  readonly arrivals: readonly [number, number, number];
}

/** Starts the client process against `port`, times until `accepted` resolves. */
async function drive(port: number, accepted: Promise<number[]>): Promise<Run> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--input-type=module", "-e", CLIENT, String(port), String(N)],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  await once(child.stdout!, "data");
  const started = performance.now();
  child.stdin!.write("go\n");
  const stamps = await accepted;
  const ms = performance.now() - started;
  child.stdin!.write("stop\n");
  await once(child, "exit");
  const at = (q: number) => stamps[Math.min(stamps.length - 1, Math.floor(q * N))]! - stamps[0]!;
  return { ms, arrivals: [at(0.5), at(0.9), at(1)] };
}

function counter(): { stamp: () => void; all: Promise<number[]> } {
  const stamps: number[] = [];
  let done!: (stamps: number[]) => void;
  const all = new Promise<number[]>((resolve) => (done = resolve));
  return {
    stamp: () => {
      stamps.push(performance.now());
      if (stamps.length === N) done(stamps);
    },
    all,
  };
}

async function rawNode(backlog: number): Promise<Run> {
  const { stamp, all } = counter();
  const accepted: net.Socket[] = [];
  const server = net.createServer((socket) => {
    accepted.push(socket);
    socket.on("error", () => {});
    stamp();
  });
  await new Promise<void>((resolve) =>
    server.listen({ host: "127.0.0.1", port: 0, backlog }, resolve)
  );
  const run = await drive((server.address() as net.AddressInfo).port, all);
  assert.equal(accepted.length, N);
  for (const socket of accepted) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
  return run;
}

/** `backlog` undefined: `tcpListen`'s default (4096). */
async function ferry(backlog: number | undefined): Promise<Run> {
  const { stamp, all } = counter();
  const server = new TransportServer({
    rpcHandler: { receive: (_client, message) => message, channelActive: stamp },
  });
  const listener = await server.listen(
    tcpListen({ host: "127.0.0.1", port: 0, ...(backlog === undefined ? {} : { backlog }) }),
  );
  let served = 0;
  const run = await drive(
    listener.address.port,
    all.then((stamps) => (served = server.connections.size, stamps)),
  );
  assert.equal(served, N, "every accepted socket became a connection");
  await server.close();
  assert.equal(server.connections.size, 0);
  return run;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

test(`accepting ${N} connections: Ferry vs raw node:net, same run`, async () => {
  for (const backlog of [511, 4096]) {
    const raw: Run[] = [];
    const ferryRuns: Run[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      raw.push(await rawNode(backlog));
      ferryRuns.push(await ferry(backlog === 4096 ? undefined : backlog));
    }
    const rawMs = median(raw.map((run) => run.ms));
    const ferryMs = median(ferryRuns.map((run) => run.ms));
    const spread = (runs: Run[]) =>
      runs.map((run) => run.arrivals.map((ms) => ms.toFixed(0)).join("/")).join(", ");
    console.log(
      `accept ${N} (backlog ${backlog}${
        backlog === 4096 ? ", Ferry's default" : ""
      }): raw node:net ${rawMs.toFixed(0)} ms, ` +
        `Ferry ${ferryMs.toFixed(0)} ms (median of ${ROUNDS}), ratio ${
          (ferryMs / rawMs).toFixed(2)
        }x\n  arrivals p50/p90/last after the first, ms — raw: ${spread(raw)}; Ferry: ${
          spread(ferryRuns)
        }`,
    );
  }
});
