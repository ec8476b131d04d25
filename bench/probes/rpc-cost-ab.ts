/**
 * CPU and allocation per request of the RPC echo, client and server separately, Ferry against the
 * raw length-prefixed `node:net` echo, optionally A/B against another checkout — a figure that
 * holds on a machine other processes load, where requests per second do not.
 *
 * ```sh
 * node --import ./bench/harness/ts-loader.mjs bench/probes/rpc-cost-ab.ts \
 *   [--base /path/to/old/checkout] [--rounds 5] [--latency] [--contestant rpc-echo-callback]
 * ```
 *
 * `RPC_COST_TIMEOUT_MS=N` makes every Ferry `sendRpc` pass `{ timeoutMs: N }` (rpc-cost-child.ts).
 * `RPC_COST_CLIENT_FLAGS` adds Node flags to the client processes (`--cpu-prof --cpu-prof-dir=D`).
 *
 * Every round starts a fresh server process and a fresh client process per contestant (each runs
 * `rpc-cost-child.ts` against the bench code of its checkout: `rpc-echo`, or with `--latency`
 * `rpc-latency`), warms the client up untimed, then measures one run: each process's
 * `process.cpuUsage()` and allocated bytes over it, divided by the requests. The order of the
 * checkouts alternates between rounds. The raw echo is the same code in every checkout and runs
 * once per round. It prints each round, then min / median / max per figure and the load average.
 *
 * Reading it: with client and server on a core each, throughput is bounded by the busier side, so
 * `raw µs ÷ ferry µs` of the busier side estimates the throughput ratio free of the scheduler's
 * noise (both processes waiting on loopback is the other bound, which CPU figures do not show).
 *
 * @module
 */

import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { loadavg } from "node:os";
import { resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL("../../", import.meta.url));
const childScript = fileURLToPath(new URL("./rpc-cost-child.ts", import.meta.url));

const args = process.argv.slice(2);
const option = (name: string) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
};
const base = option("--base");
const rounds = Number(option("--rounds") ?? 5);
const latency = args.includes("--latency");
/** The Ferry contestant of `bench/node/ferry-contestants.ts` (e.g. `rpc-echo-callback`). */
const contestant = option("--contestant") ?? (latency ? "rpc-latency" : "rpc-echo");
/** Extra Node flags of the client processes, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`. */
const clientFlags = (process.env.RPC_COST_CLIENT_FLAGS ?? "").split(/\s+/).filter((f) => f !== "");

interface Spec {
  readonly label: string;
  readonly root: string;
  readonly server: string;
  readonly module: string;
  readonly name: string;
}

const ferry = (label: string, root: string): Spec => ({
  label,
  root,
  server: "ferry",
  module: "bench/node/ferry-contestants.ts",
  name: contestant,
});
const raw: Spec = {
  label: "raw",
  root: here,
  server: "raw-echo",
  module: "bench/node/raw-contestants.ts",
  name: latency ? "echo-ping-pong" : "echo-pipelined",
};

/** A child speaking one JSON line per request line. */
class Child {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: string[] = [];
  #waiting: ((line: string) => void) | undefined;
  #stderr = "";

  constructor(root: string, childArgs: string[], flags: readonly string[] = []) {
    const loader = new URL("bench/harness/ts-loader.mjs", `file://${resolve(root)}/`).href;
    const nodeArgs = [...flags, "--import", loader, childScript, root, ...childArgs];
    this.#child = spawn(process.execPath, nodeArgs, {
      cwd: root,
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.#child.stderr.setEncoding("utf8").on("data", (text: string) => {
      this.#stderr = (this.#stderr + text).slice(-4000);
    });
    let pending = "";
    this.#child.stdout.setEncoding("utf8").on("data", (text: string) => {
      pending += text;
      let newline: number;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        const waiting = this.#waiting;
        this.#waiting = undefined;
        if (waiting !== undefined) waiting(line);
        else this.#lines.push(line);
      }
    });
    this.#child.once("close", (code) => {
      this.#waiting?.(JSON.stringify({ error: `exited ${code}: ${this.#stderr}` }));
    });
  }

  async next(): Promise<Record<string, number>> {
    const line = this.#lines.shift() ??
      await new Promise<string>((resolve) => (this.#waiting = resolve));
    const value = JSON.parse(line) as Record<string, number | string>;
    if (typeof value.error === "string") throw new Error(value.error);
    return value as Record<string, number>;
  }

  request(line: string): Promise<Record<string, number>> {
    this.#child.stdin.write(`${line}\n`);
    return this.next();
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#child.exitCode !== null) return resolve();
      this.#child.once("close", () => resolve());
      this.#child.stdin.end();
    });
  }
}

interface Figures {
  readonly rate: number;
  readonly clientMicros: number;
  readonly serverMicros: number;
  /** The same in user space only (the syscalls, alike for every contestant, left out). */
  readonly clientUserMicros: number;
  readonly serverUserMicros: number;
  readonly clientBytes: number;
  readonly serverBytes: number;
  readonly p50?: number;
}

