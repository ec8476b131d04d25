/**
 * A contestant whose Node client runs in a process of its own (`bench/node/node-bench-client.ts
 * KIND HOST PORT`) against a server process of its own (`harness/fresh-server.ts`, hosting
 * `serverName`): no contestant's garbage shares another's heap. Each run sends the client a chunk
 * count and reads back its figures; `clientCpuSeconds` (reported by the client's
 * `process.cpuUsage()`) and `serverCpuSeconds` (the server's) cover the measured transfer.
 *
 * Every run gets a fresh client and server process; the client, before a measured run, first moves as many chunks
 * untimed (so its code is compiled and its heap settled when the clock starts). A Node process
 * here keeps the speed it starts with: one process per contestant made each ratio a single draw
 * (the bare client measured 0.79× and 0.99× of the blast in two runs of the same tree).
 *
 * @module
 */

import type { Contestant } from "../harness/bench-case.ts";
import { FreshServer } from "../harness/fresh-server.ts";
import { ScriptProcess } from "../harness/script-process.ts";
import { chunkCount } from "./chunk-fetch-work.ts";

const clientScript = "bench/node/node-bench-client.ts";

/** A contestant running the Node client `kind` against a fresh server process's `serverName`. */
export function nodeClientContestant(
  name: string,
  kind: string,
  serverName: string,
  description: string,
): Contestant {
  return {
    name,
    description,
    open(context) {
      return Promise.resolve({
        async run(phase) {
          const count = chunkCount(context, phase);
          const server = await FreshServer.start([serverName]);
          let client: ScriptProcess | undefined;
          try {
            const { host, port } = server.directory.get(serverName);
            client = ScriptProcess.node(clientScript, [kind, host, String(port)]);
            await client.ready();
            if (phase === "measure") await client.transfer(count);
            const serverBefore = await server.cpuSeconds();
            const figures = await client.transfer(count);
            figures.serverCpuSeconds = (await server.cpuSeconds()) - serverBefore;
            return figures;
          } finally {
            await Promise.all([client?.stop(), server.stop()]);
          }
        },
        close: () => Promise.resolve(),
        warmsUpEachRun: true,
      });
    },
  };
}
