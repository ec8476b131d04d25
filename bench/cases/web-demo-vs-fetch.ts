/**
 * Issue 17 item 5: the web demo's download through the gateway against Chromium's own `fetch()`
 * of the same file from nginx, in the same directly launched Chromium
 * (`bench/harness/chromium-direct.ts`; under Playwright the page would receive WebSocket data
 * several times slower), one run, alternating rounds, a fresh page (the runner page reloaded)
 * before every download.
 *
 * One folder holds `big.bin` (256 MiB; 16 MiB with `--quick`) and `warm.bin` (the warm-up's
 * download, 16 MiB; 4 MiB with `--quick`), both deterministic (`cli/demo-data.ts`); the page
 * cache is warm after the first read. Served by:
 *
 * - `servers/web-demo-file-server.ts` (what `ferry serve` runs: folder catalog with per-chunk
 *   digests, file service on TCP, `ferry serve`'s gateway with target `files`), in a process of
 *   its own;
 * - nginx (`harness/nginx-static.ts`: temporary config on a free loopback port, sendfile, CORS).
 *
 * Contestants (`browser/web-demo-vs-fetch-page.ts`):
 *
 * - `web-demo`: the demo's own modules (`GatewayFiles`, `openDownloadSink`,
 *   `downloadThroughGateway`): the demo's default sessions and chunks in flight
 *   (`DEFAULT_CONNECTIONS`, `DEFAULT_IN_FLIGHT` of `web-demo/src/demo-config.ts`: 4 and 16), each
 *   chunk verified with WebCrypto as it arrives and written to OPFS; the whole file's digest
 *   checked. Timed from the click (sink opened) to the file closed.
 * - `fetch-nginx-sha256`: `fetch()` from nginx, body read whole, one WebCrypto SHA-256 at the end
 *   (compared with the file's): the same bytes fetched and verified.
 * - `fetch-nginx`: `fetch()` from nginx, body read to its end and counted, nothing verified.
 * - `web-demo-memory`: `web-demo` with the demo's in-memory sink instead of OPFS (recorded: what
 *   writing to OPFS costs).
 *
 * Every contestant records `chromiumCpuSeconds` (Chromium's process group during the download) and
 * `serverCpuSeconds`: the file server and gateway process for the demo, nginx (master and worker)
 * for the fetches, so the table's CPU column counts both ends. Also recorded: the renderer's main
 * thread's CPU (`chromiumRendererMainCpuSeconds`: WebSocket messages, the library, the page) and
 * the renderer's minor page faults (`chromiumRendererMinorFaults`: fresh memory touched, costly
 * in a VM). With `FERRY_BENCH_THREAD_LOG=FILE` every timed round appends one JSON line with the
 * CPU of every Chromium thread and the faults of every process (`harness/process-threads.ts`),
 * read every 100 ms so a worker that ended with the download (the demo's OPFS writer,
 * `renderer/DedicatedWorker`) keeps its seconds.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { join } from "node:path";
import { writeRandomFile } from "../../cli/demo-data.ts";
import { DEFAULT_CONNECTIONS, DEFAULT_IN_FLIGHT } from "../../web-demo/src/demo-config.ts";
import { type ChromiumDirect, sharedChromiumDirect } from "../harness/chromium-direct.ts";
import type { BenchCase, CaseContext, Contestant, OpenContestant } from "../harness/bench-case.ts";
import { type RunningNginx, startNginx } from "../harness/nginx-static.ts";
import { ScriptProcess } from "../harness/script-process.ts";
import { processCpuSeconds, processGroupMembers } from "../harness/cpu-meter.ts";
import { sampleThreads, threadDelta, ThreadWatch } from "../harness/process-threads.ts";

const page = "web-demo-vs-fetch-page.js";
const chromium = sharedChromiumDirect({ modules: ["bench/browser/web-demo-vs-fetch-page.ts"] });
/** The web demo's defaults, read from the demo so the bench runs what the page runs. */
const connections = DEFAULT_CONNECTIONS;
const inFlight = DEFAULT_IN_FLIGHT;
const MiB = 1024 * 1024;

interface Served {
  readonly size: number;
  readonly sha256: string;
}

/** Everything the contestants share: the folder, both servers and Chromium. */
interface Fixture {
  readonly browser: ChromiumDirect;
  readonly files: Record<"big.bin" | "warm.bin", Served>;
  readonly gatewayUrl: string;
  /** The same file service behind a gateway that reaches it over loopback TCP. */
  readonly gatewayTcpHopUrl: string;
  readonly nginxUrl: string;
  /** CPU seconds so far of the file service and gateway process, and of nginx. */
  readonly gatewayServerCpu: () => number | undefined;
  readonly nginxCpu: () => number | undefined;
}

