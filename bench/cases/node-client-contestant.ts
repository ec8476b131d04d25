/**
 * A contestant whose Node client runs in a process of its own (`bench/node/node-bench-client.ts
 * KIND HOST PORT`) against a server of the bench's server process: no contestant's garbage shares
 * another's heap. Each run sends the client a chunk count and reads back its figures;
 * `nodeClientCpuSeconds` is added from `/proc`.
 *
 * Every run gets a fresh client process, and a measured run first moves a warm-up's worth of chunks
 * untimed, as the Deno contestants do (`deno-contestant.ts`): a process here keeps the speed it
 * starts with, and between processes the same client moved 1 GiB in 0.42 to 0.69 s of CPU, so one
 * process per contestant let a single draw decide a whole run.
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
          const client = ScriptProcess.node(clientScript, [kind, host, String(port)]);
          try {
            await client.ready();
            if (phase === "measure") await client.transfer(chunkCount(context, "warmup"));
            const before = processCpuSeconds(client.pid);
            const figures = await client.transfer(chunkCount(context, phase));
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
