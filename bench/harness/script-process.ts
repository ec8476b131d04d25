/**
 * Runs a bench script in a process of its own — under Deno (`node_modules/.bin/deno run -A SCRIPT
 * ARGS...`) or Node (`node --import ./bench/harness/ts-loader.mjs SCRIPT ARGS...`) — and talks to it in lines: the runner
 * writes request lines to its stdin and reads reply lines from its stdout. Used by the cases whose
 * clients must not share the runner's event loop or heap. Closing stdin stops the script (every
 * such bench script exits when its stdin ends); `stop` kills it if it does not.
 *
 * @module
 */

import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const denoBinary = fileURLToPath(new URL("../../node_modules/.bin/deno", import.meta.url));
/**
 * Node scripts load the TypeScript through `ts-loader.mjs` (esbuild, types stripped, as `dist/`),
 * not tsx, whose `keepNames` gives every closure a property dictionary of its own: it inflated a
 * server's heap per connection twofold and taxes every closure a hot path makes.
 */
const tsLoader = new URL("./ts-loader.mjs", import.meta.url).href;

/**
 * Extra Node flags for every Node child process, from `FERRY_BENCH_NODE_FLAGS` (space-separated),
 * e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`: Node refuses `--cpu-prof` in `NODE_OPTIONS`.
 */
function childNodeFlags(): string[] {
  return (process.env.FERRY_BENCH_NODE_FLAGS ?? "").split(/\s+/).filter((flag) => flag !== "");
}

/** A running bench script. */
export class ScriptProcess {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #exited: Promise<number | null>;
  readonly #what: string;
  readonly #lines: string[] = [];
  #waiting: { resolve(line: string): void; reject(error: Error): void } | undefined;
  #ended: Error | undefined;

  private constructor(command: string, commandArgs: readonly string[], what: string) {
    this.#what = what;
    this.#child = spawn(command, commandArgs, { cwd: repoRoot, stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    this.#child.stderr.setEncoding("utf8").on("data", (text: string) => {
      stderr = (stderr + text).slice(-4_000);
    });
    this.#exited = new Promise((resolve) => this.#child.once("close", (code) => resolve(code)));
    this.#child.once("error", (error) => this.#end(error));
    void this.#exited.then((code) =>
      this.#end(new Error(`${this.#what} exited with code ${code}${stderr ? `:\n${stderr}` : ""}`))
    );
    let pending = "";
    this.#child.stdout.setEncoding("utf8").on("data", (text: string) => {
      pending += text;
      let newline: number;
      while ((newline = pending.indexOf("\n")) >= 0) {
        this.#push(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
      }
    });
  }

  /** Starts `script` (relative to the repository root) under Deno with `args`. */
  static deno(script: string, args: readonly string[]): ScriptProcess {
    const what = `deno ${script} ${args.join(" ")}`;
    return new ScriptProcess(denoBinary, ["run", "-A", "--quiet", script, ...args], what);
  }

  /**
   * Starts `script` (relative to the repository root) under this Node, through `ts-loader.mjs`, with extra
   * Node `flags` (e.g. `--expose-gc`). With `raiseDescriptorLimit` it starts through `sh` after
   * `ulimit -n "$(ulimit -Hn)"`: the soft descriptor limit raised to the hard one, as a server's
   * start script (or systemd's `LimitNOFILE`) would. `loader` replaces `ts-loader.mjs` (a module
   * URL, e.g. `ts-loader-without-observability.mjs`).
   */
  static node(
    script: string,
    args: readonly string[],
    options: {
      readonly flags?: readonly string[];
      readonly raiseDescriptorLimit?: boolean;
      readonly loader?: string;
    } = {},
  ): ScriptProcess {
    const loader = options.loader ?? tsLoader;
    const nodeArgs = [...childNodeFlags(), ...(options.flags ?? []), "--import", loader, script];
    nodeArgs.push(...args);
    const what = `node ${script} ${args.join(" ")}`;
    if (options.raiseDescriptorLimit !== true) {
      return new ScriptProcess(process.execPath, nodeArgs, what);
    }
    const raise = 'ulimit -n "$(ulimit -Hn)" && exec "$0" "$@"';
    return new ScriptProcess("/bin/sh", ["-c", raise, process.execPath, ...nodeArgs], what);
  }

  /** Process id, for CPU accounting. */
  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /** The next line the script prints; rejects if it exits first. */
  nextLine(): Promise<string> {
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.#ended !== undefined) return Promise.reject(this.#ended);
    if (this.#waiting !== undefined) throw new Error(`${this.#what}: already waiting for a line`);
    return new Promise((resolve, reject) => (this.#waiting = { resolve, reject }));
  }

  /** Writes one request line. */
  send(line: string): void {
    this.#child.stdin.write(`${line}\n`);
  }

  /** Waits for the `{"ready":true}` line a bench client prints once connected. */
  async ready(): Promise<void> {
    const hello = JSON.parse(await this.nextLine()) as { ready?: boolean };
    if (hello.ready !== true) throw new Error(`${this.#what}: said ${JSON.stringify(hello)}`);
  }

  /**
   * Sends a bench client a chunk count and returns the numbers of its one-line JSON reply; a reply
   * `{"error": "..."}` becomes an Error.
   */
  transfer(count: number): Promise<Record<string, number>> {
    return this.request(String(count));
  }

  /**
   * Sends one request line and returns the numbers of the one-line JSON reply; a reply
   * `{"error": "..."}` becomes an Error.
   */
  async request(line: string): Promise<Record<string, number>> {
    this.send(line);
    const reply = JSON.parse(await this.nextLine()) as Record<string, number | string>;
    if (typeof reply.error === "string") throw new Error(`${this.#what}: ${reply.error}`);
    const figures: Record<string, number> = {};
    for (const [key, value] of Object.entries(reply)) {
      if (typeof value === "number") figures[key] = value;
    }
    return figures;
  }

  /** Closes stdin and waits for the exit (kills the process after 5 s). */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.stdin.end();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gaveUp = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), 5_000);
    });
    const outcome = await Promise.race([this.#exited, gaveUp]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      this.#child.kill("SIGKILL");
      await this.#exited;
    }
  }

  #push(line: string): void {
    const waiting = this.#waiting;
    if (waiting === undefined) {
      this.#lines.push(line);
      return;
    }
    this.#waiting = undefined;
    waiting.resolve(line);
  }

  #end(error: Error): void {
    this.#ended ??= error;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.reject(this.#ended);
  }
}