let users = 0;
let opening: Promise<Fixture> | undefined;
let closeFixture: (() => Promise<void>) | undefined;

async function openFixture(context: CaseContext): Promise<Fixture> {
  const work = mkdtempSync(join(tmpdir(), "ferry-bench-web-demo-"));
  chmodSync(work, 0o755); // nginx's worker may run as another user
  const www = join(work, "www");
  mkdirSync(www, { mode: 0o755 });
  const served = (name: string, size: number, seed: number): Served => {
    const path = join(www, name);
    writeRandomFile(path, size, seed);
    return { size, sha256: createHash("sha256").update(readFileSync(path)).digest("hex") };
  };
  const files = {
    "big.bin": served("big.bin", (context.quick ? 16 : 256) * MiB, 0x5eed_0005),
    "warm.bin": served("warm.bin", (context.quick ? 4 : 16) * MiB, 0x5eed_0006),
  };
  let nginx: RunningNginx | undefined;
  let server: ScriptProcess | undefined;
  let browserAcquired = false;
  const close = async () => {
    await server?.stop();
    await nginx?.close();
    if (browserAcquired) await chromium.release();
    rmSync(work, { recursive: true, force: true });
  };
  try {
    const browser = await chromium.acquire();
    browserAcquired = true;
    const origin = new URL(browser.baseUrl).origin;
    server = ScriptProcess.node("bench/servers/web-demo-file-server.ts", [www, origin]);
    const hello = JSON.parse(await server.nextLine()) as {
      ready?: boolean;
      gateway?: string;
      gatewayTcpHop?: string;
    };
    if (hello.ready !== true || hello.gateway === undefined || hello.gatewayTcpHop === undefined) {
      throw new Error(`web-demo-file-server said ${JSON.stringify(hello)}`);
    }
    nginx = await startNginx(work, www);
    const serverPid = server.pid;
    closeFixture = close;
    return {
      browser,
      files,
      gatewayUrl: hello.gateway,
      gatewayTcpHopUrl: hello.gatewayTcpHop,
      nginxUrl: nginx.url,
      gatewayServerCpu: () => processCpuSeconds(serverPid),
      nginxCpu: () => nginx!.cpuSeconds(),
    };
  } catch (error) {
    await close();
    throw error;
  }
}

async function acquireFixture(context: CaseContext): Promise<Fixture> {
  users++;
  opening ??= openFixture(context);
  try {
    return await opening;
  } catch (error) {
    users--;
    opening = undefined;
    throw error;
  }
}

async function releaseFixture(): Promise<void> {
  if (users === 0 || --users > 0) return;
  const close = closeFixture;
  opening = closeFixture = undefined;
  await close?.();
}

/**
 * CPU seconds so far of Chromium's processes by kind (`Renderer`, `Network` service, `Gpu`,
 * `Browser`, `Other`), from `/proc`: where a download's browser-side CPU goes. A process that
 * exits between two readings takes its seconds with it (a diagnostic, not a total).
 */
function chromiumCpuByKind(pgid: number): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (const pid of processGroupMembers(pgid)) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      continue;
    }
    const type = /--type=([a-z-]+)/.exec(cmdline)?.[1];
    const kind = type === undefined
      ? "Browser"
      : type === "renderer"
      ? "Renderer"
      : type === "gpu-process"
      ? "Gpu"
      : type === "utility" && cmdline.includes("network.mojom.NetworkService")
      ? "Network"
      : "Other";
    kinds[kind] = (kinds[kind] ?? 0) + (processCpuSeconds(pid) ?? 0);
  }
  return kinds;
}

