/**
 * What each side of a Ferry chunk fetch spends per GiB over Node TLS or TCP: `node --import tsx
 * bench/probes/tls-cost.ts tls|tcp [MiB]` starts the bench's Ferry TLS and TCP servers in a
 * fresh server process, fetches 256 MiB untimed, then MiB (default 1024) as 1 MiB chunks, 16 in
 * flight, and prints MiB/s, CPU seconds and minor page faults per GiB of the client (this
 * process) and of the server. `LENT=1` lends each body (`fetchChunkWith`) instead of allocating
 * one per chunk. `SERVER_PERF=file` runs the server under `perf record -g` (with
 * `--perf-basic-prof`), for the profile in `docs/benchmarks.md` ("What TLS costs"); profile the
 * client with `perf record --no-inherit -g node --perf-basic-prof --import tsx …`.
 *
 * CPU seconds, not MiB/s, are the figure to compare on a shared machine.
 *
 * @module
 */
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { tlsConnect } from "../../adapters/node/tls.ts";
import { tcpConnect } from "../../adapters/node/tcp.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { fetchChunks, fetchChunksLent } from "../cases/chunk-fetch-work.ts";
import { ownCpuSeconds, processCpuSeconds } from "../harness/cpu-meter.ts";
import { readFileSync } from "node:fs";

/** Minor page faults of process `pid` so far. */
function minorFaults(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[7]);
}

if (process.argv[2] === "--serve") {
  const { startFerryBenchServer, startFerryTlsBenchServer } = await import(
    "../servers/ferry-bench-server.ts"
  );
  const { benchCertificate } = await import("../servers/bench-certificate.ts");
  const tcp = await startFerryBenchServer();
  const tls = await startFerryTlsBenchServer();
  const { certPem } = await benchCertificate();
  console.log(JSON.stringify({ tcp: tcp.port, tls: tls.port, cert: certPem, pid: process.pid }));
  process.stdin.resume();
  process.stdin.on("end", () => process.exit(0));
} else {
  const kind = process.argv[2] ?? "tls";
  const mib = Number(process.argv[3] ?? "1024");
  const lent = process.env.LENT === "1";
  const serverArgs = ["--import", "tsx", fileURLToPath(import.meta.url), "--serve"];
  const perfOut = process.env.SERVER_PERF;
  const server = perfOut
    ? spawn("perf", [
      "record",
      "-F",
      "999",
      "-g",
      "-o",
      perfOut,
      process.execPath,
      "--perf-basic-prof",
      ...serverArgs,
    ], {
      stdio: ["pipe", "pipe", "ignore"],
    })
    : spawn(process.execPath, serverArgs, { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: server.stdout! });
  const first = await new Promise<string>((resolve) => lines.once("line", resolve));
  const info = JSON.parse(first);
  const connect = kind === "tls"
    ? tlsConnect({ host: "127.0.0.1", port: info.tls, ca: info.cert })
    : tcpConnect({ host: "127.0.0.1", port: info.tcp });
  const client = await TransportClient.connect(connect, { timeoutMs: 10_000 });
  const fetch = lent ? fetchChunksLent : fetchChunks;
  await fetch(client, 256);
  const c0 = ownCpuSeconds();
  const s0 = processCpuSeconds(info.pid)!;
  const f0 = minorFaults(info.pid);
  const g0 = minorFaults(process.pid);
  const result = await fetch(client, mib);
  const c1 = ownCpuSeconds();
  const s1 = processCpuSeconds(info.pid)!;
  const f1 = minorFaults(info.pid);
  const g1 = minorFaults(process.pid);
  const gib = mib / 1024;
  console.log(JSON.stringify({
    kind,
    lent,
    mibPerSecond: Math.round(result.mibPerSecond),
    clientCpuPerGiB: +((c1 - c0) / gib).toFixed(3),
    serverCpuPerGiB: +((s1 - s0) / gib).toFixed(3),
    clientFaultsPerGiB: Math.round((g1 - g0) / gib),
    serverFaultsPerGiB: Math.round((f1 - f0) / gib),
  }));
  await client.close();
  server.stdin!.end();
}
