/**
 * Runs the `ferry` CLI as a child process (under Node through `cli/ferry-bin.mjs`, under Deno
 * with `deno run -A cli/ferry.ts`, or under Bun from npm with `bun cli/ferry.ts`) for the CLI tests: one-shot commands with their exit status
 * and output, and `ferry serve` kept running with the URLs it printed.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import process from "node:process";

export const root = fileURLToPath(new URL("../..", import.meta.url));

export type CliRuntimeName = "node" | "deno" | "bun";

function command(runtime: CliRuntimeName, args: readonly string[]): [string, string[]] {
  if (runtime === "deno") {
    return [join(root, "node_modules/.bin/deno"), [
      "run",
      "-A",
      join(root, "cli/ferry.ts"),
      ...args,
    ]];
  }
  // Bun runs the TypeScript entry point itself, as a user of Bun would.
  if (runtime === "bun") {
    return [join(root, "node_modules/.bin/bun"), [join(root, "cli/ferry.ts"), ...args]];
  }
  const node = "Deno" in globalThis ? "node" : process.execPath;
  return [node, [join(root, "cli/ferry-bin.mjs"), ...args]];
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts `ferry <args>`; `onStderr` sees stderr as it arrives (to interrupt at a moment). */
export function startFerry(
  args: readonly string[],
  options: {
    readonly runtime?: CliRuntimeName;
    readonly cwd?: string;
    readonly onStderr?: (text: string, child: ChildProcess) => void;
  } = {},
): { child: ChildProcess; done: Promise<CliResult> } {
  const [program, argv] = command(options.runtime ?? "node", args);
  const child = spawn(program, argv, {
    cwd: options.cwd ?? root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (text: string) => (stdout += text));
  child.stderr!.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
    options.onStderr?.(stderr, child);
  });
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** Runs `ferry <args>` to completion (killed after `timeoutMs`). */
export async function runFerry(
  args: readonly string[],
  options: {
    readonly runtime?: CliRuntimeName;
    readonly cwd?: string;
    readonly timeoutMs?: number;
  } = {},
): Promise<CliResult> {
  const { child, done } = startFerry(args, options);
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
  try {
    return await done;
  } finally {
    clearTimeout(timer);
  }
}

export interface RunningServe {
  readonly tcp: string;
  readonly ws: string;
  /** With `--tls-port`. */
  readonly tls: string | undefined;
  readonly gateway: string;
  /** The web demo's URL (with --no-web, not printed: the gateway's HTTP port). */
  readonly web: string;
  readonly stdout: () => string;
  /** Stops serve with SIGINT and resolves with its result. */
  stop(): Promise<CliResult>;
}

/** Starts `ferry serve <args>` and waits for the URLs it prints. */
export async function startServe(
  args: readonly string[],
  options: { readonly runtime?: CliRuntimeName; readonly timeoutMs?: number } = {},
): Promise<RunningServe> {
  let out = "";
  const { child, done } = startFerry(["serve", ...args], options);
  child.stdout!.on("data", (text: string) => (out += text));
  const url = (label: string) => new RegExp(`^${label}\\s+(\\S+)$`, "m").exec(out)?.[1];
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  // "Origins" is the last line serve prints ("Web demo" is left out with --no-web).
  while (!/^Origins\s/m.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      const result = await done;
      throw new Error(`ferry serve did not start (exit ${result.code}): ${result.stderr}${out}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    tcp: url("TCP")!,
    ws: url("WebSocket")!,
    tls: url("TLS"),
    gateway: url("Gateway")!,
    // With --no-web: the gateway's HTTP port all the same.
    web: url("Web demo") ?? url("Gateway")!.replace(/^ws:(.*?\/)gateway\/.*$/, "http:$1"),
    stdout: () => out,
    stop: () => {
      child.kill("SIGINT");
      return done;
    },
  };
}
