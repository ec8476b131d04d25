/**
 * The HTTP side of a browser bench (`chromium-direct.ts`): serves a runner page and the built page
 * modules on 127.0.0.1, and hands the page jobs through a long poll.
 *
 * - `GET /` is the runner page; `GET /<name>.js|.map` a file of the build directory.
 * - The runner page `POST`s `/job` and waits; the server answers with the next job
 *   (`{ id, module, exportName, args }`) once there is one, or `{ stop: true }` when closing.
 * - The page imports the module, awaits the export and `POST`s `{ ok, value }` or
 *   `{ ok: false, error }` to `/result/<id>`; uncaught page errors go to `/log`.
 * - `reload()` hands the page `{ reload: true }`: it reloads itself (a fresh page, nothing of the
 *   old one's modules, heap or sockets left) and the new page's first poll settles the call.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

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
  if (job.reload) {
    location.reload(); // a fresh page polls again
    break;
  }
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
  readonly reload?: true;
}

interface PendingCall {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** Serves `directory` and the runner page; see the module documentation. */
export class PageJobServer {
  /** Uncaught page errors and unparsable posts, in order. */
  readonly log: string[] = [];
  readonly #directory: string;
  readonly #server: Server;
  readonly #url: string;
  #jobs: Job[] = [];
  #poll: ServerResponse | undefined;
  #pending = new Map<number, PendingCall>();
  #nextId = 1;
  #connected: PendingCall | undefined;
  readonly #firstPoll: Promise<unknown>;
  #closed: Error | undefined;
  /** A `reload()` waiting for the fresh page; `sent` once the old page has been told. */
  #reloading: { call: PendingCall; sent: boolean } | undefined;

  private constructor(directory: string, server: Server) {
    this.#directory = directory;
    this.#server = server;
    this.#url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    this.#firstPoll = new Promise((resolve, reject) => (this.#connected = { resolve, reject }));
    this.#firstPoll.catch(() => {}); // observed by whoever awaits `connected()`
  }

  /** Listens on 127.0.0.1 (an ephemeral port) and serves the files of `directory`. */
  static async start(directory: string): Promise<PageJobServer> {
    const bound: { instance?: PageJobServer } = {};
    const server = createServer((request, response) => bound.instance!.#handle(request, response));
    server.requestTimeout = 0; // the job poll waits as long as there is no work
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    bound.instance = new PageJobServer(directory, server);
    return bound.instance;
  }

  /** The runner page's URL (ends in `/`). */
  get url(): string {
    return this.#url;
  }

  /** Resolves once a runner page polls for work; rejects if the server fails first. */
  connected(): Promise<unknown> {
    return this.#firstPoll;
  }

  /** Runs `exportName(...args)` of `module` in the page; rejects after `timeoutMs`. */
  call<T>(module: string, exportName: string, args: readonly unknown[], timeoutMs: number) {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
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

  /** Reloads the runner page; resolves once the fresh page polls, rejects after `timeoutMs`. */
  reload(timeoutMs: number): Promise<void> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    if (this.#reloading !== undefined) return Promise.reject(new Error("already reloading"));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#reloading = undefined;
        reject(new Error(`Chromium: the runner page did not reload within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#reloading = {
        call: {
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        },
        sent: false,
      };
      this.#jobs.push({ id: 0, module: "", exportName: "", args: [], reload: true });
      this.#dispatch();
    });
  }

  /** Fails every call in flight and every later one with `error` (e.g. the browser exited). */
  fail(error: Error): void {
    this.#closed ??= error;
    this.#connected?.reject(error);
    this.#connected = undefined;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    this.#jobs = [];
    for (const call of pending) call.reject(error);
    this.#reloading?.call.reject(error);
    this.#reloading = undefined;
  }

  /** Tells the page to stop, fails what is in flight and closes every connection. */
  async close(): Promise<void> {
    this.fail(new Error("Chromium session closed"));
    this.#poll?.end(JSON.stringify({ stop: true }));
    this.#poll = undefined;
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #dispatch(): void {
    const poll = this.#poll;
    if (poll === undefined || this.#jobs.length === 0) return;
    const job = this.#jobs.shift()!;
    this.#poll = undefined;
    if (job.reload && this.#reloading !== undefined) this.#reloading.sent = true;
    poll.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
    poll.end(JSON.stringify(job));
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    const path = new URL(request.url ?? "/", this.#url).pathname;
    if (request.method === "GET") {
      this.#serveFile(path, response);
      return;
    }
    if (request.method !== "POST") {
      response.writeHead(405).end();
      return;
    }
    if (path === "/job") {
      if (this.#closed !== undefined) {
        response.end(JSON.stringify({ stop: true }));
        return;
      }
      this.#poll?.end(JSON.stringify({ stop: true })); // a reloaded page: the old poll ends
      this.#poll = response;
      this.#connected?.resolve(undefined);
      this.#connected = undefined;
      if (this.#reloading?.sent) {
        this.#reloading.call.resolve(undefined);
        this.#reloading = undefined;
      }
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
    let content: Uint8Array;
    try {
      if (!/^[\w.-]+\.(js|map)$/.test(name)) throw new Error("not a served name");
      content = readFileSync(join(this.#directory, name));
    } catch {
      response.writeHead(404).end();
      return;
    }
    const type = name.endsWith(".js") ? "text/javascript" : "application/json";
    response.writeHead(200, { ...headers, "content-type": `${type}; charset=utf-8` });
    response.end(content);
  }
}
