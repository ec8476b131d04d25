/**
 * A bench server process of its own (`bench/servers/server-process-main.ts KIND...`), started for
 * one round of one contestant and stopped after it: no contestant's garbage, JIT state or open
 * connections carry over into another's round. Its CPU time and memory come from the process
 * itself (`cpu` / `memory` request lines, `process.cpuUsage()` / `process.memoryUsage()`).
 *
 * @module
 */

import { ScriptProcess } from "./script-process.ts";
import { type ServerAddress, ServerDirectory } from "./server-directory.ts";
import { benchHost, readyLinePrefix } from "../servers/running-server.ts";

const serverScript = "bench/servers/server-process-main.ts";

/** Options of {@linkcode FreshServer.start}. */
export interface FreshServerOptions {
  /** Extra Node flags, e.g. `--expose-gc` so `memory()` measures after a full collection. */
  readonly flags?: readonly string[];
  /** Raise the soft descriptor limit to the hard one first (servers of many connections). */
  readonly raiseDescriptorLimit?: boolean;
}

/** `process.memoryUsage()` of a server process; `collected` if a full collection ran first. */
export interface ServerMemory {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** Memory of C++ objects bound to JS objects, including `arrayBuffersBytes`. */
  readonly externalBytes: number;
  /** Backing stores of ArrayBuffers and Buffers (outside the V8 heap). */
  readonly arrayBuffersBytes: number;
  readonly collected: boolean;
}

/** A running server process. */
export class FreshServer {
  readonly #process: ScriptProcess;
  /** Ports by server kind, as the process reported them. */
  readonly ports: Readonly<Record<string, number>>;
  readonly directory: ServerDirectory;

  private constructor(process: ScriptProcess, ports: Record<string, number>) {
    this.#process = process;
    this.ports = ports;
    const addresses = new Map<string, ServerAddress>();
    for (const [kind, port] of Object.entries(ports)) {
      addresses.set(kind, { host: benchHost, port });
    }
    this.directory = new ServerDirectory(addresses);
  }

  /** Starts the servers of `kinds` and waits for the ready line. */
  static async start(
    kinds: readonly string[],
    options: FreshServerOptions = {},
  ): Promise<FreshServer> {
    const child = ScriptProcess.node(serverScript, kinds, options);
    try {
      for (;;) {
        const line = await child.nextLine();
        if (!line.startsWith(readyLinePrefix)) continue;
        const ports = JSON.parse(line.slice(readyLinePrefix.length)) as Record<string, number>;
        return new FreshServer(child, ports);
      }
    } catch (error) {
      await child.stop();
      throw error;
    }
  }

  get pid(): number {
    return this.#process.pid;
  }

  /** CPU seconds (user + system) the server process has used so far. */
  async cpuSeconds(): Promise<number> {
    return (await this.#process.request("cpu")).cpuSeconds!;
  }

  /** RSS and used heap, after a full collection when the process runs with `--expose-gc`. */
  async memory(): Promise<ServerMemory> {
    const reply = await this.#process.request("memory");
    return {
      rssBytes: reply.rssBytes!,
      heapUsedBytes: reply.heapUsedBytes!,
      externalBytes: reply.externalBytes!,
      arrayBuffersBytes: reply.arrayBuffersBytes!,
      collected: reply.gc === 1,
    };
  }

  /** Writes a V8 heap snapshot of the server process to `file` (absolute path). */
  async heapSnapshot(file: string): Promise<void> {
    await this.#process.request(`snapshot ${file}`);
  }

  stop(): Promise<void> {
    return this.#process.stop();
  }
}
