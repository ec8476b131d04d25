/**
 * A contestant whose client and server both run in fresh Node processes every round: a server
 * process hosting `servers` (`harness/fresh-server.ts`) and a client process running the in-process
 * contestant `name` of `module` (`bench/node/contestant-host.ts`). A measured run first runs the
 * contestant's warm-up untimed in the same pair, so the clock starts on compiled code and a settled
 * heap.
 *
 * Why a pair per round: in the runner's process the clients of a case shared one heap (one
 * contestant's garbage was collected in another's round), and a Node process here keeps the speed
 * it starts with — a raw `node:net` blast in the runner ran 651 MiB/s, the same blast with fresh
 * processes 1.3–2.4 GB/s. A pair per round lets the median see the usual case.
 *
 * The figures carry `clientCpuSeconds` and `serverCpuSeconds`, each process's own
 * `process.cpuUsage()` over the measured run.
 *
 * @module
 */

import type { Contestant } from "../harness/bench-case.ts";
import { FreshServer } from "../harness/fresh-server.ts";
import { ScriptProcess } from "../harness/script-process.ts";

const hostScript = "bench/node/contestant-host.ts";

/** What a fresh-process contestant runs. */
export interface FreshProcessSpec {
  /** Shown in the table and `--list`. */
  readonly name: string;
  readonly description: string;
  /** Module (relative to the repository root) exporting `contestants`. */
  readonly module: string;
  /** Key of the contestant in that record (defaults to `name`). */
  readonly exportName?: string;
  /** Server kinds (`bench/servers/server-kinds.ts`) of the round's server process; [] for none. */
  readonly servers: readonly string[];
  /**
   * Untimed warm-up runs before the measured one (default 1; `--quick` always 1). The chunk-fetch
   * contestants take 12 (`cases/chunk-fetch.ts` says why): after fewer 256 MiB warm-ups V8 was
   * still optimizing the Ferry server's per-chunk functions during the measured GiB
   * (docs/chunk-fetch-profile.md), and the raw blasts get the same number so both sides start
   * settled.
   */
  readonly warmupRuns?: number;
}

export function freshProcessContestant(spec: FreshProcessSpec): Contestant {
  return {
    name: spec.name,
    description: spec.description,
    open(context) {
      return Promise.resolve({
        async run(phase) {
          const server = spec.servers.length > 0
            ? await FreshServer.start(spec.servers)
            : undefined;
          let client: ScriptProcess | undefined;
          try {
            const hostContext = JSON.stringify({
              quick: context.quick,
              ports: server?.ports ?? {},
            });
            client = ScriptProcess.node(hostScript, [
              spec.module,
              spec.exportName ?? spec.name,
              hostContext,
            ]);
            await client.ready();
            const warmups = context.quick ? 1 : spec.warmupRuns ?? 1;
            if (phase === "measure") {
              for (let run = 0; run < warmups; run++) await client.request("warmup");
            }
            const serverBefore = await server?.cpuSeconds();
            const figures = await client.request(phase);
            const serverAfter = await server?.cpuSeconds();
            if (serverBefore !== undefined && serverAfter !== undefined) {
              figures.serverCpuSeconds = serverAfter - serverBefore;
            }
            return figures;
          } finally {
            await Promise.all([client?.stop(), server?.stop()]);
          }
        },
        close: () => Promise.resolve(),
        warmsUpEachRun: true,
      });
    },
  };
}
