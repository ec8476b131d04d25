/**
 * What each side of a Deno chunk fetch spends per GiB: `node --import tsx bench/probes/deno-cost.ts
 * KIND[,KIND...] [MiB] [ROUNDS] [ROOT...]` starts, for every round, every kind and every checkout
 * ROOT (default: this one; give an old commit's worktree too for an A/B pair), a fresh Deno server
 * (`bench/deno/deno-bench-server.ts`) and client (`deno-bench-client.ts`) of that checkout, moves
 * 256 MiB untimed, then MiB (default 1024) as 1 MiB chunks, and prints one JSON line per run: MiB/s,
 * CPU seconds and minor page faults per GiB of the client and of the server (from `/proc`). Kinds
 * as the bench's Deno scripts know them (`ferry-tcp`, `ferry-tls`, `raw-tcp`, `raw-tls`, ...);
 * `ferry-tcp-owned` runs against `ferry-tcp`'s server. The checkouts alternate within a round, and
 * the last lines are the medians per kind and checkout.
 *
 * `DENO_CLIENT_FLAGS` / `DENO_SERVER_FLAGS` (space-separated) add `deno run` flags to one side,
 * e.g. `--v8-flags=--prof` or `--cpu-prof --cpu-prof-dir=/tmp/prof`.
 *
 * CPU seconds per GiB, not MiB/s, are the figures to compare on a shared machine.
 *
 * @module
 */

import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import process from "node:process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL("../../", import.meta.url));
const deno = fileURLToPath(new URL("../../node_modules/.bin/deno", import.meta.url));
const readyPrefix = "FERRY_BENCH_READY ";

/** User + system CPU seconds and minor faults of `pid`, from `/proc/<pid>/stat`. */
function usage(pid: number): { cpu: number; faults: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { cpu: (Number(fields[11]) + Number(fields[12])) / 100, faults: Number(fields[7]) };
}

function flags(name: string): string[] {
  return (process.env[name] ?? "").split(/\s+/).filter((flag) => flag !== "");
}

class Lines {
  readonly #queue: string[] = [];
  #waiting: ((line: string) => void) | undefined;
  constructor(readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      if (waiting) waiting(line);
      else this.#queue.push(line);
    });
    child.stderr.on("data", (text) => process.stderr.write(text));
  }
  next(): Promise<string> {
    const line = this.#queue.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve) => (this.#waiting = resolve));
  }
}

function start(root: string, script: string, args: string[], extra: string[]): Lines {
  const child = spawn(deno, ["run", "-A", "--quiet", ...extra, script, ...args], {
    cwd: root,
    stdio: ["pipe", "pipe", "pipe"],
  });
  return new Lines(child);
}

async function run(root: string, kind: string, mib: number) {
  const serverKind = kind === "ferry-tcp-owned" ? "ferry-tcp" : kind;
  const server = start(
    root,
    "bench/deno/deno-bench-server.ts",
    [serverKind],
    flags("DENO_SERVER_FLAGS"),
  );
  let line = await server.next();
  while (!line.startsWith(readyPrefix)) line = await server.next();
  const ready = JSON.parse(line.slice(readyPrefix.length)) as { port: number; certPem?: string };
  const clientArgs = [kind, "127.0.0.1", String(ready.port)];
  if (ready.certPem) clientArgs.push(ready.certPem);
  const client = start(
    root,
    "bench/deno/deno-bench-client.ts",
    clientArgs,
    flags("DENO_CLIENT_FLAGS"),
  );
  await client.next(); // {"ready":true}
  const transfer = async (count: number) => {
    client.child.stdin.write(`${count}\n`);
    const reply = JSON.parse(await client.next());
    if (reply.error) throw new Error(reply.error);
    return reply as { mibPerSecond: number };
  };
  await transfer(256);
  const perf = process.env.PERF_DIR ? recordPerf(process.env.PERF_DIR, kind, client, server) : [];
  const counting = process.env.SYSCALLS ? countSyscalls(client, server) : undefined;
  const c0 = usage(client.child.pid!);
  const s0 = usage(server.child.pid!);
  const result = await transfer(mib);
  for (const recorder of perf) recorder.kill("SIGINT");
  await Promise.all(
    perf.map((recorder) => new Promise((resolve) => recorder.once("close", resolve))),
  );
  const c1 = usage(client.child.pid!);
  const s1 = usage(server.child.pid!);
  const syscalls = counting === undefined ? {} : await counting.stop(mib / 1024);
  client.child.stdin.end();
  server.child.stdin.end();
  await Promise.all(
    [client, server].map((side) => new Promise((resolve) => side.child.once("close", resolve))),
  );
  const gib = mib / 1024;
  return {
    mibPerSecond: Math.round(result.mibPerSecond),
    clientCpuPerGiB: +((c1.cpu - c0.cpu) / gib).toFixed(3),
    serverCpuPerGiB: +((s1.cpu - s0.cpu) / gib).toFixed(3),
    clientFaultsPerGiB: Math.round((c1.faults - c0.faults) / gib),
    serverFaultsPerGiB: Math.round((s1.faults - s0.faults) / gib),
    ...syscalls,
  };
}

