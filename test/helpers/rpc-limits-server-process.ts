/**
 * Two typed-service servers in one process, for tests that measure a server from outside (its
 * RSS, its stderr): the first with the router's default limits, the second with
 * `maxServiceRequestBytes` raised to the frame limit so 63 MiB requests reach the msgpack scanner.
 * Both serve `limits.probe` (`ping` answers with the process's RSS and its peak since the last
 * `collect`, which first runs a full garbage collection when run with `--expose-gc`) and report
 * handler failures with the server's default reporter (one-way messages make the router fail:
 * typed services take RPCs only). Prints `LISTENING <port> <port>`; closes both servers and exits
 * when its stdin ends. Usage: `node [--expose-gc] --import tsx rpc-limits-server-process.ts`.
 *
 * @module
 */

import process from "node:process";
import { tcpListen } from "../../adapters/node/tcp.ts";
import { defaultLimits } from "../../src/limits.ts";
import { defineService, method, ServiceRouter } from "../../src/rpc/mod.ts";
import { TransportServer } from "../../src/server/transport-server.ts";

/** What `ping` answers: bytes resident now, and the most sampled since the last `collect`. */
export interface ProbeReply {
  readonly rss: number;
  readonly peakRss: number;
}

export const probeService = defineService("limits.probe", {
  ping: method<void, ProbeReply>(),
  /** Runs a full garbage collection first (when the process runs with `--expose-gc`). */
  collect: method<void, ProbeReply>(),
});

// RSS sampled every 2 ms (the process's own maxRSS includes the start-up peak of compiling the
// TypeScript, often above anything a request costs).
let peakRss = 0;
function sample(): number {
  const rss = process.memoryUsage.rss();
  peakRss = Math.max(peakRss, rss);
  return rss;
}

function probe(): ProbeReply {
  const rss = sample();
  return { rss, peakRss };
}

function server(maxServiceRequestBytes?: number): TransportServer {
  const router = new ServiceRouter(
    maxServiceRequestBytes === undefined ? {} : { maxServiceRequestBytes },
  ).serve(probeService, {
    ping: probe,
    collect: () => {
      (globalThis as { gc?: () => void }).gc?.();
      peakRss = 0;
      return probe();
    },
  });
  return new TransportServer({ rpcHandler: router });
}

// Only when run as a program: tests import `probeService` from here.
if (import.meta.url === `file://${process.argv[1]}`) {
  setInterval(sample, 2).unref();
  const servers = [server(), server(defaultLimits.maxFrameLength)];
  const ports: number[] = [];
  for (const each of servers) {
    const listener = await each.listen(tcpListen({ host: "127.0.0.1", port: 0 }));
    ports.push(listener.address.port);
  }
  process.stdout.write(`LISTENING ${ports.join(" ")}\n`);
  process.stdin.resume();
  process.stdin.on("end", async () => {
    await Promise.all(servers.map((each) => each.close()));
    process.exit(0);
  });
}
