/**
 * A bench client in Deno: `deno run -A bench/deno/deno-bench-client.ts KIND HOST PORT`, KIND one of
 *
 * - `ferry-tcp`: a TransportClient over Ferry's Deno TCP adapter fetching 1 MiB chunks, 16 in
 *   flight (`bench/cases/chunk-fetch-work.ts`), from the bench Ferry service;
 * - `raw-tcp`: a raw `Deno.connect` client asking the raw Deno blast for `count` 1 MiB buffers and
 *   counting bytes as it reads them into one reused 1 MiB buffer (nothing copied or parsed).
 *
 * Connects once, then for every stdin line `COUNT` runs one transfer of COUNT chunks and prints
 * one JSON line: its figures (`mibPerSecond`, `seconds`, ...) or `{"error": "..."}`.
 *
 * @module
 */

import { tcpConnect } from "../../adapters/deno/tcp.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { chunkBytes, fetchChunks, throughput } from "../cases/chunk-fetch-work.ts";
import { withWriteCount } from "../cases/write-count.ts";
import { denoScriptRuntime } from "./deno-script-runtime.ts";
import { blastRequestBytes } from "../servers/raw-blast-protocol.ts";

const Deno = denoScriptRuntime();

type Transfer = (count: number) => Promise<Record<string, number>>;

async function openFerry(hostname: string, port: number): Promise<Transfer> {
  const client = await TransportClient.connect(tcpConnect({ host: hostname, port }), {
    timeoutMs: 10_000,
  });
  return (count) => withWriteCount(client, () => fetchChunks(client, count));
}

async function openRaw(hostname: string, port: number): Promise<Transfer> {
  const conn = await Deno.connect({ hostname, port, transport: "tcp" });
  conn.setNoDelay(true);
  const readBuffer = new Uint8Array(chunkBytes);
  const request = new Uint8Array(blastRequestBytes);
  const view = new DataView(request.buffer);
  return async (count) => {
    const expected = count * chunkBytes;
    const startedAt = performance.now();
    view.setUint32(0, count);
    view.setUint32(4, chunkBytes);
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

async function main([kind, hostname, portText]: readonly string[]): Promise<void> {
  const port = Number(portText);
  if (hostname === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`deno bench client: usage KIND HOST PORT, received ${Deno.args.join(" ")}`);
  }
  const transfer = kind === "ferry-tcp"
    ? await openFerry(hostname, port)
    : kind === "raw-tcp"
    ? await openRaw(hostname, port)
    : undefined;
  if (transfer === undefined) {
    throw new Error(`deno bench client: unknown kind "${kind}" (known: ferry-tcp, raw-tcp)`);
  }
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
