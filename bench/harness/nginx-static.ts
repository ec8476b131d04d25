/**
 * nginx serving one folder on a free loopback port from a temporary config (as `cases/file-get.ts`
 * runs it): one worker, sendfile, no access log, and `Access-Control-Allow-Origin: *` so a bench
 * page of another origin may read the bodies with `fetch()`. Needs `nginx` on the PATH.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { join } from "node:path";
import { processCpuSeconds } from "./cpu-meter.ts";

export interface RunningNginx {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  readonly pid: number;
  /** CPU seconds of nginx's master and worker processes so far (undefined without `/proc`). */
  cpuSeconds(): number | undefined;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once("exit", done));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Serves `root` (readable by nginx's worker) with nginx; its config, pid and error log go to
 * `work`. Resolves once nginx answers `GET /probe` (any status).
 */
export async function startNginx(work: string, root: string): Promise<RunningNginx> {
  const port = await freePort();
  writeFileSync(
    join(work, "nginx.conf"),
    `worker_processes 1; daemon off; pid ${work}/nginx.pid; error_log ${work}/error.log;
events { worker_connections 64; }
http { access_log off; sendfile on; default_type application/octet-stream;
  server { listen 127.0.0.1:${port}; root ${root};
    add_header Access-Control-Allow-Origin * always; } }
`,
  );
  const nginx = spawn("nginx", ["-c", join(work, "nginx.conf"), "-p", work], { stdio: "ignore" });
  const failed = new Promise<never>((_, fail) => {
    nginx.once("error", fail);
    nginx.once("exit", (code) => fail(new Error(`nginx exited ${code} (see ${work}/error.log)`)));
  });
  failed.catch(() => {});
  const url = `http://127.0.0.1:${port}/`;
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const answered = await Promise.race([
        fetch(`${url}probe`).then((response) => response.body?.cancel()).then(
          () => true,
          () => false,
        ),
        failed,
      ]);
      if (answered) break;
      if (Date.now() > deadline) throw new Error(`nginx did not answer on ${url} within 30 s`);
      await new Promise((done) => setTimeout(done, 100));
    }
  } catch (error) {
    nginx.kill("SIGKILL");
    throw error;
  }
  const pid = nginx.pid ?? -1;
  return { url, pid, cpuSeconds: () => treeCpuSeconds(pid), close: () => stop(nginx) };
}

/** CPU seconds of `pid` and its direct children (nginx's workers). */
function treeCpuSeconds(pid: number): number | undefined {
  let children: number[];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/)
      .filter((text) => text !== "").map(Number);
  } catch {
    return undefined;
  }
  let total = processCpuSeconds(pid);
  for (const child of children) {
    if (total === undefined) break;
    total += processCpuSeconds(child) ?? 0;
  }
  return total;
}
