/**
 * Where the web demo's download spends CPU outside the page's JavaScript: the file server and
 * gateway process (user and system time apart, page faults) and every Chromium thread (the
 * network service's IO thread, the renderer's IO thread, the browser process), per GiB, with
 * Chromium's bare `fetch()` from nginx beside it. With `--base DIR` (a checkout of another commit,
 * `node_modules` linked) a second file server runs from that tree, and its downloads alternate
 * with this tree's, so the two servers' CPU can be compared in one Chromium on one machine:
 *
 *     node --import ./bench/harness/ts-loader.mjs bench/probes/web-demo-server-cost.ts \
 *       [--base ../ferry-old] [--rounds 6] [--size-mib 256] [--no-fetch] [--sink memory|discard]
 *
 * The page is `bench/browser/web-demo-vs-fetch-page.ts` (the demo's own download path, OPFS,
 * 4 sessions, 16 in flight), built from this tree for both servers. Prints one line per download
 * and, at the end, medians per contestant. A probe, not a bench row: the figures are the CPU
 * time `/proc` reports (10 ms ticks), so use 256 MiB and several rounds.
 *
 * @module
 */

import { type ChildProcessByStdio, spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import {
  appendFileSync,
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { writeRandomFile } from "../../cli/demo-data.ts";
import { launchChromiumDirect } from "../harness/chromium-direct.ts";
import { startNginx } from "../harness/nginx-static.ts";
import { ThreadWatch } from "../harness/process-threads.ts";

const args = process.argv.slice(2);
function option(name: string): string | undefined {
  const at = args.indexOf(name);
  return at < 0 ? undefined : args[at + 1];
}
const rounds = Number(option("--rounds") ?? 6);
const sizeMib = Number(option("--size-mib") ?? 256);
const base = option("--base");
const withFetch = !args.includes("--no-fetch");
/** `memory`: the demo's in-memory sink instead of OPFS; `discard`: none (chunks verified, dropped). */
const sinkKind = option("--sink") ?? "demo";
const here = fileURLToPath(new URL("../../", import.meta.url));
const MiB = 1024 * 1024;

/**
 * User and system CPU seconds of `pid`'s main thread and of its other threads together (Node's
 * threads are all named `node`: V8's compiler and GC helpers, libuv's pool, which reads files).
 */
function threadTimes(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const name = Number(tid) === pid ? "main" : "others";
      out[`${name}.user`] = (out[`${name}.user`] ?? 0) + Number(fields[11]) / 100;
      out[`${name}.sys`] = (out[`${name}.sys`] ?? 0) + Number(fields[12]) / 100;
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** user, system seconds and minor faults of `pid` (all threads). */
function procTimes(pid: number): { user: number; sys: number; faults: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return {
    user: Number(fields[11]) / 100,
    sys: Number(fields[12]) / 100,
    faults: Number(fields[7]),
  };
}

interface FileServer {
  readonly child: ChildProcessByStdio<Writable, Readable, null>;
  readonly gateway: string;
}

async function startFileServer(root: string, dir: string, origin: string): Promise<FileServer> {
  // `FERRY_PROBE_NODE_FLAGS`: extra Node flags for the file servers (`--perf-basic-prof`, ...).
  const flags = (process.env.FERRY_PROBE_NODE_FLAGS ?? "").split(/\s+/).filter((f) => f !== "");
  const child = spawn(process.execPath, [
    ...flags,
    "--import",
    join(root, "bench/harness/ts-loader.mjs"),
    join(root, "bench/servers/web-demo-file-server.ts"),
    dir,
    origin,
  ], {
    cwd: root,
    stdio: ["pipe", "pipe", "inherit"],
    // `FERRY_PROBE_HERE_ENV=NAME=VALUE`: set for this tree's server only (an A/B of a switch).
    env: root === here && process.env.FERRY_PROBE_HERE_ENV !== undefined
      ? { ...process.env, ...Object.fromEntries([process.env.FERRY_PROBE_HERE_ENV.split("=")]) }
      : process.env,
  });
  // `FERRY_PROBE_SERVER_LOG`: where the servers' stdout goes (V8 traces, with the probe's
  // markers between downloads); the hello line is the first that starts with `{`.
  const log = process.env.FERRY_PROBE_SERVER_LOG;
  const line = await new Promise<string>((done, fail) => {
    let text = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      if (log !== undefined) appendFileSync(log, chunk);
      text += chunk;
      const hello = /^\{.*$/m.exec(text);
      if (hello !== null) done(hello[0]);
    });
    child.once("exit", (code) => fail(new Error(`file server in ${root} exited ${code}`)));
  });
  console.error(`file server of ${root}: pid ${child.pid}`);
  return { child, gateway: (JSON.parse(line) as { gateway: string }).gateway };
}

const work = mkdtempSync(join(tmpdir(), "ferry-probe-web-demo-"));
chmodSync(work, 0o755);
const www = join(work, "www");
mkdirSync(www, { mode: 0o755 });
writeRandomFile(join(www, "big.bin"), sizeMib * MiB, 0x5eed_0005);
writeRandomFile(join(www, "warm.bin"), 16 * MiB, 0x5eed_0006);
const gib = sizeMib / 1024;

const chromium = await launchChromiumDirect({
  modules: ["bench/browser/web-demo-vs-fetch-page.ts"],
});
console.error(`chromium: process group ${chromium.pid}`);
const origin = new URL(chromium.baseUrl).origin;
const servers: Record<string, FileServer> = { here: await startFileServer(here, www, origin) };
if (base !== undefined) servers.base = await startFileServer(resolve(base), www, origin);
const nginx = await startNginx(work, www);

type Row = Record<string, number>;
const results: Record<string, Row[]> = {};

async function download(name: string, file: string, timed: boolean): Promise<void> {
  await chromium.reload();
  const server = servers[name];
  const watch = new ThreadWatch(chromium.pid);
  const serverBefore = server ? procTimes(server.child.pid!) : undefined;
  const serverThreadsBefore = server ? threadTimes(server.child.pid!) : {};
  const nginxBefore = nginx.cpuSeconds() ?? 0;
  const figures = server
    ? await chromium.call<Row>("web-demo-vs-fetch-page.js", "demoDownload", [
      server.gateway,
      file,
      4,
      16,
      sinkKind,
    ])
    : await chromium.call<Row>("web-demo-vs-fetch-page.js", "fetchFile", [
      `${nginx.url}${file}`,
      file === "big.bin" ? sizeMib * MiB : 16 * MiB,
    ]);
  const threads = watch.stop();
  const log = process.env.FERRY_PROBE_SERVER_LOG;
  if (log !== undefined) appendFileSync(log, `\n=== probe: ${name} ${file} done\n`);
  if (!timed) return;
  const row: Row = { mibPerSecond: figures.mibPerSecond! };
  if (server && serverBefore) {
    const after = procTimes(server.child.pid!);
    row["server.user"] = (after.user - serverBefore.user) / gib;
    row["server.sys"] = (after.sys - serverBefore.sys) / gib;
    row["server.faults"] = (after.faults - serverBefore.faults) / gib;
    for (const [thread, seconds] of Object.entries(threadTimes(server.child.pid!))) {
      row[`server/${thread}`] = (seconds - (serverThreadsBefore[thread] ?? 0)) / gib;
    }
  } else {
    row["server.nginx"] = ((nginx.cpuSeconds() ?? 0) - nginxBefore) / gib;
  }
  let chromiumTotal = 0;
  for (const [thread, seconds] of Object.entries(threads.threads)) {
    row[thread] = seconds / gib;
    chromiumTotal += seconds;
  }
  row["chromium.total"] = chromiumTotal / gib;
  for (const [kind, faults] of Object.entries(threads.minorFaults)) {
    row[`faults.${kind}`] = faults / gib;
  }
  (results[name] ??= []).push(row);
  console.log(
    `${name}: ${row.mibPerSecond!.toFixed(1)} MiB/s, server ` +
      (row["server.user"] === undefined
        ? `nginx ${row["server.nginx"]!.toFixed(2)}`
        : `user ${row["server.user"]!.toFixed(2)} sys ${row["server.sys"]!.toFixed(2)}`) +
      ` s/GiB, chromium ${row["chromium.total"]!.toFixed(2)} s/GiB`,
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

try {
  const names = [...Object.keys(servers), ...(withFetch ? ["fetch"] : [])];
  for (const name of names) await download(name, "warm.bin", false);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) await download(name, "big.bin", true);
  }
  const keys = new Set<string>();
  for (const rows of Object.values(results)) {
    for (const row of rows) Object.keys(row).forEach((k) => keys.add(k));
  }
  console.log(`\nmedians per GiB (CPU seconds, faults), ${rounds} rounds of ${sizeMib} MiB:`);
  console.log(["figure".padEnd(44), ...names.map((n) => n.padStart(10))].join(""));
  for (const key of [...keys].sort()) {
    const cells = names.map((name) => {
      const values = (results[name] ?? []).map((row) => row[key] ?? 0);
      const m = median(values);
      return (key.startsWith("faults") || key.endsWith("faults") ? m.toFixed(0) : m.toFixed(3))
        .padStart(10);
    });
    if (cells.every((cell) => Number(cell) === 0)) continue;
    console.log([key.padEnd(44), ...cells].join(""));
  }
} finally {
  for (const server of Object.values(servers)) server.child.stdin.end();
  await nginx.close();
  await chromium.close();
  rmSync(work, { recursive: true, force: true });
}
