/**
 * A contestant whose Node client runs in a process of its own (`bench/node/node-bench-client.ts
 * KIND HOST PORT`) against a server of the bench's server process: no contestant's garbage shares
 * another's heap. Each run sends the client a chunk count and reads back its figures;
 * `nodeClientCpuSeconds` is added from `/proc`.
 *
 * Every run gets a fresh client process which, before a measured run, first moves as many chunks
 * untimed (so its code is compiled and its heap settled when the clock starts). A Node process
 * here keeps the speed it starts with: one process per contestant made each ratio a single draw
 * (the bare client measured 0.79× and 0.99× of the blast in two runs of the same tree).
 *
 * @module
 */

import type { Contestant } from "../harness/bench-case.ts";
import { processCpuSeconds } from "../harness/cpu-meter.ts";
import { ScriptProcess } from "../harness/script-process.ts";
import { chunkCount } from "./chunk-fetch-work.ts";

const clientScript = "bench/node/node-bench-client.ts";

/** A contestant running the Node client `kind` against the server process's `serverName`. */
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
      const { host, port } = context.servers.get(serverName);
      return Promise.resolve({
        async run(phase) {
          const count = chunkCount(context, phase);
          const client = ScriptProcess.node(clientScript, [kind, host, String(port)]);
          try {
            await client.ready();
            if (phase === "measure") await client.transfer(count);
            const before = processCpuSeconds(client.pid);
            const figures = await client.transfer(count);
            const after = processCpuSeconds(client.pid);
            if (before !== undefined && after !== undefined) {
              figures.nodeClientCpuSeconds = after - before;
            }
            return figures;
          } finally {
            await client.stop();
          }
        },
        close: () => Promise.resolve(),
      });
    },
  };
}
