/**
 * The main job as a person runs it, whole processes: `ferry get` of a 256 MiB file (16 MiB with
 * `--quick`) from `ferry serve` over loopback TCP and through the gateway, against
 * `curl -o FILE` from nginx followed by `sha256sum FILE` — the same bytes fetched and verified —
 * and (the stretch row) against `curl -o FILE` alone.
 *
 * Each contestant serves its own copy of the same deterministic file (`cli/demo-data.ts`) from a
 * temporary folder (page cache warm after the warm-up), and every run is a fresh client process
 * whose wall time is the figure, start-up included. Each run also records the CPU seconds of both
 * sides (`clientCpuSeconds`: the client processes this run started and reaped — `ferry get`, or
 * curl and sha256sum; `serverCpuSeconds`: `ferry serve`, or nginx's master and workers), which
 * the table shows per GiB: on a machine shared with other work they move far less than wall time.
 * `ferry` runs as the installed package runs it, compiled and bundled (`dist/cli/ferry-bundle.js`,
 * see `compiled-cli.ts`), not through the checkout's tsx launcher, whose transpiling would be most
 * of a small run's start-up. `ferry get` verifies each chunk against the
 * server's digests; `sha256sum` hashes the saved file. nginx runs from a temporary config on a
 * free loopback port (the case needs `nginx`, `curl` and `sha256sum` on the PATH).
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { writeRandomFile } from "../../cli/demo-data.ts";
import type {
  BenchCase,
  CaseContext,
  Contestant,
  OpenContestant,
  Sample,
} from "../harness/bench-case.ts";
import { processCpuSeconds } from "../harness/cpu-meter.ts";
import { compiledCli } from "./compiled-cli.ts";

function fileSize(context: Pick<CaseContext, "quick">): number {
  return (context.quick ? 16 : 256) * 1024 * 1024;
}

/** A temporary folder holding `big.bin` of the case's size. */
function servedFolder(context: CaseContext): string {
  const work = mkdtempSync(join(tmpdir(), "ferry-bench-get-"));
  // nginx's workers may run as another user: they need to read the file.
  chmodSync(work, 0o755);
  mkdirSync(join(work, "www"), { mode: 0o755 });
  writeRandomFile(join(work, "www", "big.bin"), fileSize(context), 0x5eed_0001);
  return work;
}

/** Runs `program args` to completion; rejects on a non-zero exit with its stderr. */
function run(program: string, args: readonly string[], env = process.env): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(program, args, { stdio: ["ignore", "ignore", "pipe"], env });
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    child.on("error", fail);
    child.on(
      "close",
      (code) =>
        code === 0 ? done() : fail(new Error(`${program} exited ${code}: ${stderr.slice(-500)}`)),
    );
  });
}

/**
 * CPU seconds (user + system) of this process's children that have exited and been reaped
 * (`cutime` + `cstime` of `/proc/self/stat`); undefined without `/proc`. Node reaps every child
 * it spawned, so the difference around a run is the CPU of the client processes that run started.
 */
function reapedChildrenCpuSeconds(): number | undefined {
  let stat: string;
  try {
    stat = readFileSync("/proc/self/stat", "utf8");
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[13]) + Number(fields[14]);
  return Number.isFinite(ticks) ? ticks / 100 : undefined;
}

/** CPU seconds of process `pid` and of its live children (nginx's master and its workers). */
function processTreeCpuSeconds(pid: number): number | undefined {
  let seconds = processCpuSeconds(pid);
  if (seconds === undefined) return undefined;
  let children: string;
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8");
  } catch {
    return seconds;
  }
  for (const child of children.split(" ").filter((id) => id !== "")) {
    seconds += processCpuSeconds(Number(child)) ?? 0;
  }
  return seconds;
}

