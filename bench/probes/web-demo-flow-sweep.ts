/**
 * The web demo's concurrency in a directly launched Chromium: `node --import tsx
 * bench/probes/web-demo-flow-sweep.ts [ROUNDS] [SIZE_MIB] [CONFIGS]` downloads a SIZE_MIB file
 * (default 256) through `ferry serve`'s gateway with the demo's own download path
 * (`bench/browser/web-demo-vs-fetch-page.ts` `demoDownload`, OPFS sink, chunks hashed in its
 * worker) for every `connections x inFlight` configuration (CONFIGS: `2x8,4x16,...`; default
 * {2,4,6,8} x {8,16,32,64}), plus Chromium's `fetch()` of the same file from nginx with one
 * SHA-256 (`fetch`), ROUNDS times (default 5). Every round runs every configuration once, in an
 * order rotated and reversed from round to round, so a noisy machine's slow spells spread over
 * all of them; a fresh page before each download. Prints one JSON line per download (MiB/s, the
 * one-minute load average at its start, CPU seconds per GiB of Chromium's busiest threads and of
 * the server process, and `busy:*`: the share of the wall time the renderer's main thread, the
 * OPFS writer worker, the network service's and the renderer's IO threads and the server's main
 * thread were running or runnable, from `/proc/.../schedstat`), then a table of medians. A
 * pipeline limited by one thread's CPU shows that thread near 1 even on a loaded machine; all of
 * them well below 1 means they took turns waiting for each other (latency, flow control).
 *
 * With `FERRY_PROBE_BASE=<another checkout>` a second file server runs from that tree, and a
 * configuration `CxF@base` downloads through it: an A/B of gateway changes in the same Chromium.
 *
 * The bench (`web-demo-vs-fetch`) runs the demo's defaults; this says whether other defaults would
 * be faster, and whether the time goes to CPU or to waiting.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { writeRandomFile } from "../../cli/demo-data.ts";
import { launchChromiumDirect } from "../harness/chromium-direct.ts";
import { processCpuSeconds } from "../harness/cpu-meter.ts";
import { startNginx } from "../harness/nginx-static.ts";
import { readdirSync, readFileSync as readText } from "node:fs";
import { processGroupMembers } from "../harness/cpu-meter.ts";
import { ScriptProcess } from "../harness/script-process.ts";

const [roundsText = "5", sizeText = "256", configText] = process.argv.slice(2);
const rounds = Number(roundsText);
const sizeMiB = Number(sizeText);
const MiB = 1024 * 1024;
const configs: string[] = configText?.split(",") ??
  [...[2, 4, 6, 8].flatMap((c) => [8, 16, 32, 64].map((f) => `${c}x${f}`)), "fetch"];

const work = mkdtempSync(join(tmpdir(), "ferry-probe-web-demo-"));
chmodSync(work, 0o755);
const www = join(work, "www");
mkdirSync(www, { mode: 0o755 });
writeRandomFile(join(www, "big.bin"), sizeMiB * MiB, 0x5eed_0005);
writeRandomFile(join(www, "warm.bin"), 4 * MiB, 0x5eed_0006);
const sha256 = (name: string) =>
  createHash("sha256").update(readFileSync(join(www, name))).digest("hex");
const digests: Record<string, string> = {
  "big.bin": sha256("big.bin"),
  "warm.bin": sha256("warm.bin"),
};

const chromium = await launchChromiumDirect({
  modules: ["bench/browser/web-demo-vs-fetch-page.ts"],
});
const server = ScriptProcess.node("bench/servers/web-demo-file-server.ts", [
  www,
  new URL(chromium.baseUrl).origin,
]);
/** FERRY_PROBE_BASE=<another checkout>: its file server too, for configurations `CxF@base` (A/B). */
const baseTree = process.env.FERRY_PROBE_BASE;
const baseServer = baseTree === undefined ? undefined : ScriptProcess.node(
  join(baseTree, "bench/servers/web-demo-file-server.ts"),
  [www, new URL(chromium.baseUrl).origin],
);
const nginx = await startNginx(work, www);
const page = "web-demo-vs-fetch-page.js";
const threadsOfInterest: Record<string, string> = {
  main: "renderer/chromium",
  worker: "renderer/DedicatedWorker",
  rIO: "renderer/Chrome_ChildIOT",
  netIO: "utility:network/Chrome_ChildIOT",
  bIO: "browser/Chrome_IOThread",
};

/**
 * Per-thread CPU seconds and run-queue wait so far, `pid/tid` → [key, seconds, waited]: sampled
 * often, so a thread that exited keeps its last figures.
 */
function sampleTids(into: Map<string, [string, number, number]>): void {
  for (const pid of processGroupMembers(chromium.pid)) {
    let kind = "browser";
    try {
      const cmdline = readText(`/proc/${pid}/cmdline`, "utf8");
      const type = /--type=([a-z-]+)/.exec(cmdline)?.[1];
      if (type === "utility") {
        kind = cmdline.includes("network.mojom.NetworkService") ? "utility:network" : "utility";
      } else if (type !== undefined) kind = type;
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        // schedstat: nanoseconds on a CPU, nanoseconds runnable but waiting for one, timeslices.
        const [run, wait] = readText(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ");
        const name = readText(`/proc/${pid}/task/${tid}/comm`, "utf8").trim().replace(/\d+$/, "N");
        into.set(`${pid}/${tid}`, [`${kind}/${name}`, Number(run) / 1e9, Number(wait) / 1e9]);
      }
    } catch {
      // gone
    }
  }
}

function byKey(
  sample: Map<string, [string, number, number]>,
  field: 1 | 2,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of sample.values()) out[entry[0]] = (out[entry[0]] ?? 0) + entry[field];
  return out;
}

