/**
 * The floor under `tls-cost.ts`: what each side of a raw 1 MiB blast (no Ferry) spends per GiB
 * over Node TLS or TCP. `node --import tsx bench/probes/tls-raw-cost.ts tls|tcp [data|onread]
 * [MiB]` starts a server process (`node:tls` with a fresh self-signed certificate, or `node:net`)
 * that writes MiB (default 1024) 1 MiB buffers honouring backpressure, after 256 MiB untimed;
 * the client counts bytes from `data` events (`data`, as the bench's `raw-tls` contestant) or
 * with `onread` into one reused 256 KiB buffer (`onread`, the cheapest Node reader). It prints
 * MiB/s, the negotiated cipher and each side's CPU seconds per GiB. `CIPHERS=…` sets the server's
 * `ciphers` with `honorCipherOrder` (e.g. `TLS_AES_128_GCM_SHA256` to compare with Node's default
 * `TLS_AES_256_GCM_SHA384`).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import * as net from "node:net";
import process from "node:process";
import { createInterface } from "node:readline";
import * as tls from "node:tls";
import { fileURLToPath } from "node:url";
import { generateSelfSignedCertificate } from "../../src/tls/self-signed-certificate.ts";
import { ownCpuSeconds, processCpuSeconds } from "../harness/cpu-meter.ts";

const MiB = 1024 * 1024;
const warmupMiB = 256;

if (process.argv[2] === "--serve") {
  const useTls = process.argv[3] === "tls";
  const body = Buffer.alloc(MiB, 7);
  const serve = (socket: net.Socket) => {
    socket.setNoDelay(true);
    socket.on("error", () => {});
    let pending = Buffer.alloc(0);
    socket.on("data", (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      while (pending.byteLength >= 4) {
        const count = pending.readUInt32BE(0);
        pending = pending.subarray(4);
        let sent = 0;
        const pump = () => {
          while (sent < count) {
            sent++;
            if (!socket.write(body)) return void socket.once("drain", pump);
          }
        };
        pump();
      }
    });
  };
  let server: net.Server;
  if (useTls) {
    const { certPem, keyPem } = await generateSelfSignedCertificate();
    const ciphers = process.env.CIPHERS;
    server = tls.createServer(
      { cert: certPem, key: keyPem, ...(ciphers ? { ciphers, honorCipherOrder: true } : {}) },
      serve,
    );
  } else {
    server = net.createServer(serve);
  }
  server.listen(0, "127.0.0.1", () => {
    console.log(JSON.stringify({ port: (server.address() as net.AddressInfo).port }));
  });
  process.stdin.resume();
  process.stdin.on("end", () => process.exit(0));
} else {
  const kind = process.argv[2] ?? "tls";
  const reader = process.argv[3] ?? "data";
  const mib = Number(process.argv[4] ?? "1024");
  const server = spawn(
    process.execPath,
    ["--import", "tsx", fileURLToPath(import.meta.url), "--serve", kind],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: server.stdout! });
  const { port } = JSON.parse(await new Promise<string>((resolve) => lines.once("line", resolve)));

  let received = 0;
  let expected = 0;
  let done: (() => void) | undefined;
  const count = (bytes: number) => {
    received += bytes;
    if (received >= expected && done !== undefined) {
      const resolve = done;
      done = undefined;
      resolve();
    }
  };
  const onread = reader === "onread"
    ? { buffer: Buffer.allocUnsafe(256 * 1024), callback: (bytes: number) => (count(bytes), true) }
    : undefined;
  const socket = kind === "tls"
    ? tls.connect(
      { host: "127.0.0.1", port, rejectUnauthorized: false, onread } as tls.ConnectionOptions,
    )
    : net.connect({ host: "127.0.0.1", port, onread } as net.NetConnectOpts);
  await new Promise((resolve) =>
    socket.once(kind === "tls" ? "secureConnect" : "connect", resolve)
  );
  if (onread === undefined) socket.on("data", (data: Buffer) => count(data.byteLength));
  const blast = (n: number) =>
    new Promise<void>((resolve) => {
      received = 0;
      expected = n * MiB;
      done = resolve;
      const request = Buffer.alloc(4);
      request.writeUInt32BE(n, 0);
      socket.write(request);
    });

  await blast(warmupMiB);
  const client0 = ownCpuSeconds();
  const server0 = processCpuSeconds(server.pid!)!;
  const startedAt = performance.now();
  await blast(mib);
  const seconds = (performance.now() - startedAt) / 1000;
  const gib = mib / 1024;
  console.log(JSON.stringify({
    kind,
    reader,
    cipher: socket instanceof tls.TLSSocket ? socket.getCipher().name : "none",
    mibPerSecond: Math.round(mib / seconds),
    clientCpuPerGiB: +((ownCpuSeconds() - client0) / gib).toFixed(3),
    serverCpuPerGiB: +((processCpuSeconds(server.pid!)! - server0) / gib).toFixed(3),
  }));
  socket.destroy();
  server.stdin!.end();
}