/**
 * Times `action` (wall seconds), with the CPU seconds of the client processes it ran and of the
 * server process tree `serverPid` while it ran, and the rate it moved `bytes` at.
 *
 * Every contestant writes the 256 MiB file, and the kernel writes it back to disk later: without
 * a `sync` first (untimed), the next contestant paid for the previous one's writeback. With
 * identical code in both slots, `ferry-get-tcp-base`, which ran right after `curl`, measured
 * 1.86 s against 1.24 s.
 */
async function timed(
  action: () => Promise<void>,
  bytes: number,
  serverPid: number | undefined,
): Promise<Sample> {
  await run("sync", []);
  const clientBefore = reapedChildrenCpuSeconds();
  const serverBefore = serverPid === undefined ? undefined : processTreeCpuSeconds(serverPid);
  const started = performance.now();
  await action();
  const seconds = (performance.now() - started) / 1000;
  const clientAfter = reapedChildrenCpuSeconds();
  const serverAfter = serverPid === undefined ? undefined : processTreeCpuSeconds(serverPid);
  const sample: Record<string, number> = { seconds, mibPerSecond: bytes / 2 ** 20 / seconds };
  if (clientBefore !== undefined && clientAfter !== undefined) {
    sample.clientCpuSeconds = clientAfter - clientBefore;
  }
  if (serverBefore !== undefined && serverAfter !== undefined) {
    sample.serverCpuSeconds = serverAfter - serverBefore;
  }
  return sample;
}

/** Waits for a line matching `pattern` on `child`'s stdout. */
function lineOf(child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((done, fail) => {
    let out = "";
    const timer = setTimeout(() => fail(new Error(`no ${pattern} within 120 s: ${out}`)), 120_000);
    child.stdout!.setEncoding("utf8").on("data", (text: string) => {
      out += text;
      const match = pattern.exec(out);
      if (match) {
        clearTimeout(timer);
        done(match);
      }
    });
    child.on("exit", (code) => fail(new Error(`exited ${code} before ${pattern}: ${out}`)));
  });
}

/**
 * `ferry get` over `via`; `tree`, when given, is another checkout whose compiled CLI (its own
 * `npm run build`) serves and fetches instead of this one's.
 */
function ferryGet(name: string, via: "tcp" | "gateway", tree?: string): Contestant {
  return {
    name,
    description: `node dist/cli/ferry-bundle.js get ${
      via === "tcp" ? "tcp://…/big.bin" : "ws://…/gateway/files/big.bin"
    }${
      tree === undefined ? "" : ` of ${tree}`
    } (4 connections, 16 in flight, every chunk verified), a fresh process per run`,
    async open(context): Promise<OpenContestant> {
      const ferryBin = tree === undefined
        ? (await compiledCli(context.quick)).path
        : [join(tree, "dist/cli/ferry-bundle.js"), join(tree, "dist/cli/ferry.js")].find((file) =>
          existsSync(file)
        )!;
      const work = servedFolder(context);
      const env = { ...process.env, XDG_CACHE_HOME: join(work, "cache") };
      const serve = spawn(process.execPath, [
        ferryBin,
        "serve",
        join(work, "www"),
        ...["--port", "0", "--ws-port", "0", "--http-port", "0", "--no-web"],
      ], { stdio: ["ignore", "pipe", "ignore"], env });
      try {
        const label = via === "tcp" ? "TCP" : "Gateway";
        const [, base] = await lineOf(serve, new RegExp(`^${label}\\s+(\\S+)$`, "m"));
        const out = join(work, "out.bin");
        return {
          run: () =>
            timed(
              () => run(process.execPath, [ferryBin, "get", `${base}big.bin`, out, "--force"], env),
              fileSize(context),
              serve.pid,
            ),
          close: async () => {
            await stop(serve, "SIGINT");
            rmSync(work, { recursive: true, force: true });
          },
        };
      } catch (error) {
        serve.kill("SIGKILL");
        rmSync(work, { recursive: true, force: true });
        throw error;
      }
    },
  };
}

/** Signals `child` and waits for it to exit (SIGKILL after 10 s). */
async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once("exit", done));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

