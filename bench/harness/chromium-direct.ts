/**
 * Chromium for benchmarks, launched DIRECTLY (`/usr/bin/chromium --headless ... URL`), not through
 * Playwright: a DevTools-protocol session slows WebSocket reception in the page about 7× here, so
 * figures measured under Playwright say more about Playwright than about Ferry.
 *
 *     const chromium = await launchChromiumDirect({ modules: ["bench/browser/x-page.ts"] });
 *     try {
 *       const figures = await chromium.call<{ mibPerSecond: number }>("x-page.js", "run", [url]);
 *     } finally {
 *       await chromium.close(); // kills Chromium's whole process group, removes its profile
 *     }
 *
 * - The page modules are built with `scripts/build-browser.ts` (`buildBrowserModule`, linked
 *   against the shipped `ferry.js`, so the page runs the real browser bundle) into a temporary
 *   directory, served with the runner page by a small HTTP server on 127.0.0.1.
 * - The runner page long-polls `POST /job` for work; each job imports a page module, awaits one of
 *   its exports with JSON arguments and `POST`s the JSON result (or the error's stack) back. Modules
 *   stay loaded between jobs, so a page module may keep connections open across calls. Uncaught
 *   page errors are posted to `/log` and collected in `log`.
 * - Chromium runs in its own process group with a temporary `--user-data-dir`; `close()` (and, as
 *   a fallback, this process's exit or SIGINT/SIGTERM/SIGHUP) kills the whole group and removes the
 *   profile and the build: nothing is left running. `cpuSeconds()` sums the group's CPU time
 *   (browser, renderer, network service).
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import process from "node:process";
import {
  buildBrowserLibrary,
  buildBrowserModule,
  LIBRARY_FILE,
} from "../../scripts/build-browser.ts";
import { processGroupCpuSeconds, processGroupMembers } from "./cpu-meter.ts";

/** Debian's Chromium (from apt; never a downloaded browser); `FERRY_CHROMIUM` overrides it. */
export const defaultChromiumPath = process.env.FERRY_CHROMIUM ?? "/usr/bin/chromium";

/** Flags for a quiet, headless, unthrottled Chromium (the profile dir is added per launch). */
export const chromiumBenchFlags: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-background-timer-throttling",
  "--disable-renderer-backgrounding",
  "--disable-crash-reporter",
  "--disable-breakpad",
];

export interface ChromiumDirectOptions {
  /** Page modules (repository-relative `.ts` paths), each served as `<basename>.js`. */
  readonly modules: readonly string[];
  /** The Chromium binary (default {@linkcode defaultChromiumPath}). */
  readonly chromiumPath?: string;
  /** Flags added after {@linkcode chromiumBenchFlags}. */
  readonly extraFlags?: readonly string[];
  /** How long Chromium may take to start and load the runner page (default 60 s). */
  readonly startTimeoutMs?: number;
}

/** A running Chromium with the runner page loaded. */
export interface ChromiumDirect {
  /** Chromium's process id, which is also its process group id. */
  readonly pid: number;
  /** Where the page modules are served (ends in `/`). */
  readonly baseUrl: string;
  /** Chromium's temporary profile directory (removed by `close()`). */
  readonly profileDir: string;
  /** Uncaught page errors and the tail of Chromium's stderr, for error messages. */
  readonly log: readonly string[];
  /**
   * Imports `module` (a served `.js` name) in the page and awaits `exportName(...args)`; args and
   * result travel as JSON. Rejects with the page's error, on timeout (default 180 s) or if
   * Chromium exits.
   */
  call<T>(
    module: string,
    exportName: string,
    args?: readonly unknown[],
    timeoutMs?: number,
  ): Promise<T>;
  /** CPU seconds used so far by Chromium's live processes (undefined without `/proc`). */
  cpuSeconds(): number | undefined;
  /** Kills Chromium's process group, stops the server, removes the profile and the build. */
  close(): Promise<void>;
}

const RUNNER_PAGE = `<!doctype html><meta charset=utf-8><title>Ferry bench</title>
<script type=module>
const post = (path, body) => fetch(path, { method: "POST", body: JSON.stringify(body) });
addEventListener("error", (event) => post("/log", { line: "pageerror: " + event.message }));
addEventListener("unhandledrejection", (event) =>
  post("/log", { line: "unhandledrejection: " + (event.reason?.stack ?? event.reason) }));
for (;;) {
  let job;
  try {
    job = await (await fetch("/job", { method: "POST" })).json();
  } catch {
    break; // the harness is gone
  }
  if (job.stop) break;
  let result;
  try {
    const module = await import("/" + job.module);
    result = { ok: true, value: await module[job.exportName](...job.args) };
  } catch (error) {
    result = { ok: false, error: String(error?.stack ?? error) };
  }
  await post("/result/" + job.id, result);
}
</script>
`;

