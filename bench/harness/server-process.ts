/**
 * Starts the bench servers in a separate Node process, so the client under test and the servers do
 * not share one event loop (on a 2-core machine: one core each, roughly). Every contestant of a
 * case, Ferry and baselines alike, talks to the same server process over loopback TCP.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type ServerAddress, ServerDirectory } from "./server-directory.ts";
import { benchHost, readyLinePrefix } from "../servers/running-server.ts";

/** Options for {@linkcode startServerProcess}. */
export interface ServerProcessOptions {
  /** Server kinds to start (see `bench/servers/server-kinds.ts`). */
  readonly kinds: readonly string[];
  /** Extra Node flags for the server process, e.g. `--cpu-prof`. */
  readonly nodeFlags?: readonly string[];
  /** Give up if the servers are not ready after this long. */
  readonly readyTimeoutMs?: number;
}

/** A running server process. */
export interface ServerProcess {
  readonly directory: ServerDirectory;
  readonly pid: number;
  /** Stops the servers and waits for the process to exit (kills it if it does not). */
  stop(): Promise<void>;
}

const serverEntry = fileURLToPath(new URL("../servers/server-process-main.ts", import.meta.url));

/** Spawns `node --import tsx bench/servers/server-process-main.ts KIND...` and waits until ready. */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const tsx = import.meta.resolve("tsx");
  const child = spawn(
    process.execPath,
    [...(options.nodeFlags ?? []), "--import", tsx, serverEntry, ...options.kinds],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code))
  );
  try {
    const ports = await waitForReadyLine(child, exited, options.readyTimeoutMs ?? 60_000);
    const addresses = new Map<string, ServerAddress>();
    for (const [kind, port] of Object.entries(ports)) {
      addresses.set(kind, { host: benchHost, port });
    }
    return {
      directory: new ServerDirectory(addresses),
      pid: child.pid ?? -1,
      stop: () => stopChild(child, exited),
    };
  } catch (error) {
    await stopChild(child, exited);
    throw error;
  }
}

function waitForReadyLine(
  child: ChildProcess,
  exited: Promise<number | null>,
  timeoutMs: number,
): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(
      () => reject(new Error(`bench server process was not ready after ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onData = (data: Buffer) => {
      buffered += data.toString("utf8");
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.startsWith(readyLinePrefix)) {
          clearTimeout(timer);
          child.stdout?.off("data", onData);
          child.stdout?.resume(); // Keep draining so later output never blocks the server.
          resolve(JSON.parse(line.slice(readyLinePrefix.length)) as Record<string, number>);
          return;
        }
        if (line.length > 0) process.stderr.write(`[bench server] ${line}\n`);
      }
    };
    child.stdout?.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`bench server process exited with code ${code} before it was ready`));
    });
  });
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.stdin?.end();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const gaveUp = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), 5_000);
  });
  const outcome = await Promise.race([exited, gaveUp]);
  clearTimeout(timer);
  if (outcome === "timeout") {
    child.kill("SIGKILL");
    await exited;
  }
}
