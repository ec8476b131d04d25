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
 * - The runner page (`page-job-server.ts`) long-polls for work; each job imports a page module,
 *   awaits one of its exports with JSON arguments and `POST`s the JSON result (or the error's
 *   stack) back. Modules stay loaded between jobs, so a page module may keep connections open
 *   across calls. Uncaught page errors are posted back and collected in `log`.
 * - Chromium runs in its own process group with a temporary `--user-data-dir`; `close()` (and, as
 *   a fallback, this process's exit or SIGINT/SIGTERM/SIGHUP) kills the whole group and removes the
 *   profile and the build: nothing is left running. `cpuSeconds()` sums the group's CPU time
 *   (browser, renderer, network service).
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import process from "node:process";
import {
  buildBrowserLibrary,
  buildBrowserModule,
  LIBRARY_FILE,
} from "../../scripts/build-browser.ts";
import { debianChromiumPath, quietHeadlessChromiumFlags } from "../../scripts/chromium-flags.ts";
import { processGroupCpuSeconds, processGroupMembers } from "./cpu-meter.ts";
import { PageJobServer } from "./page-job-server.ts";

/** Debian's Chromium (from apt; never a downloaded browser); `FERRY_CHROMIUM` overrides it. */
export const defaultChromiumPath = process.env.FERRY_CHROMIUM ?? debianChromiumPath;

/** Flags for a quiet, headless, unthrottled Chromium (the profile dir is added per launch). */
export const chromiumBenchFlags: readonly string[] = [
  ...quietHeadlessChromiumFlags,
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
  /**
   * Reloads the runner page: a fresh page (modules, heap and sockets of the old one gone), e.g. one
   * per measured round. Resolves once the new page asks for work (default timeout 60 s).
   */
  reload(timeoutMs?: number): Promise<void>;
  /** CPU seconds used so far by Chromium's live processes (undefined without `/proc`). */
  cpuSeconds(): number | undefined;
  /** Kills Chromium's process group, stops the server, removes the profile and the build. */
  close(): Promise<void>;
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
  #server: PageJobServer | undefined;
  #buildDir: string | undefined;
  #profileDir: string | undefined;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #killSync = () => this.#killGroup("SIGKILL");
  readonly #onSignal = (signal: NodeJS.Signals) => {
    this.#cleanupSync();
    process.kill(process.pid, signal); // the listener is gone: default handling ends the process
  };

  get log(): readonly string[] {
    return this.#server?.log ?? [];
  }

  get baseUrl(): string {
    return this.#server?.url ?? "";
  }

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
    const server = await PageJobServer.start(buildDir);
    this.#server = server;

    this.#profileDir = mkdtempSync(join(tmpdir(), "ferry-bench-chromium-"));
    process.once("exit", this.#killSync);
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      process.once(signal, this.#onSignal);
    }
    const child = spawn(chromiumPath, [
      ...chromiumBenchFlags,
      ...(options.extraFlags ?? []),
      `--user-data-dir=${this.#profileDir}`,
      server.url,
    ], { detached: true, stdio: ["ignore", "ignore", "pipe"] });
    this.#child = child;
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (text: string) => {
      stderr = (stderr + text).slice(-4_000);
    });
    this.#exited = new Promise((resolve) => {
      child.once("close", (code, signal) => {
        server.fail(
          new Error(`Chromium exited (${signal ?? `code ${code}`})${stderr ? `:\n${stderr}` : ""}`),
        );
        resolve();
      });
    });
    child.once("error", (error) => server.fail(error));
    const timeoutMs = options.startTimeoutMs ?? 60_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`Chromium did not load ${server.url} within ${timeoutMs} ms:\n${stderr}`),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([server.connected(), late]);
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
    if (this.#closed || this.#server === undefined) {
      return Promise.reject(new Error("Chromium session is closed"));
    }
    return this.#server.call<T>(module, exportName, args, timeoutMs);
  }

  reload(timeoutMs = 60_000): Promise<void> {
    if (this.#closed || this.#server === undefined) {
      return Promise.reject(new Error("Chromium session is closed"));
    }
    return this.#server.reload(timeoutMs);
  }

  cpuSeconds(): number | undefined {
    return this.pid > 0 ? processGroupCpuSeconds(this.pid) : undefined;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closingServer = this.#server?.close(); // the page stops polling
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
    await closingServer;
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
