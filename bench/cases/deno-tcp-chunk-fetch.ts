/**
 * Bulk transfer with both sides in Deno: 1 GiB as 1 MiB chunks over loopback TCP.
 *
 * - ferry-deno: a Deno client process (`bench/deno/deno-bench-client.ts ferry-tcp`) fetching
 *   chunks, 16 in flight, over Ferry's Deno TCP adapter from a Deno server process serving the
 *   bench Ferry service on Ferry's Deno TCP listener.
 * - raw-deno: a Deno client reading from a raw `Deno.listen` blast (`deno-bench-server.ts
 *   raw-tcp`) that writes the same bytes as awaited writes of a preallocated 1 MiB buffer.
 *
 * Each contestant has its own server and client process (an idle one costs nothing), so neither
 * shares an event loop with the Node runner. `serverCpuSeconds` is the Deno server's.
 *
 * @module
 */

import type { BenchCase, Contestant } from "../harness/bench-case.ts";
import { processCpuSeconds } from "../harness/cpu-meter.ts";
import { DenoProcess } from "../harness/deno-process.ts";
import { benchHost, readyLinePrefix } from "../servers/running-server.ts";
import { chunkCount, chunksInFlight } from "./chunk-fetch-work.ts";

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

function denoContestant(name: string, kind: string, description: string): Contestant {
  return {
    name,
    description,
    async open(context) {
      const { server, port } = await startDenoServer(kind);
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

export const denoTcpChunkFetchCase: BenchCase = {
  name: "deno-tcp-chunk-fetch",
  description: `1 GiB as 1 MiB chunks, ${chunksInFlight} in flight, Deno client and Deno server ` +
    `over loopback TCP, vs a raw Deno TCP blast`,
  servers: [],
  contestants: [
    denoContestant(
      "ferry-deno",
      "ferry-tcp",
      `Deno TransportClient.fetchChunk over Ferry's Deno TCP adapter, ${chunksInFlight} in flight`,
    ),
    denoContestant(
      "raw-deno",
      "raw-tcp",
      "Deno.listen server awaits writes of a 1 MiB buffer; Deno.connect client counts bytes",
    ),
  ],
  rows: [{
    name: "deno-tcp-chunk-fetch-1gib",
    metric: "mibPerSecond",
    unit: "MiB/s",
    higherIsBetter: true,
    subject: "ferry-deno",
    baseline: "raw-deno",
    target: { op: ">=", ratio: 0.9 },
  }],
};
