/**
 * A bench client in Deno: `deno run -A bench/deno/deno-bench-client.ts KIND HOST PORT [CERT_PEM]`,
 * KIND one of
 *
 * - `ferry-tcp`: a TransportClient over Ferry's Deno TCP adapter fetching 1 MiB chunks, 16 in
 *   flight, each lent to a callback that counts it (`fetchChunkWith`, `fetchChunksLent` in
 *   `bench/cases/chunk-fetch-work.ts`), from the bench Ferry service;
 * - `ferry-tls`: the same lent fetches over Ferry's Deno TLS adapter (`Deno.startTls`, verified,
 *   trusting CERT_PEM, the server's self-signed certificate);
 * - `ferry-tcp-owned`: the same with `fetchChunk`, each body the caller's to keep (a fresh buffer
 *   per chunk);
 * - `ferry-ws` / `ferry-ws-owned`: the same two over `webSocketConnect` with Deno's own WebSocket;
 * - `ferry-wsconnect`: lent over `wsConnect` (Ferry's own WebSocket framing on Deno TCP);
 * - `raw-ws`: Deno's WebSocket asking the raw Deno WebSocket blast for 1 MiB binary messages and
 *   counting their bytes;
 * - `raw-tcp`: a raw `Deno.connect` client asking the raw Deno blast for `count` 1 MiB buffers and
 *   counting bytes as it reads them into one reused 1 MiB buffer (nothing copied or parsed);
 * - `raw-tls`: the same over `Deno.startTls` against the raw Deno TLS blast (trusting CERT_PEM).
 *
 * Connects once, then for every stdin line `COUNT` runs one transfer of COUNT chunks and prints
 * one JSON line: its figures (`mibPerSecond`, `seconds`, ...) or `{"error": "..."}`.
 *
 * @module
 */

import { tcpConnect } from "../../adapters/deno/tcp.ts";
import { tlsConnect } from "../../adapters/deno/tls.ts";
import { webSocketConnect } from "../../adapters/websocket/connect.ts";
import { wsConnect } from "../../adapters/deno/ws-connect.ts";
import type { Connect } from "../../src/socket.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { chunkBytes, fetchChunks, fetchChunksLent, throughput } from "../cases/chunk-fetch-work.ts";
import { withWriteCount } from "../cases/write-count.ts";
import { denoScriptRuntime } from "./deno-script-runtime.ts";
import type { DenoConn } from "../../adapters/deno/deno-api.ts";
import { BlastTransfer } from "../baselines/blast-transfer.ts";
import { encodeBlastRequest } from "../servers/raw-blast-protocol.ts";

const Deno = denoScriptRuntime();

type Transfer = (count: number) => Promise<Record<string, number>>;
type Opener = (hostname: string, port: number, certPem: string | undefined) => Promise<Transfer>;

/** A Ferry TCP client whose transfers fetch with `fetchChunks` or `fetchChunksLent`. */
function ferryTcp(fetch: typeof fetchChunks): Opener {
  return async (hostname, port) => {
    const client = await TransportClient.connect(tcpConnect({ host: hostname, port }), {
      timeoutMs: 10_000,
    });
    return (count) => withWriteCount(client, () => fetch(client, count));
  };
}

/** Lent fetches over Ferry's Deno TLS adapter, trusting `certPem`. */
const ferryTls: Opener = async (hostname, port, certPem) => {
  if (certPem === undefined) throw new Error("deno bench client: ferry-tls needs CERT_PEM");
  const connect = tlsConnect({ host: hostname, port, ca: certPem });
  const client = await TransportClient.connect(connect, { timeoutMs: 10_000 });
  return (count) => withWriteCount(client, () => fetchChunksLent(client, count));
};

/** The same over `webSocketConnect` with Deno's own WebSocket (or another WebSocket connect). */
function ferryWebSocket(
  fetch: typeof fetchChunks,
  connectTo: (url: string) => Connect = (url) => webSocketConnect({ url }),
) {
  return async (hostname: string, port: number): Promise<Transfer> => {
    const connect = connectTo(`ws://${hostname}:${port}/`);
    const client = await TransportClient.connect(connect, { timeoutMs: 10_000 });
    return (count) => withWriteCount(client, () => fetch(client, count));
  };
}