interface Job {
  readonly id: number;
  readonly module: string;
  readonly exportName: string;
  readonly args: readonly unknown[];
}

interface PendingCall {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

const callTimeoutMs = 180_000;
const killGraceMs = 5_000;

/** Builds the page modules, serves them and launches Chromium on the runner page. */
export async function launchChromiumDirect(
  options: ChromiumDirectOptions,
): Promise<ChromiumDirect> {
  const chromiumPath = options.chromiumPath ?? defaultChromiumPath;
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `Chromium is not installed at ${chromiumPath}: run 'apt-get install -y chromium' ` +
        `(.ci/run does this in CI) or set FERRY_CHROMIUM; the bench never downloads a browser`,
    );
  }
  const session = new ChromiumSession();
  try {
    await session.start(chromiumPath, options);
    return session;
  } catch (error) {
    await session.close();
    throw error;
  }
}

class ChromiumSession implements ChromiumDirect {
  readonly log: string[] = [];
  baseUrl = "";
  #buildDir: string | undefined;
  #profileDir: string | undefined;
  #server: Server | undefined;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #exitError: Error | undefined;
  #jobs: Job[] = [];
  #poll: ServerResponse | undefined;
  #pending = new Map<number, PendingCall>();
  #nextId = 1;
  #ready: PendingCall | undefined;
  #closed = false;
  readonly #killSync = () => this.#killGroup("SIGKILL");
  readonly #onSignal = (signal: NodeJS.Signals) => {
    this.#cleanupSync();
    process.kill(process.pid, signal); // the listener is gone: default handling ends the process
  };

  get profileDir(): string {
    return this.#profileDir ?? "";
  }

  get pid(): number {
    return this.#child?.pid ?? -1;
  }

  async start(chromiumPath: string, options: ChromiumDirectOptions): Promise<void> {
    const buildDir = mkdtempSync(join(tmpdir(), "ferry-bench-page-"));
    this.#buildDir = buildDir;
    const library = await buildBrowserLibrary({ outdir: buildDir });
    for (const module of options.modules) {
      const name = basename(module).replace(/\.ts$/, ".js");
      if (name === LIBRARY_FILE) throw new Error(`A page module may not be named ${name}`);
      await buildBrowserModule(module, join(buildDir, name), library);
    }
    const server = createServer((request, response) => this.#handle(request, response));
    server.requestTimeout = 0; // the job poll waits as long as there is no work
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

    this.#profileDir = mkdtempSync(join(tmpdir(), "ferry-bench-chromium-"));
    const ready = new Promise<unknown>((resolve, reject) => (this.#ready = { resolve, reject }));
    process.once("exit", this.#killSync);
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      process.once(signal, this.#onSignal);
    }
    const child = spawn(chromiumPath, [
      ...chromiumBenchFlags,
      ...(options.extraFlags ?? []),
      `--user-data-dir=${this.#profileDir}`,
      this.baseUrl,
    ], { detached: true, stdio: ["ignore", "ignore", "pipe"] });
    this.#child = child;
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (text: string) => {
      stderr = (stderr + text).slice(-4_000);
    });
    this.#exited = new Promise((resolve) => {
      child.once("close", (code, signal) => {
        this.#exitError = new Error(
          `Chromium exited (${signal ?? `code ${code}`})${stderr ? `:\n${stderr}` : ""}`,
        );
        this.#failAll(this.#exitError);
        resolve();
      });
    });
    child.once("error", (error) => this.#failAll(error));
    const timeoutMs = options.startTimeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      this.#ready?.reject(
        new Error(`Chromium did not load ${this.baseUrl} within ${timeoutMs} ms:\n${stderr}`),
      );
    }, timeoutMs);
    try {
      await ready;
    } finally {
      clearTimeout(timer);
    }
  }

  call<T>(
    module: string,
    exportName: string,
    args: readonly unknown[] = [],
    timeoutMs = callTimeoutMs,
  ): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("Chromium session is closed"));
    if (this.#exitError !== undefined) return Promise.reject(this.#exitError);
    const id = this.#nextId++;
    const what = `${module} ${exportName}(${JSON.stringify(args).slice(1, -1)})`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`Chromium: ${what} did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          const log = this.log.length > 0 ? `\npage log:\n${this.log.join("\n")}` : "";
          reject(new Error(`Chromium: ${what} failed: ${error.message}${log}`, { cause: error }));
        },
      });
      this.#jobs.push({ id, module, exportName, args });
      this.#dispatch();
    });
  }

  cpuSeconds(): number | undefined {
    return this.pid > 0 ? processGroupCpuSeconds(this.pid) : undefined;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#failAll(new Error("Chromium session closed"));
    this.#poll?.end(JSON.stringify({ stop: true }));
    this.#poll = undefined;
    if (this.#child !== undefined && this.#child.exitCode === null) {
      this.#killGroup("SIGTERM");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const gaveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, killGraceMs)));
      await Promise.race([this.#exited, gaveUp]);
      clearTimeout(timer);
    }
    this.#killGroup("SIGKILL"); // whatever of the group outlived the browser process
    await this.#exited;
    const pid = this.pid;
    for (let waited = 0; pid > 0 && waited < killGraceMs; waited += 20) {
      if (processGroupMembers(pid).length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const server = this.#server;
    if (server !== undefined) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    this.#cleanupSync();
  }

  #cleanupSync(): void {
    this.#killGroup("SIGKILL");
    process.off("exit", this.#killSync);
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      process.off(signal, this.#onSignal);
    }
    for (const dir of [this.#profileDir, this.#buildDir]) {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    }
  }

  #killGroup(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is already gone
    }
  }

  #failAll(error: Error): void {
    this.#ready?.reject(error);
    this.#ready = undefined;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const call of pending) call.reject(error);
  }

  #dispatch(): void {
    const poll = this.#poll;
    const job = this.#jobs.shift();
    if (poll === undefined || job === undefined) {
      if (job !== undefined) this.#jobs.unshift(job);
      return;
    }
    this.#poll = undefined;
    poll.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
    poll.end(JSON.stringify(job));
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    const path = new URL(request.url ?? "/", this.baseUrl).pathname;
    if (request.method === "GET") {
      this.#serveFile(path, response);
      return;
    }
    if (request.method !== "POST") {
      response.writeHead(405).end();
      return;
    }
    if (path === "/job") {
      if (this.#closed) {
        response.end(JSON.stringify({ stop: true }));
        return;
      }
      this.#poll?.end(JSON.stringify({ stop: true })); // a reloaded page: the old poll ends
      this.#poll = response;
      this.#ready?.resolve(undefined);
      this.#ready = undefined;
      this.#dispatch();
      return;
    }
    let body = "";
    request.setEncoding("utf8").on("data", (text: string) => (body += text));
    request.on("end", () => {
      response.writeHead(204).end();
      this.#received(path, body);
    });
  }

  #received(path: string, body: string): void {
    let message: { line?: string; ok?: boolean; value?: unknown; error?: string };
    try {
      message = JSON.parse(body);
    } catch {
      this.log.push(`unparsable POST to ${path}: ${body.slice(0, 200)}`);
      return;
    }
    if (path === "/log") {
      this.log.push(String(message.line));
      return;
    }
    const id = Number(/^\/result\/(\d+)$/.exec(path)?.[1]);
    const call = this.#pending.get(id);
    if (call === undefined) return; // timed out or closed meanwhile
    this.#pending.delete(id);
    if (message.ok === true) call.resolve(message.value);
    else call.reject(new Error(message.error ?? "the page reported a failure without a message"));
  }

  #serveFile(path: string, response: ServerResponse): void {
    const headers = { "cache-control": "no-store" };
    if (path === "/") {
      response.writeHead(200, { ...headers, "content-type": "text/html; charset=utf-8" });
      response.end(RUNNER_PAGE);
      return;
    }
    const name = path.slice(1);
    if (this.#buildDir === undefined || !/^[\w.-]+\.(js|map)$/.test(name)) {
      response.writeHead(404).end();
      return;
    }
    let content: Uint8Array;
    try {
      content = readFileSync(join(this.#buildDir, name));
    } catch {
      response.writeHead(404).end();
      return;
    }
    const type = name.endsWith(".js") ? "text/javascript" : "application/json";
    response.writeHead(200, { ...headers, "content-type": `${type}; charset=utf-8` });
    response.end(content);
  }
}

/**
 * One Chromium shared by several users (e.g. the contestants of one case, opened together and
 * closed together): the first `acquire` launches it, the last `release` closes it.
 */
export function sharedChromiumDirect(options: ChromiumDirectOptions): {
  acquire(): Promise<ChromiumDirect>;
  release(): Promise<void>;
} {
  let users = 0;
  let launching: Promise<ChromiumDirect> | undefined;
  return {
    acquire() {
      users++;
      launching ??= launchChromiumDirect(options).catch((error) => {
        launching = undefined;
        throw error;
      });
      return launching.catch((error) => {
        users--;
        throw error;
      });
    },
    async release() {
      if (users === 0) return;
      users--;
      if (users > 0 || launching === undefined) return;
      const closing = launching;
      launching = undefined;
      await (await closing).close();
    },
  };
}