/**
 * `perf record -g` attached to each side for the measured transfer (`PERF_DIR=dir`: files
 * `KIND-client.data` / `KIND-server.data`; add `--v8-flags=--perf-basic-prof` to both sides' flags
 * for JavaScript names).
 */
function recordPerf(dir: string, kind: string, client: Lines, server: Lines) {
  return [["client", client], ["server", server]].map(([side, lines]) =>
    spawn("perf", [
      "record",
      "-F",
      "2999",
      "-g",
      "-o",
      `${dir}/${kind}-${side}.data`,
      "-p",
      String((lines as Lines).child.pid),
    ], { stdio: "ignore" })
  );
}

const countedSyscalls = ["recvfrom", "sendto", "epoll_wait", "futex", "mmap", "munmap", "madvise"];

/** `SYSCALLS=1`: `perf stat` counts each side's syscalls per GiB during the measured transfer. */
function countSyscalls(client: Lines, server: Lines) {
  const events = countedSyscalls.flatMap((name) => ["-e", `syscalls:sys_enter_${name}`]);
  const sides = [["client", client], ["server", server]] as const;
  const stats = sides.map(([side, lines]) => {
    const perf = spawn("perf", ["stat", "-x", ",", ...events, "-p", String(lines.child.pid)], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let text = "";
    perf.stderr.on("data", (chunk) => (text += chunk));
    const done = new Promise<string>((resolve) => perf.once("close", () => resolve(text)));
    return { side, perf, done };
  });
  return {
    async stop(gib: number): Promise<Record<string, number>> {
      const figures: Record<string, number> = {};
      for (const { side, perf, done } of stats) {
        perf.kill("SIGINT");
        for (const line of (await done).split("\n")) {
          const [count, , event] = line.split(",");
          const name = event?.replace("syscalls:sys_enter_", "");
          if (name && Number.isFinite(Number(count))) {
            figures[`${side}_${name}PerGiB`] = Math.round(Number(count) / gib);
          }
        }
      }
      return figures;
    },
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

const kinds = (process.argv[2] ?? "ferry-tcp").split(",");
const mib = Number(process.argv[3] ?? "1024");
const rounds = Number(process.argv[4] ?? "1");
const roots = process.argv.length > 5 ? process.argv.slice(5) : [here];
const all = new Map<string, Array<Awaited<ReturnType<typeof run>>>>();
for (let round = 0; round < rounds; round++) {
  for (const kind of kinds) {
    // Alternate which checkout goes first, so neither always runs right after the other.
    const order = round % 2 === 0 ? roots : [...roots].reverse();
    for (const root of order) {
      const figures = await run(root, kind, mib);
      const key = `${kind} ${root}`;
      if (!all.has(key)) all.set(key, []);
      all.get(key)!.push(figures);
      const load = readFileSync("/proc/loadavg", "utf8").split(" ")[0];
      console.log(JSON.stringify({ round, kind, root, load: Number(load), ...figures }));
    }
  }
}
for (const [key, runs] of all) {
  const pick = (name: keyof (typeof runs)[number]) => median(runs.map((figures) => figures[name]));
  console.log(JSON.stringify({
    median: key,
    runs: runs.length,
    mibPerSecond: pick("mibPerSecond"),
    clientCpuPerGiB: pick("clientCpuPerGiB"),
    serverCpuPerGiB: pick("serverCpuPerGiB"),
    clientFaultsPerGiB: pick("clientFaultsPerGiB"),
    serverFaultsPerGiB: pick("serverFaultsPerGiB"),
  }));
}
