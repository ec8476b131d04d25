/**
 * The interop programs (`interop/server.ts`, `interop/client.ts`) as child processes under Node
 * (through tsx), Deno or Bun (which runs TypeScript itself), for cross-runtime tests over real
 * loopback sockets. Other programs (workerd) join the same group through `spawn`. Every process is
 * tracked by a {@linkcode ProcessGroup} whose `stopAll()` ends them all (SIGTERM, then SIGKILL),
 * so a failing test leaves nothing running.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

export type InteropRuntimeName = "node" | "deno" | "bun";

const root = fileURLToPath(new URL("../../", import.meta.url));
const denoBinary = join(root, "node_modules", ".bin", "deno");
const bunBinary = join(root, "node_modules", ".bin", "bun");

/** How long a process gets after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 5_000;

/** The command line that runs `interop/<program>.ts` under `runtime`. */
export function interopCommand(
  runtime: InteropRuntimeName,
  program: "server" | "client",
  args: readonly string[],
): { command: string; args: string[] } {
  const script = `interop/${program}.ts`;
  switch (runtime) {
    case "node":
      return { command: process.execPath, args: ["--import", "tsx", script, ...args] };
    case "deno":
      return { command: denoBinary, args: ["run", "-A", "--no-check", script, ...args] };
    case "bun":
      return { command: bunBinary, args: [script, ...args] };
  }
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One running interop program with its output so far. */
export class InteropProcess {
  readonly label: string;
  readonly child: ChildProcess;
  /** Settles when the process has exited. */
  readonly exited: Promise<Exit>;
  #stdout = "";
  #stderr = "";
  #waiters = new Set<() => void>();
  /** All output has been read and the process has exited. */
  #ended = false;

  constructor(label: string, child: ChildProcess) {
    this.label = label;
    this.child = child;
    child.stdout!.setEncoding("utf8").on("data", (text: string) => {
      this.#stdout += text;
      for (const wake of this.#waiters) wake();
    });
    child.stderr!.setEncoding("utf8").on("data", (text: string) => this.#stderr += text);
    this.exited = new Promise((resolve) => {
      child.once("error", (error) => {
        this.#stderr += `\n[could not run: ${error.message}]`;
        resolve({ code: null, signal: null });
      });
      child.once("close", (code: number | null, signal: NodeJS.Signals | null) => {
        resolve({ code, signal });
      });
    });
    this.exited.then(() => {
      this.#ended = true;
      for (const wake of this.#waiters) wake();
    });
  }

  get stdout(): string {
    return this.#stdout;
  }

  get stderr(): string {
    return this.#stderr;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Both streams, labelled, for assertion messages. */
  describe(): string {
    return `── ${this.label} stdout:\n${this.#stdout}── ${this.label} stderr:\n${this.#stderr}`;
  }

  /**
   * Resolves with the first stdout line matching `pattern`; rejects (with the output) if the
   * process exits first or nothing matches within `timeoutMs`.
   */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    const anchored = new RegExp(
      pattern.source,
      pattern.flags.includes("m") ? pattern.flags : `${pattern.flags}m`,
    );
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          finish(
            new Error(
              `${this.label} printed no ${pattern} within ${timeoutMs} ms\n${this.describe()}`,
            ),
          ),
        timeoutMs,
      );
      const finish = (error?: Error, match?: RegExpExecArray) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        if (error) reject(error);
        else resolve(match!);
      };
      const check = () => {
        const match = anchored.exec(this.#stdout);
        if (match) return finish(undefined, match);
        if (this.#ended) {
          finish(new Error(`${this.label} exited before printing ${pattern}\n${this.describe()}`));
        }
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** SIGTERM, then SIGKILL after a grace period; resolves with how it exited. */
  async stop(): Promise<Exit> {
    if (this.running) {
      this.child.kill("SIGTERM");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          if (this.running) this.child.kill("SIGKILL");
          resolve();
        }, STOP_GRACE_MS);
      });
      await Promise.race([this.exited, killed]);
      clearTimeout(timer);
    }
    return await this.exited;
  }
}

/** Starts interop programs and remembers them, so they can all be stopped at the end. */
export class ProcessGroup {
  readonly #processes = new Set<InteropProcess>();

  start(
    runtime: InteropRuntimeName,
    program: "server" | "client",
    args: readonly string[],
  ): InteropProcess {
    const { command, args: argv } = interopCommand(runtime, program, args);
    return this.spawn(`${runtime} ${program} ${args.join(" ")}`.trim(), command, argv);
  }

  /** Starts any program (in the repository's root) as a member of the group. */
  spawn(label: string, command: string, args: readonly string[], cwd = root): InteropProcess {
    const child = spawn(command, args, {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    const started = new InteropProcess(label, child);
    this.#processes.add(started);
    return started;
  }

  /** Stops every process still running (SIGTERM, then SIGKILL). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#processes].map((started) => started.stop()));
    this.#processes.clear();
  }
}

/** Where a server said it listens, by transport: `tcp` from `LISTENING <host> <port>`, others by URL. */
export interface ServerAddresses {
  readonly tcp: { readonly host: string; readonly port: number };
  readonly ws?: string;
  readonly tls?: string;
}

/** Waits for the server's LISTENING lines for each transport in `transports`. */
export async function serverAddresses(
  server: InteropProcess,
  transports: readonly ("tcp" | "ws" | "tls")[],
  timeoutMs: number,
): Promise<ServerAddresses> {
  const tcp = await server.waitForLine(/^LISTENING (\S+) (\d+)$/, timeoutMs);
  const url = async (scheme: string) =>
    (await server.waitForLine(new RegExp(`^LISTENING (${scheme}://\\S+)$`), timeoutMs))[1]!;
  return {
    tcp: { host: tcp[1]!, port: Number(tcp[2]) },
    ...(transports.includes("ws") ? { ws: await url("ws") } : {}),
    ...(transports.includes("tls") ? { tls: await url("tls") } : {}),
  };
}
