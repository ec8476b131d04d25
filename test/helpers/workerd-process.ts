/**
 * The interop Worker (`interop/worker.ts`) under workerd, as a Cloudflare Workers user runs it:
 * Ferry's sources bundled by esbuild (`cloudflare:sockets` left to the runtime), served by the
 * `workerd` binary from npm with a config whose outbound network allows `local` (loopback, where
 * the interop servers listen; workerd refuses it by default). workerd listens on a Unix socket
 * in a fresh directory, so no TCP port has to be picked before it starts; requests go to it
 * through `node:http`.
 *
 * @module
 */

import { build } from "esbuild";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { InteropProcess, ProcessGroup } from "./interop-processes.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const workerdBinary = join(root, "node_modules", ".bin", "workerd");

/** A compatibility date the pinned workerd supports (it refuses dates after its own build). */
const COMPATIBILITY_DATE = "2026-04-01";

function config(socketPath: string): string {
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "unix:${socketPath}", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [(name = "worker", esModule = embed "worker.js")],
  compatibilityDate = "${COMPATIBILITY_DATE}",
  globalOutbound = "internet",
);
`;
}

/** A running interop Worker. */
export interface InteropWorker {
  readonly process: InteropProcess;
  /** GETs `path` from the Worker; rejects if no complete answer comes within `timeoutMs`. */
  get(path: string, timeoutMs: number): Promise<{ status: number; body: string }>;
  /** Removes the bundle, config and socket directory (after the process has stopped). */
  removeFiles(): void;
}

/** Bundles the interop Worker, starts workerd in `group`, and waits until it accepts requests. */
export async function startInteropWorker(
  group: ProcessGroup,
  startupTimeoutMs: number,
): Promise<InteropWorker> {
  const dir = mkdtempSync(join(tmpdir(), "ferry-workerd-"));
  const socketPath = join(dir, "http.sock");
  await build({
    entryPoints: [join(root, "interop", "worker.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    external: ["cloudflare:sockets"],
    outfile: join(dir, "worker.js"),
    logLevel: "warning",
  });
  writeFileSync(join(dir, "config.capnp"), config(socketPath));
  const process = group.spawn("workerd serve", workerdBinary, ["serve", "config.capnp"], dir);
  await waitUntilAccepting(process, socketPath, startupTimeoutMs);
  return {
    process,
    get: (path, timeoutMs) => get(socketPath, path, timeoutMs),
    removeFiles: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Polls the Unix socket until workerd accepts a connection (it prints nothing when ready). */
async function waitUntilAccepting(
  process: InteropProcess,
  socketPath: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (!process.running) throw new Error(`workerd exited at startup\n${process.describe()}`);
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = connect(socketPath);
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (accepted) return;
    if (performance.now() > deadline) {
      throw new Error(`workerd did not listen within ${timeoutMs} ms\n${process.describe()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function get(
  socketPath: string,
  path: string,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, headers: { host: "worker" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (text: string) => body += text);
      res.on("end", () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on("error", fail);
    });
    const timer = setTimeout(
      () => req.destroy(new Error(`GET ${path} from workerd: no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    function fail(error: Error) {
      clearTimeout(timer);
      reject(error);
    }
    req.on("error", fail);
    req.end();
  });
}