/** `curl -o FILE` from nginx, then (`verify`) `sha256sum FILE`; without it, curl alone. */
const curlFromNginx = (verify: boolean): Contestant => ({
  name: verify ? "curl-sha256sum" : "curl",
  description: "curl -o FILE from nginx (temporary config, sendfile)" +
    (verify ? ", then sha256sum FILE" : " alone, nothing verified (the stretch baseline)"),
  async open(context): Promise<OpenContestant> {
    const work = servedFolder(context);
    const port = await freePort();
    writeFileSync(
      join(work, "nginx.conf"),
      `worker_processes 1; daemon off; pid ${work}/nginx.pid; error_log ${work}/error.log;
events { worker_connections 64; }
http { access_log off; sendfile on;
  server { listen 127.0.0.1:${port}; root ${work}/www; } }
`,
    );
    const nginx = spawn("nginx", ["-c", join(work, "nginx.conf"), "-p", work], {
      stdio: "ignore",
    });
    const out = join(work, "out.bin");
    try {
      // Ready when it answers.
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          await run("curl", ["-sf", "-o", "/dev/null", `http://127.0.0.1:${port}/big.bin`]);
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((done) => setTimeout(done, 100));
        }
      }
      return {
        run: () =>
          timed(
            async () => {
              await run("curl", ["-sf", "-o", out, `http://127.0.0.1:${port}/big.bin`]);
              if (verify) await run("sha256sum", [out]);
            },
            fileSize(context),
            nginx.pid,
          ),
        close: async () => {
          await stop(nginx, "SIGTERM");
          rmSync(work, { recursive: true, force: true });
        },
      };
    } catch (error) {
      nginx.kill("SIGKILL");
      rmSync(work, { recursive: true, force: true });
      throw error;
    }
  },
});

const baseTree = process.env.FERRY_BENCH_BASE || undefined;

export const fileGetCase: BenchCase = {
  name: "file-get",
  description: "ferry get of a 256 MiB file from ferry serve (TCP, gateway) vs curl from nginx + " +
    "sha256sum (and curl alone), whole processes, wall time",
  servers: [],
  contestants: [
    ferryGet("ferry-get-tcp", "tcp"),
    ferryGet("ferry-get-gateway", "gateway"),
    curlFromNginx(true),
    curlFromNginx(false),
    // Before/after in one run: FERRY_BENCH_BASE=<another checkout, built> adds its `ferry get`.
    ...(baseTree === undefined ? [] : [
      ferryGet("ferry-get-tcp-base", "tcp", baseTree),
      ferryGet("ferry-get-gateway-base", "gateway", baseTree),
    ]),
  ],
  rows: [
    {
      name: "file-get-tcp-256mib",
      metric: "seconds",
      unit: "s",
      higherIsBetter: false,
      subject: "ferry-get-tcp",
      baseline: "curl-sha256sum",
      target: { op: "<=", ratio: 1.0 },
    },
    {
      name: "file-get-gateway-256mib",
      metric: "seconds",
      unit: "s",
      higherIsBetter: false,
      subject: "ferry-get-gateway",
      baseline: "curl-sha256sum",
      target: { op: "<=", ratio: 1.5 },
    },
    {
      name: "file-get-tcp-256mib-vs-curl",
      metric: "seconds",
      unit: "s",
      higherIsBetter: false,
      subject: "ferry-get-tcp",
      baseline: "curl",
      target: { op: "<=", ratio: 1.0 },
    },
    ...(baseTree === undefined ? [] : (["tcp", "gateway"] as const).flatMap((via) => [{
      name: `file-get-${via}-256mib-base`,
      metric: "seconds",
      unit: "s",
      higherIsBetter: false,
      subject: `ferry-get-${via}-base`,
      baseline: "curl-sha256sum",
    }, {
      name: `file-get-${via}-256mib-vs-base`,
      metric: "seconds",
      unit: "s",
      higherIsBetter: false,
      subject: `ferry-get-${via}`,
      baseline: `ferry-get-${via}-base`,
    }])),
  ],
};
