/**
 * A bench server in Deno: `deno run -A bench/deno/deno-bench-server.ts KIND`, KIND one of
 *
 * - `ferry-tcp`: the Ferry bench service (`bench/servers/ferry-bench-service.ts`) on Ferry's Deno
 *   TCP listener;
 * - `ferry-ws`: the same service on Ferry's Deno WebSocket listener (`Deno.serve`);
 * - `ferry-tls`: the same service on Ferry's Deno TLS listener (`Deno.listenTls`), with the
 *   process's self-signed certificate (`bench-certificate.ts`), whose PEM the ready line carries
 *   (`certPem`) for the client to trust;
 * - `raw-tls`: the same raw blast on `Deno.listenTls`, certificate as for `ferry-tls`;
 * - `raw-ws`: a raw `Deno.serve` WebSocket blast (`deno-raw-ws-blast.ts`);
 * - `raw-tcp`: a raw `Deno.listen` blast — a client sends `count:uint32 BE, size:uint32 BE` and the
 *   server writes `count` copies of one preallocated `size`-byte buffer (each `write` awaited, so
 *   the kernel's backpressure paces it); requests on one connection are served in order.
 *
 * Prints `FERRY_BENCH_READY {"port":N}` (plus `"certPem"` for `ferry-tls`) once listening and runs until stdin closes (so it never
 * outlives the bench runner).
 *
 * @module
 */

import { tcpListen } from "../../adapters/deno/tcp.ts";
import { tlsListen } from "../../adapters/deno/tls.ts";
import { benchCertificate } from "../servers/bench-certificate.ts";
import { webSocketListen } from "../../adapters/deno/ws-listen.ts";
import { createFerryBenchServer } from "../servers/ferry-bench-service.ts";
import {
  blastRequestBytes,
  maxBlastBufferBytes,
  webSocketHighWaterMark,
} from "../servers/raw-blast-protocol.ts";
import type { DenoConn, DenoListener } from "../../adapters/deno/deno-api.ts";
import { startDenoRawWebSocketBlast } from "./deno-raw-ws-blast.ts";
import { denoScriptRuntime } from "./deno-script-runtime.ts";
import { benchHost, readyLinePrefix } from "../servers/running-server.ts";

const Deno = denoScriptRuntime();

async function writeAll(conn: DenoConn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.byteLength) {
    written += await conn.write(written === 0 ? bytes : bytes.subarray(written));
  }
}

async function readExactly(conn: DenoConn, into: Uint8Array): Promise<boolean> {
  let filled = 0;
  while (filled < into.byteLength) {
    const n = await conn.read(into.subarray(filled));
    if (n === null) return false;
    filled += n;
  }
  return true;
}

async function serveBlast(conn: DenoConn, bufferOf: (size: number) => Uint8Array) {
  const request = new Uint8Array(blastRequestBytes);
  const view = new DataView(request.buffer);
  try {
    while (await readExactly(conn, request)) {
      const count = view.getUint32(0);
      const size = view.getUint32(4);
      if (size === 0 || size > maxBlastBufferBytes) {
        throw new RangeError(`raw blast: buffer size ${size} is outside 1..${maxBlastBufferBytes}`);
      }
      const buffer = bufferOf(size);
      for (let i = 0; i < count; i++) await writeAll(conn, buffer);
    }
  } catch {
    // the client went away mid-transfer, or sent a bad request: drop the connection
  } finally {
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
}

/** Serves the raw blast on every connection `listener` accepts. */
function startRawBlast<C extends DenoConn>(
  listener: DenoListener<C>,
  prepare: (conn: C) => void,
): { port: number; close(): void } {
  const buffers = new Map<number, Uint8Array>();
  const bufferOf = (size: number) => {
    let buffer = buffers.get(size);
    if (buffer === undefined) {
      buffer = new Uint8Array(size).fill(0x5a);
      buffers.set(size, buffer);
    }
    return buffer;
  };
  (async () => {
    for (;;) {
      const conn = await listener.accept();
      prepare(conn);
      void serveBlast(conn, bufferOf);
    }
  })().catch(() => {}); // the listener closed
  return { port: listener.addr.port, close: () => listener.close() };
}

async function main(kind: string | undefined): Promise<void> {
  let port: number;
  let certPem: string | undefined;
  if (kind === "ferry-tcp") {
    const server = createFerryBenchServer();
    port = (await server.listen(tcpListen({ host: benchHost, port: 0 }))).address.port;
  } else if (kind === "ferry-tls") {
    const certificate = await benchCertificate();
    certPem = certificate.certPem;
    const server = createFerryBenchServer();
    const listen = tlsListen({ host: benchHost, port: 0, cert: certPem, key: certificate.keyPem });
    port = (await server.listen(listen)).address.port;
  } else if (kind === "ferry-ws") {
    const server = createFerryBenchServer();
    port = (await server.listen(
      webSocketListen({
        host: benchHost,
        port: 0,
        highWaterMark: webSocketHighWaterMark,
        allowedOrigins: ["*"], // the Chromium bench's page connects from its own origin
      }),
    )).address.port;
  } else if (kind === "raw-tcp") {
    const listener = Deno.listen({ hostname: benchHost, port: 0, transport: "tcp" });
    port = startRawBlast(listener, (conn) => conn.setNoDelay(true)).port;
  } else if (kind === "raw-tls") {
    const certificate = await benchCertificate();
    certPem = certificate.certPem;
    const listener = Deno.listenTls({
      hostname: benchHost,
      port: 0,
      transport: "tcp",
      cert: certPem,
      key: certificate.keyPem,
    });
    port = startRawBlast(listener, () => {}).port;
  } else if (kind === "raw-ws") {
    port = (await startDenoRawWebSocketBlast()).port;
  } else {
    throw new Error(
      `deno bench server: unknown kind "${kind}" (known: ferry-tcp, ferry-tls, ferry-ws, raw-tcp, raw-tls, raw-ws)`,
    );
  }
  console.log(`${readyLinePrefix}${JSON.stringify({ port, certPem })}`);
  // Runs until the runner closes stdin (or dies).
  const stdin = Deno.stdin.readable.getReader();
  while (!(await stdin.read()).done) {
    // ignore input
  }
  Deno.exit(0);
}

main(Deno.args[0]).catch((error: unknown) => {
  console.error(`deno bench server failed: ${error instanceof Error ? error.stack : error}`);
  Deno.exit(1);
});