/** The main thread of process `pid`: [CPU seconds, run-queue wait seconds] so far. */
function mainThread(pid: number): [number, number] {
  try {
    const [run, wait] = readText(`/proc/${pid}/task/${pid}/schedstat`, "utf8").split(" ");
    return [Number(run) / 1e9, Number(wait) / 1e9];
  } catch {
    return [0, 0];
  }
}

try {
  const hello = JSON.parse(await server.nextLine()) as { gateway: string };
  const baseHello = baseServer === undefined
    ? undefined
    : JSON.parse(await baseServer.nextLine()) as { gateway: string };
  const results: Record<string, { mib: number[]; cpu: Record<string, number[]>; load: number[] }> =
    {};
  const run = async (config: string, file: string, record: boolean) => {
    await chromium.reload();
    const load = loadavg()[0]!;
    const before = new Map<string, [string, number, number]>();
    sampleTids(before);
    const during = new Map(before);
    const sampler = setInterval(() => sampleTids(during), 100);
    const chromiumBefore = chromium.cpuSeconds() ?? 0;
    const onBase = config.endsWith("@base");
    const serverCpu = () =>
      config === "fetch"
        ? nginx.cpuSeconds()
        : processCpuSeconds(onBase ? baseServer!.pid : server.pid);
    const serverBefore = serverCpu() ?? 0;
    const serverPid = config === "fetch" ? undefined : onBase ? baseServer!.pid : server.pid;
    const serverMainBefore: [number, number] = serverPid === undefined
      ? [0, 0]
      : mainThread(serverPid);
    const started = performance.now();
    let figures: { mibPerSecond: number; bytes: number };
    if (config === "fetch") {
      figures = await chromium.call(page, "fetchFile", [
        `${nginx.url}${file}`,
        file === "big.bin" ? sizeMiB * MiB : 4 * MiB,
        digests[file],
      ]);
    } else {
      const [connections, inFlight] = config.replace("@base", "").replace("@exp", "").split("x")
        .map(Number);
      figures = await chromium.call(page, "demoDownload", [
        onBase ? baseHello!.gateway : hello.gateway,
        file,
        connections,
        inFlight,
        "demo",
        config.endsWith("@exp"),
      ]);
    }
    clearInterval(sampler);
    sampleTids(during);
    const wall = (performance.now() - started) / 1000;
    const gib = figures.bytes / (1024 * MiB);
    const delta = (field: 1 | 2) => {
      const was = byKey(before, field);
      const out: Record<string, number> = {};
      for (const [key, seconds] of Object.entries(byKey(during, field))) {
        out[key] = seconds - (was[key] ?? 0);
      }
      return out;
    };
    const threads = delta(1);
    const waits = delta(2);
    const serverMain: [number, number] = serverPid === undefined ? [0, 0] : mainThread(serverPid);
    const cpu: Record<string, number> = {
      chromium: ((chromium.cpuSeconds() ?? 0) - chromiumBefore) / gib,
      server: ((serverCpu() ?? 0) - serverBefore) / gib,
    };
    for (const [short, key] of Object.entries(threadsOfInterest)) {
      cpu[short] = (threads[key] ?? 0) / gib;
    }
    // Share of the wall time each thread was running or waiting to run: near 1 for the thread
    // that limits a CPU-bound pipeline; all well below 1 means everyone waited for data.
    const busy: Record<string, number> = {};
    for (const short of ["main", "worker", "netIO", "rIO"]) {
      const key = threadsOfInterest[short]!;
      busy[short] = ((threads[key] ?? 0) + (waits[key] ?? 0)) / wall;
    }
    busy.server = (serverMain[0] - serverMainBefore[0] + serverMain[1] - serverMainBefore[1]) /
      wall;
    for (const [key, value] of Object.entries(busy)) cpu[`busy:${key}`] = value;
    if (!record) return;
    const entry = results[config] ??= { mib: [], cpu: {}, load: [] };
    entry.mib.push(figures.mibPerSecond);
    entry.load.push(load);
    for (const [key, value] of Object.entries(cpu)) (entry.cpu[key] ??= []).push(value);
    const round2 = (n: number) => Math.round(n * 100) / 100;
    console.log(JSON.stringify({
      config,
      mibPerSecond: Math.round(figures.mibPerSecond),
      load: round2(load),
      cpuSecondsPerGiB: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round2(v)])),
    }));
  };
  for (const config of configs) await run(config, "warm.bin", false);
  for (let round = 0; round < rounds; round++) {
    const shift = (round * 5) % configs.length;
    let order = [...configs.slice(shift), ...configs.slice(0, shift)];
    if (round % 2 === 1) order = order.reverse();
    for (const config of order) await run(config, "big.bin", true);
  }
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = sorted.length >> 1;
    return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  };
  const keys = Object.keys(results[configs[0]!]?.cpu ?? {});
  const legend = "(medians: CPU s/GiB; busy: share of the wall time running or runnable)";
  console.log(`\nconfig   MiB/s(med)  min-max     load  ${keys.join(" ")}  ${legend}`);
  for (const config of configs) {
    const entry = results[config];
    if (entry === undefined) continue;
    console.log(
      `${config.padEnd(8)} ${median(entry.mib).toFixed(0).padStart(6)}  ` +
        `${Math.min(...entry.mib).toFixed(0)}-${Math.max(...entry.mib).toFixed(0)}`.padEnd(12) +
        `${median(entry.load).toFixed(1).padStart(4)}  ` +
        keys.map((key) => median(entry.cpu[key] ?? [0]).toFixed(2)).join(" "),
    );
  }
} finally {
  await server.stop();
  await baseServer?.stop();
  await nginx.close();
  await chromium.close();
  rmSync(work, { recursive: true, force: true });
}