async function runOnce(spec: Spec): Promise<Figures> {
  const server = new Child(spec.root, ["server", spec.server]);
  let client: Child | undefined;
  try {
    const { port } = await server.next();
    client = new Child(spec.root, [
      "client",
      spec.module,
      spec.name,
      JSON.stringify({ [spec.server]: port }),
    ], clientFlags);
    await client.next();
    await client.request("warmup");
    await server.request("begin");
    const measured = await client.request("measure");
    const serverSide = await server.request("end");
    const requests = measured.requests!;
    return {
      rate: measured.requestsPerSecond ?? requests / (measured.cpuSeconds ?? 1),
      clientMicros: measured.cpuSeconds! * 1e6 / requests,
      serverMicros: serverSide.cpuSeconds! * 1e6 / requests,
      clientUserMicros: measured.userSeconds! * 1e6 / requests,
      serverUserMicros: serverSide.userSeconds! * 1e6 / requests,
      clientBytes: measured.allocatedBytes! / requests,
      serverBytes: serverSide.allocatedBytes! / requests,
      ...(measured.p50Micros === undefined ? {} : { p50: measured.p50Micros }),
    };
  } finally {
    await Promise.all([client?.stop(), server.stop()]);
  }
}

const specs = base === undefined
  ? [ferry("ferry", here)]
  : [ferry("old", resolve(base)), ferry("new", here)];
const results = new Map<string, Figures[]>();
const show = (label: string, f: Figures) =>
  console.log(
    `${label.padEnd(6)} ${
      latency ? `p50 ${f.p50!.toFixed(1).padStart(6)} µs` : `${f.rate.toFixed(0).padStart(7)} req/s`
    }  client ${f.clientMicros.toFixed(2).padStart(5)} µs ${
      f.clientBytes.toFixed(0).padStart(4)
    } B   server ${f.serverMicros.toFixed(2).padStart(5)} µs ${
      f.serverBytes.toFixed(0).padStart(4)
    } B  per request`,
  );

console.log(
  `${latency ? "rpc-latency" : "rpc-echo"}${
    process.env.RPC_COST_TIMEOUT_MS ? `, timeoutMs ${process.env.RPC_COST_TIMEOUT_MS}` : ""
  }, load ${loadavg().map((l) => l.toFixed(2))}`,
);
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? [...specs, raw] : [raw, ...specs.slice().reverse()];
  console.log(`round ${round + 1}`);
  for (const spec of order) {
    const figures = await runOnce(spec);
    results.set(spec.label, [...(results.get(spec.label) ?? []), figures]);
    show(spec.label, figures);
  }
}

const summary = (values: number[], digits: number) => {
  const sorted = values.slice().sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const f = (value: number) => value.toFixed(digits);
  return `${f(sorted[0]!)}–${f(sorted[sorted.length - 1]!)} (median ${f(median)})`;
};
console.log(`\nsummary over ${rounds} rounds, load ${loadavg().map((l) => l.toFixed(2))}`);
const rawRuns = results.get("raw")!;
for (const [label, runs] of results) {
  console.log(`${label}:`);
  console.log(`  client µs/req  ${summary(runs.map((r) => r.clientMicros), 2)}`);
  console.log(`  server µs/req  ${summary(runs.map((r) => r.serverMicros), 2)}`);
  console.log(`  client user µs/req  ${summary(runs.map((r) => r.clientUserMicros), 2)}`);
  console.log(`  server user µs/req  ${summary(runs.map((r) => r.serverUserMicros), 2)}`);
  console.log(`  client B/req   ${summary(runs.map((r) => r.clientBytes), 0)}`);
  console.log(`  server B/req   ${summary(runs.map((r) => r.serverBytes), 0)}`);
  if (latency) console.log(`  p50 µs         ${summary(runs.map((r) => r.p50!), 1)}`);
  else console.log(`  req/s          ${summary(runs.map((r) => r.rate), 0)}`);
  if (label === "raw") continue;
  // Per round: the raw run of the same round against this one.
  const busier = runs.map((r, i) =>
    Math.max(rawRuns[i]!.clientMicros, rawRuns[i]!.serverMicros) /
    Math.max(r.clientMicros, r.serverMicros)
  );
  const total = runs.map((r, i) =>
    (rawRuns[i]!.clientMicros + rawRuns[i]!.serverMicros) / (r.clientMicros + r.serverMicros)
  );
  console.log(`  raw ÷ this, CPU of the busier side  ${summary(busier, 2)}`);
  console.log(`  raw ÷ this, CPU of both sides       ${summary(total, 2)}`);
  if (label === "new") {
    // Paired with the old checkout's run of the same round (adjacent in time, same load).
    const old = results.get("old")!;
    const paired = (name: string, pick: (figures: Figures) => number) =>
      console.log(
        `  ${name} new ÷ old  ${summary(runs.map((r, i) => pick(r) / pick(old[i]!)), 2)}`,
      );
    paired("client µs", (r) => r.clientMicros);
    paired("server µs", (r) => r.serverMicros);
    paired("client user µs", (r) => r.clientUserMicros);
    paired("server user µs", (r) => r.serverUserMicros);
    paired("client B", (r) => r.clientBytes);
    if (latency) paired("p50", (r) => r.p50!);
    else paired("req/s", (r) => r.rate);
  }
  if (latency) {
    console.log(`  p50 this ÷ raw  ${summary(runs.map((r, i) => r.p50! / rawRuns[i]!.p50!), 2)}`);
  } else {
    console.log(`  req/s this ÷ raw  ${summary(runs.map((r, i) => r.rate / rawRuns[i]!.rate), 2)}`);
  }
}
