/**
 * Deno's WebSocket listener admits upgrades as Node's does (issue 15, items 3 and 7): Origin
 * allowlist (a page not listed gets 403, no Origin is let in unless `allowMissingOrigin: false`)
 * and connection caps (503 before upgrading, counted). The upgrade-header deadline cannot be
 * applied on `Deno.serve` (it exposes none; see the listener's module doc). Raw HTTP requests over
 * `Deno.connect`, so the Origin header is exactly what the test sends.
 */
import assert from "node:assert/strict";
import { webSocketListen } from "../../adapters/deno/ws-listen.ts";
import type { ConnectionAdmissionStats } from "../../src/server/connection-admission.ts";
import type { Socket } from "../../src/socket.ts";
import { denoSanitizedTest } from "../helpers/deno-sanitized-test.ts";

interface DenoConn {
  write(bytes: Uint8Array): Promise<number>;
  read(buffer: Uint8Array): Promise<number | null>;
  close(): void;
}
const deno = (globalThis as unknown as {
  Deno: {
    connect(options: { hostname: string; port: number }): Promise<DenoConn>;
  };
}).Deno;

/** Sends an upgrade request; returns its status and the still-open connection. */
async function upgrade(port: number, origin: string | undefined) {
  const conn = await deno.connect({ hostname: "127.0.0.1", port });
  const request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n" +
    "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
    (origin === undefined ? "" : `Origin: ${origin}\r\n`) + "\r\n";
  await conn.write(new TextEncoder().encode(request));
  const buffer = new Uint8Array(1024);
  let head = "";
  while (!head.includes("\r\n")) {
    const n = await conn.read(buffer);
    if (n === null) break;
    head += new TextDecoder().decode(buffer.subarray(0, n));
  }
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  return { status, conn };
}

denoSanitizedTest("deno ws listen: Origin allowlist (403) and connection caps (503)", async () => {
  const accepted: Socket[] = [];
  let stats: (() => ConnectionAdmissionStats) | undefined;
  const listener = await webSocketListen({
    host: "127.0.0.1",
    port: 0,
    allowedOrigins: ["http://app.test"],
    maxConnections: 3,
    maxConnectionsPerAddress: 2,
    onStats: (read) => (stats = read),
  })((socket) => {
    accepted.push(socket);
    socket.attach({ data() {}, drain() {}, close() {} });
  });
  const conns: DenoConn[] = [];
  try {
    const { port } = listener.address;
    const statuses: Record<string, number> = {};
    for (const [name, origin] of [["other page", "http://evil.test"], ["null", "null"]] as const) {
      const { status, conn } = await upgrade(port, origin);
      conn.close();
      statuses[name] = status;
    }
    // Two from 127.0.0.1 fill its per-address cap; the third is refused before upgrading.
    for (const name of ["listed page", "no Origin", "third from one address"]) {
      const { status, conn } = await upgrade(
        port,
        name === "listed page" ? "http://app.test" : undefined,
      );
      conns.push(conn);
      statuses[name] = status;
    }
    console.log(`Deno ws listen: ${JSON.stringify(statuses)}; stats ${JSON.stringify(stats!())}`);
    assert.deepEqual(statuses, {
      "other page": 403,
      null: 403,
      "listed page": 101,
      "no Origin": 101,
      "third from one address": 503,
    });
    assert.deepEqual(stats!(), { open: 2, refusedTotal: 0, refusedPerAddress: 1 });
  } finally {
    for (const conn of conns) conn.close();
    for (const socket of accepted) socket.close();
    await listener.close();
  }
});
