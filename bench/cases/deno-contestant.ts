/**
 * A contestant whose client and server both run in Deno: one Deno server process
 * (`bench/deno/deno-bench-server.ts KIND`) and one Deno client process
 * (`bench/deno/deno-bench-client.ts KIND HOST PORT`) per contestant, neither sharing an event loop
 * with the Node runner. Each run sends the client a chunk count and reads back its figures;
 * `denoClientCpuSeconds` and `denoServerCpuSeconds` are added from `/proc`.
 *
 * @module
 */

import type { Contestant } from "../harness/bench-case.ts";
import { processCpuSeconds } from "../harness/cpu-meter.ts";
import { DenoProcess } from "../harness/deno-process.ts";
import { benchHost, readyLinePrefix } from "../servers/running-server.ts";
import { chunkCount } from "./chunk-fetch-work.ts";

const serverScript = "bench/deno/deno-bench-server.ts";
const clientScript = "bench/deno/deno-bench-client.ts";

async function startDenoServer(kind: string): Promise<{ server: DenoProcess; port: number }> {
  const server = DenoProcess.start(serverScript, [kind]);
  try {
    for (;;) {
      const line = await server.nextLine();
      if (!line.startsWith(readyLinePrefix)) continue;
      const { port } = JSON.parse(line.slice(readyLinePrefix.length)) as { port: number };
      return { server, port };
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
    async open(context) {
      const { server, port } = await startDenoServer(serverKind);
      const client = DenoProcess.start(clientScript, [kind, benchHost, String(port)]);
      const stop = () => Promise.all([client.stop(), server.stop()]).then(() => {});
      try {
        const hello = JSON.parse(await client.nextLine()) as { ready?: boolean };
        if (hello.ready !== true) throw new Error(`${name}: client said ${JSON.stringify(hello)}`);
      } catch (error) {
        await stop();
        throw error;
      }
      return {
        async run(phase) {
          const clientBefore = processCpuSeconds(client.pid);
          const serverBefore = processCpuSeconds(server.pid);
          client.send(String(chunkCount(context, phase)));
          const reply = JSON.parse(await client.nextLine()) as Record<string, number | string>;
          if (typeof reply.error === "string") throw new Error(`${name}: ${reply.error}`);
          const figures: Record<string, number> = {};
          for (const [key, value] of Object.entries(reply)) {
            if (typeof value === "number") figures[key] = value;
          }
          const clientAfter = processCpuSeconds(client.pid);
          const serverAfter = processCpuSeconds(server.pid);
          if (clientBefore !== undefined && clientAfter !== undefined) {
            figures.denoClientCpuSeconds = clientAfter - clientBefore;
          }
          if (serverBefore !== undefined && serverAfter !== undefined) {
            figures.denoServerCpuSeconds = serverAfter - serverBefore;
          }
          return figures;
        },
        close: stop,
      };
    },
  };
}
