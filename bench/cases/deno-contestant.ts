/**
 * A contestant whose client and server both run in Deno: a Deno server process
 * (`bench/deno/deno-bench-server.ts KIND`) and a Deno client process
 * (`bench/deno/deno-bench-client.ts KIND HOST PORT`), neither sharing an event loop with the Node
 * runner. A run sends the client a chunk count and reads back its figures; `clientCpuSeconds`
 * and `serverCpuSeconds` (the Deno client's and server's) are added from `/proc`.
 *
 * Every run gets a fresh pair of processes, and a measured run first moves a warm-up's worth of
 * chunks untimed. On this machine a Deno process settles into a fast or a slow state for its whole
 * life (the same client and server moved 1 MiB chunks at about 2,000 MiB/s in one pair and 700 in
 * the next), so one pair per contestant made a whole run's ratio a coin toss; a pair per round
 * lets the median see the usual case.
 *
 * @module
 */

import type { Contestant } from "../harness/bench-case.ts";
import { processCpuSeconds } from "../harness/cpu-meter.ts";
import { ScriptProcess } from "../harness/script-process.ts";
import { benchHost, readyLinePrefix } from "../servers/running-server.ts";
import { chunkCount } from "./chunk-fetch-work.ts";

const serverScript = "bench/deno/deno-bench-server.ts";
const clientScript = "bench/deno/deno-bench-client.ts";

/** A started Deno server: its port, and the PEM of its certificate when it serves TLS. */
interface StartedDenoServer {
  readonly server: ScriptProcess;
  readonly port: number;
  readonly certPem?: string;
}

async function startDenoServer(kind: string): Promise<StartedDenoServer> {
  const server = ScriptProcess.deno(serverScript, [kind]);
  try {
    for (;;) {
      const line = await server.nextLine();
      if (!line.startsWith(readyLinePrefix)) continue;
      const ready = JSON.parse(line.slice(readyLinePrefix.length)) as {
        port: number;
        certPem?: string;
      };
      return { server, port: ready.port, certPem: ready.certPem };
    }
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/**
 * A contestant running the Deno client `kind` against the Deno server `serverKind` (by default the
 * same kind; both scripts know it).
 */
export function denoContestant(
  name: string,
  kind: string,
  description: string,
  serverKind = kind,
): Contestant {
  return {
    name,
    description,
    open(context) {
      return Promise.resolve({
        async run(phase) {
          const pair = await DenoPair.start(kind, serverKind);
          try {
            if (phase === "measure") await pair.transfer(chunkCount(context, "warmup"));
            return await pair.transfer(chunkCount(context, phase));
          } finally {
            await pair.stop();
          }
        },
        close: () => Promise.resolve(),
        warmsUpEachRun: true,
      });
    },
  };
}

/** One Deno server process and the Deno client connected to it. */
class DenoPair {
  readonly #server: ScriptProcess;
  readonly #client: ScriptProcess;

  private constructor(server: ScriptProcess, client: ScriptProcess) {
    this.#server = server;
    this.#client = client;
  }

  static async start(kind: string, serverKind: string): Promise<DenoPair> {
    const { server, port, certPem } = await startDenoServer(serverKind);
    const args = [kind, benchHost, String(port), ...(certPem === undefined ? [] : [certPem])];
    const client = ScriptProcess.deno(clientScript, args);
    const pair = new DenoPair(server, client);
    try {
      await client.ready();
    } catch (error) {
      await pair.stop();
      throw error;
    }
    return pair;
  }

  /** Moves `count` chunks; the client's figures plus both processes' CPU seconds. */
  async transfer(count: number): Promise<Record<string, number>> {
    const clientBefore = processCpuSeconds(this.#client.pid);
    const serverBefore = processCpuSeconds(this.#server.pid);
    const figures = await this.#client.transfer(count);
    const clientAfter = processCpuSeconds(this.#client.pid);
    const serverAfter = processCpuSeconds(this.#server.pid);
    if (clientBefore !== undefined && clientAfter !== undefined) {
      figures.clientCpuSeconds = clientAfter - clientBefore;
    }
    if (serverBefore !== undefined && serverAfter !== undefined) {
      figures.serverCpuSeconds = serverAfter - serverBefore;
    }
    return figures;
  }

  stop(): Promise<void> {
    return Promise.all([this.#client.stop(), this.#server.stop()]).then(() => {});
  }
}
