/**
 * Where a Node WebSocket client's time goes: `node --import tsx bench/probes/ws-client-gc.ts KIND
 * [ROUNDS]`, KIND one of `lent` (`fetchChunkWith`), `owned` (`fetchChunk`) or `raw` (the raw `ws`
 * blast client). One client per process, so no other contestant's garbage is in its heap. Each
 * round moves 1 GiB as 1 MiB chunks (16 in flight) and prints its MiB/s, the client's CPU seconds
 * and the garbage collections it ran, major (mark-compact) and minor (scavenge). The collections are
 * counted from V8's own `--trace-gc` lines (the probe runs the client as a child with that flag):
 * a `PerformanceObserver` for `gc` entries changes what it counts (it doubled the mark-compacts).
 *
 * The bench (`ws-chunk-fetch-node`) gives the ratio; this shows why it moves: a body that V8
 * carries into its old generation is freed only by a mark-compact, and a client doing many of
 * them is a client short of CPU.
 *
 * @module
 */

import { spawn } from "node:child_process";
import process from "node:process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { startServerProcess } from "../harness/server-process.ts";
import {
  isWebSocketClientKind,
  openWebSocketTransfers,
  webSocketClientKinds,
} from "../node/ws-client-transfers.ts";

const [kind = "", roundsText = "4", role] = process.argv.slice(2);
const rounds = Number(roundsText);
if (!isWebSocketClientKind(kind) || !Number.isInteger(rounds) || rounds < 1) {
  console.error(
    `usage: ws-client-gc.ts ${
      webSocketClientKinds.join("|")
    } [ROUNDS], received ${kind} ${roundsText}`,
  );
  process.exit(2);
}
/** What the child prints after each round, for the parent to close that round's count. */
const roundMarker = "WS-CLIENT-GC ROUND ";

if (role !== "child") {
  const child = spawn(
    process.execPath,
    ["--trace-gc", "--import", "tsx", fileURLToPath(import.meta.url), kind, roundsText, "child"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let majors = 0;
  let minors = 0;
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.includes(": Mark-Compact ")) majors++;
    else if (line.includes(": Scavenge ")) minors++;
    else if (line.startsWith(roundMarker)) {
      console.log(
        `${line.slice(roundMarker.length)}, mark-compacts ${majors}, scavenges ${minors}`,
      );
      majors = minors = 0;
    } else if (!line.startsWith("[")) console.log(line);
  }
  process.exit(
    await new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? 1))),
  );
}

const server = await startServerProcess({ kinds: ["ferry-ws", "raw-ws-blast"] });
const { transfer, close } = await openWebSocketTransfers(
  kind,
  server.directory.get(kind === "raw" ? "raw-ws-blast" : "ferry-ws"),
);
try {
  await transfer(256); // warm-up, as the bench does
  console.log(`${roundMarker}${kind} warm-up`);
  for (let round = 1; round <= rounds; round++) {
    const cpuBefore = process.cpuUsage();
    const mibPerSecond = (await transfer(1024)).mibPerSecond ?? Number.NaN;
    const cpu = process.cpuUsage(cpuBefore);
    console.log(
      `${roundMarker}${kind} round ${round}: ${mibPerSecond.toFixed(0)} MiB/s, client CPU ` +
        `${((cpu.user + cpu.system) / 1e6).toFixed(2)} s`,
    );
  }
} finally {
  await close();
  await server.stop();
}