/** A contestant whose each run reloads the page, then times one page call. */
function pageContestant(
  name: string,
  description: string,
  call: (fixture: Fixture, file: "big.bin" | "warm.bin") => [string, unknown[]],
  serverCpu: (fixture: Fixture) => number | undefined,
): Contestant {
  return {
    name,
    description,
    async open(context): Promise<OpenContestant> {
      const fixture = await acquireFixture(context);
      return {
        async run(phase) {
          const { browser } = fixture;
          await browser.reload();
          const [exportName, args] = call(fixture, phase === "warmup" ? "warm.bin" : "big.bin");
          const before = browser.cpuSeconds();
          const kindsBefore = chromiumCpuByKind(browser.pid);
          const threadLog = process.env.FERRY_BENCH_THREAD_LOG;
          // Logged rounds read the threads every 100 ms: the OPFS writer worker ends with the
          // download and would take its CPU with it.
          const watch = threadLog && phase !== "warmup" ? new ThreadWatch(browser.pid) : undefined;
          const threadsBefore = watch === undefined ? sampleThreads(browser.pid) : undefined;
          const serverBefore = serverCpu(fixture);
          const figures = await browser.call<Record<string, number>>(page, exportName, args);
          const after = browser.cpuSeconds();
          const kindsAfter = chromiumCpuByKind(browser.pid);
          const threads = watch?.stop() ?? threadDelta(threadsBefore!, sampleThreads(browser.pid));
          const serverAfter = serverCpu(fixture);
          if (watch !== undefined && threadLog) {
            appendFileSync(threadLog, JSON.stringify({ contestant: name, ...threads }) + "\n");
          }
          const byKind: Record<string, number> = {};
          for (const [kind, seconds] of Object.entries(kindsAfter)) {
            byKind[`chromium${kind}CpuSeconds`] = seconds - (kindsBefore[kind] ?? 0);
          }
          return {
            ...figures,
            ...byKind,
            chromiumRendererMainCpuSeconds: threads.threads["renderer/chromium"] ?? 0,
            chromiumRendererMinorFaults: threads.minorFaults["renderer"] ?? 0,
            ...(before === undefined || after === undefined
              ? {}
              : { chromiumCpuSeconds: after - before }),
            ...(serverBefore === undefined || serverAfter === undefined
              ? {}
              : { serverCpuSeconds: serverAfter - serverBefore }),
          };
        },
        close: releaseFixture,
      };
    },
  };
}

const webDemo = pageContestant(
  "web-demo",
  `the web demo's download path (its modules): ${connections} gateway sessions to the file ` +
    `service of ferry serve, ${inFlight} chunks in flight, each verified with WebCrypto, to OPFS`,
  (fixture, file) => ["demoDownload", [fixture.gatewayUrl, file, connections, inFlight]],
  (fixture) => fixture.gatewayServerCpu(),
);

const webDemoMemory = pageContestant(
  "web-demo-memory",
  "the same download path with the demo's in-memory sink instead of OPFS (what OPFS costs)",
  (fixture, file) => [
    "demoDownload",
    [fixture.gatewayUrl, file, connections, inFlight, "memory"],
  ],
  (fixture) => fixture.gatewayServerCpu(),
);

const webDemoTcpHop = pageContestant(
  "web-demo-tcp-hop",
  "the same download path through a gateway that reaches the same file service over loopback " +
    "TCP (what ferry serve did before its gateway reached the file service in process)",
  (fixture, file) => ["demoDownload", [fixture.gatewayTcpHopUrl, file, connections, inFlight]],
  (fixture) => fixture.gatewayServerCpu(),
);

const fetchHashed = pageContestant(
  "fetch-nginx-sha256",
  "Chromium fetch() of the same file from nginx, body read whole, one WebCrypto SHA-256 at the end",
  (fixture, file) => [
    "fetchFile",
    [`${fixture.nginxUrl}${file}`, fixture.files[file].size, fixture.files[file].sha256],
  ],
  (fixture) => fixture.nginxCpu(),
);

const fetchPlain = pageContestant(
  "fetch-nginx",
  "Chromium fetch() of the same file from nginx, body read to its end and counted, no hash",
  (fixture, file) => ["fetchFile", [`${fixture.nginxUrl}${file}`, fixture.files[file].size]],
  (fixture) => fixture.nginxCpu(),
);

export const webDemoVsFetchCase: BenchCase = {
  name: "web-demo-vs-fetch",
  description: "the web demo's verified download of a 256 MiB file through the gateway vs " +
    "Chromium's fetch() of it from nginx (with and without a WebCrypto SHA-256), same Chromium, " +
    "launched directly, a fresh page per download",
  servers: [],
  contestants: [webDemo, fetchHashed, fetchPlain, webDemoMemory, webDemoTcpHop],
  rows: [{
    name: "web-demo-vs-fetch-256mib",
    metric: "mibPerSecond",
    unit: "MiB/s",
    higherIsBetter: true,
    subject: "web-demo",
    baseline: "fetch-nginx-sha256",
    target: { op: ">=", ratio: 1.0 },
  }, {
    name: "web-demo-vs-fetch-nohash-256mib",
    metric: "mibPerSecond",
    unit: "MiB/s",
    higherIsBetter: true,
    subject: "web-demo",
    baseline: "fetch-nginx",
    target: { op: ">=", ratio: 1.0 },
  }, {
    name: "web-demo-opfs-vs-memory-256mib",
    metric: "mibPerSecond",
    unit: "MiB/s",
    higherIsBetter: true,
    subject: "web-demo",
    baseline: "web-demo-memory",
  }, {
    name: "web-demo-vs-tcp-hop-256mib",
    metric: "mibPerSecond",
    unit: "MiB/s",
    higherIsBetter: true,
    subject: "web-demo",
    baseline: "web-demo-tcp-hop",
  }],
};