/** Deno's WebSocket asks the raw ws blast for `count` messages and counts their bytes. */
async function openRawWebSocket(hostname: string, port: number): Promise<Transfer> {
  const ws = new WebSocket(`ws://${hostname}:${port}/`);
  ws.binaryType = "arraybuffer";
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error(`raw ws: cannot connect to ${hostname}:${port}`));
  });
  const transfer = new BlastTransfer("raw ws");
  ws.onmessage = (event: MessageEvent) => transfer.received((event.data as ArrayBuffer).byteLength);
  ws.onclose = (event) => transfer.fail(new Error(`raw ws: closed mid-transfer (${event.code})`));
  return async (count) => {
    const startedAt = performance.now();
    const received = await transfer.start(count, chunkBytes, (request) => ws.send(request));
    return throughput(received, count * chunkBytes, startedAt);
  };
}

async function openRaw(hostname: string, port: number): Promise<Transfer> {
  const conn = await Deno.connect({ hostname, port, transport: "tcp" });
  conn.setNoDelay(true);
  return rawBlastReader(conn);
}

/** The raw blast over `Deno.startTls` (verified, trusting `certPem`). */
const openRawTls: Opener = async (hostname, port, certPem) => {
  if (certPem === undefined) throw new Error("deno bench client: raw-tls needs CERT_PEM");
  const tcp = await Deno.connect({ hostname, port, transport: "tcp" });
  tcp.setNoDelay(true);
  const conn = await Deno.startTls(tcp, { hostname, caCerts: [certPem] });
  await conn.handshake();
  return rawBlastReader(conn);
};

/** Asks the raw blast on `conn` for `count` 1 MiB buffers, reading into one reused buffer. */
function rawBlastReader(conn: DenoConn): Transfer {
  const readBuffer = new Uint8Array(chunkBytes);
  return async (count) => {
    const expected = count * chunkBytes;
    const startedAt = performance.now();
    const request = encodeBlastRequest(count, chunkBytes);
    let written = 0;
    while (written < request.byteLength) written += await conn.write(request.subarray(written));
    let received = 0;
    while (received < expected) {
      const n = await conn.read(readBuffer);
      if (n === null) throw new Error(`raw tcp: connection closed after ${received} bytes`);
      received += n;
    }
    return throughput(received, expected, startedAt);
  };
}

const openers: Record<string, Opener> = {
  "ferry-tcp": ferryTcp(fetchChunksLent),
  "ferry-tls": ferryTls,
  "ferry-tcp-owned": ferryTcp(fetchChunks),
  "ferry-ws": ferryWebSocket(fetchChunksLent),
  "ferry-ws-owned": ferryWebSocket(fetchChunks),
  "ferry-wsconnect": ferryWebSocket(fetchChunksLent, (url) => wsConnect({ url })),
  "raw-tcp": openRaw,
  "raw-tls": openRawTls,
  "raw-ws": openRawWebSocket,
};

async function main([kind, hostname, portText, certPem]: readonly string[]): Promise<void> {
  const port = Number(portText);
  if (hostname === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`deno bench client: usage KIND HOST PORT, received ${Deno.args.join(" ")}`);
  }
  const open = kind === undefined ? undefined : openers[kind];
  if (open === undefined) {
    const known = Object.keys(openers).join(", ");
    throw new Error(`deno bench client: unknown kind "${kind}" (known: ${known})`);
  }
  const transfer = await open(hostname, port, certPem);
  const encoder = new TextEncoder();
  const reply = (value: unknown) =>
    Deno.stdout.writeSync(encoder.encode(`${JSON.stringify(value)}\n`));
  reply({ ready: true });
  const reader = Deno.stdin.readable.getReader();
  const decoder = new TextDecoder();
  let pending = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    pending += decoder.decode(value, { stream: true });
    let newline: number;
    while ((newline = pending.indexOf("\n")) >= 0) {
      const count = Number(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      try {
        if (!Number.isInteger(count) || count < 1) throw new Error(`bad chunk count ${count}`);
        reply(await transfer(count));
      } catch (error) {
        reply({ error: error instanceof Error ? error.message : String(error) });
      }
    }
  }
  Deno.exit(0);
}

main(Deno.args).catch((error: unknown) => {
  console.error(`deno bench client failed: ${error instanceof Error ? error.stack : error}`);
  Deno.exit(1);
});
