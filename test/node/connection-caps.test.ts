/**
 * Connection caps on real listeners (issue 15, item 3), and the direct WebSocket listener's
 * Origin allowlist and upgrade-header deadline (item 7): the N+1th connection — in total or from
 * one address — is refused at once and counted, and the server keeps serving the others.
 * Loopback only: 127.0.0.2 and 127.0.0.3 are other addresses of the same host on Linux.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import WebSocket from "ws";
import { tcpConnect, tcpListen } from "../../adapters/node/tcp.ts";
import { webSocketListen } from "../../adapters/node/ws-listen.ts";
import { wsConnect } from "../../adapters/node/ws-connect.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { defaultLimits } from "../../src/limits.ts";
import {
  CONNECTION_CAP_CLOSE_CODE,
  type ConnectionAdmissionStats,
} from "../../src/server/connection-admission.ts";
import { generateSelfSignedCertificate } from "../../src/tls/self-signed-certificate.ts";
import { tlsConnect, tlsListen } from "../../adapters/node/tls.ts";
import { createInteropServer } from "../../interop/interop-handler.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);

/**
 * A raw TCP connection from `localAddress`. `closed` resolves how long after the connect began
 * the server closed it (a refused one may be reset before the client even sees it connect).
 */
function rawTcp(port: number, localAddress: string) {
  const start = Date.now();
  const socket = net.connect({ host: "127.0.0.1", port, localAddress });
  socket.on("error", () => {});
  socket.resume(); // read (and drop) what the server answers, so its end is seen
  const opened = new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  const closed = new Promise<number>((resolve) => {
    socket.once("close", () => resolve(Date.now() - start));
  });
  return { socket, opened, closed };
}

/** What an upgrade gets: "open" (the socket stays open), or the HTTP status that refused it. */
function upgrade(url: string, options: { origin?: string; localAddress?: string } = {}) {
  return new Promise<{ outcome: "open" | number; ws: WebSocket }>((resolve, reject) => {
    const ws = new WebSocket(url, {
      ...(options.origin === undefined ? {} : { origin: options.origin }),
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
    });
    ws.once("open", () => resolve({ outcome: "open", ws }));
    ws.once("unexpected-response", (_request, response) => {
      resolve({ outcome: response.statusCode ?? 0, ws });
      ws.terminate();
    });
    ws.once("error", (error) => reject(error));
  });
}

describe("connection caps and direct WebSocket admission (Node)", () => {
  it("TCP: the N+1th connection, from one address or in total, is closed at once", async () => {
    const server = createInteropServer({ maxConnections: 4, maxConnectionsPerAddress: 3 });
    const clients: TransportClient[] = [];
    const raws: net.Socket[] = [];
    try {
      const { port } = (await server.listen(tcpListen({ host: "127.0.0.1", port: 0 }))).address;
      for (let i = 0; i < 3; i++) {
        clients.push(await TransportClient.connect(tcpConnect({ host: "127.0.0.1", port })));
      }
      await until(() => server.connectionStats.open === 3);
      // A fourth from 127.0.0.1: over maxConnectionsPerAddress.
      const sameAddress = rawTcp(port, "127.0.0.1");
      raws.push(sameAddress.socket);
      const sameMs = await sameAddress.closed;
      // One from 127.0.0.2 fits (4 in total); then one from 127.0.0.3 is over maxConnections.
      const other = rawTcp(port, "127.0.0.2");
      raws.push(other.socket);
      await other.opened;
      await until(() => server.connectionStats.open === 4);
      const overTotal = rawTcp(port, "127.0.0.3");
      raws.push(overTotal.socket);
      const totalMs = await overTotal.closed;
      const stats: ConnectionAdmissionStats = server.connectionStats;
      console.log(
        `TCP caps 4 total / 3 per address: 4th from one address closed after ${sameMs} ms, ` +
          `5th in total after ${totalMs} ms; stats ${JSON.stringify(stats)}`,
      );
      assert.deepEqual(stats, { open: 4, refusedTotal: 1, refusedPerAddress: 1 });
      for (const client of clients) {
        assert.deepEqual(await client.sendRpc(utf8("still served")), utf8("still served"));
      }
      // A freed slot is taken again.
      await clients.pop()!.close();
      await until(() => server.connectionStats.open === 3);
      clients.push(await TransportClient.connect(tcpConnect({ host: "127.0.0.1", port })));
      assert.deepEqual(await clients.at(-1)!.sendRpc(utf8("again")), utf8("again"));
    } finally {
      for (const raw of raws) raw.destroy();
      await Promise.all(clients.map((client) => client.close()));
      await server.close();
    }
  });

  it("TLS: the connection over a cap is closed after the handshake, unread", async () => {
    const { certPem, keyPem } = await generateSelfSignedCertificate();
    const server = createInteropServer({ maxConnectionsPerAddress: 1 });
    const clients: TransportClient[] = [];
    try {
      const { port } = (await server.listen(
        tlsListen({ host: "127.0.0.1", port: 0, cert: certPem, key: keyPem }),
      )).address;
      const connect = tlsConnect({ host: "127.0.0.1", port, ca: certPem, serverName: "localhost" });
      clients.push(await TransportClient.connect(connect));
      await until(() => server.connectionStats.open === 1);
      const refused = await TransportClient.connect(connect);
      clients.push(refused);
      const started = Date.now();
      const closed = await refused.closed;
      console.log(
        `TLS cap 1 per address: the 2nd connection closed ${Date.now() - started} ms after its ` +
          `handshake (${closed.error === undefined ? "graceful" : "with an error"}); ` +
          `stats ${JSON.stringify(server.connectionStats)}`,
      );
      assert.deepEqual(server.connectionStats, { open: 1, refusedTotal: 0, refusedPerAddress: 1 });
      assert.deepEqual(await clients[0]!.sendRpc(utf8("tls")), utf8("tls"));
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      await server.close();
    }
  });

  it("TransportServer caps on a WebSocket listener close the upgraded socket with 1013", async () => {
    const server = createInteropServer({ maxConnectionsPerAddress: 1 });
    const open: WebSocket[] = [];
    try {
      const { url } = (await server.listen(webSocketListen({ host: "127.0.0.1", port: 0 })))
        .address;
      const first = await upgrade(url);
      open.push(first.ws);
      await until(() => server.connectionStats.open === 1);
      const second = await upgrade(url);
      open.push(second.ws);
      const code = await new Promise<number>((resolve) => second.ws.once("close", resolve));
      console.log(`TransportServer cap over WebSocket: closed with ${code}`);
      assert.equal(code, CONNECTION_CAP_CLOSE_CODE);
      assert.equal(server.connectionStats.refusedPerAddress, 1);
    } finally {
      for (const ws of open) ws.terminate();
      await server.close();
    }
  });

  it("WebSocket: over a cap the upgrade gets 503 before upgrading, counted", async () => {
    const server = createInteropServer();
    let stats: (() => ConnectionAdmissionStats) | undefined;
    const open: WebSocket[] = [];
    try {
      const listener = await server.listen(
        webSocketListen({
          host: "127.0.0.1",
          port: 0,
          maxConnections: 3,
          maxConnectionsPerAddress: 2,
          onStats: (read) => (stats = read),
        }),
      );
      const url = listener.address.url;
      const outcomes: (number | string)[] = [];
      for (
        const localAddress of ["127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.3"]
      ) {
        const { outcome, ws } = await upgrade(url, { localAddress });
        outcomes.push(outcome);
        if (outcome === "open") open.push(ws);
      }
      console.log(
        `WebSocket caps 3 total / 2 per address: ${outcomes.join(", ")}; ` +
          `stats ${JSON.stringify(stats!())}`,
      );
      assert.deepEqual(outcomes, ["open", "open", 503, "open", 503]);
      assert.deepEqual(stats!(), { open: 3, refusedTotal: 1, refusedPerAddress: 1 });
      // The open ones are served: a Ferry client over one more slot after one closes.
      open.shift()!.close();
      await until(() => stats!().open === 2);
      const client = await TransportClient.connect(
        wsConnect({ url }),
      );
      try {
        assert.deepEqual(await client.sendRpc(utf8("served")), utf8("served"));
      } finally {
        await client.close();
      }
    } finally {
      for (const ws of open) ws.terminate();
      await server.close();
    }
  });

  it("direct WebSocket: a page whose Origin is not allowed gets 403; no Origin is let in", async () => {
    const server = createInteropServer();
    try {
      const plain = await server.listen(webSocketListen({ host: "127.0.0.1", port: 0 }));
      const listed = await server.listen(
        webSocketListen({
          host: "127.0.0.1",
          port: 0,
          allowedOrigins: ["http://app.test"],
        }),
      );
      const strict = await server.listen(
        webSocketListen({
          host: "127.0.0.1",
          port: 0,
          allowedOrigins: ["http://app.test"],
          allowMissingOrigin: false,
        }),
      );
      const results: Record<string, number | string> = {};
      const cases: [string, string, string | undefined][] = [
        ["default, a page", plain.address.url, "http://evil.test"],
        ["default, no Origin", plain.address.url, undefined],
        ["listed page", listed.address.url, "http://app.test"],
        ["other page", listed.address.url, "http://evil.test"],
        ["'null' origin", listed.address.url, "null"],
        ["strict, no Origin", strict.address.url, undefined],
      ];
      for (const [name, url, origin] of cases) {
        const { outcome, ws } = await upgrade(url, origin === undefined ? {} : { origin });
        results[name] = outcome;
        ws.terminate();
      }
      console.log(`direct WebSocket Origin checks: ${JSON.stringify(results)}`);
      assert.deepEqual(results, {
        "default, a page": 403,
        "default, no Origin": "open",
        "listed page": "open",
        "other page": 403,
        "'null' origin": 403,
        "strict, no Origin": 403,
      });
    } finally {
      await server.close();
    }
  });

  it("direct WebSocket: a half-sent upgrade request is closed at the header deadline", async () => {
    const server = createInteropServer();
    try {
      const fast = await server.listen(
        webSocketListen({ host: "127.0.0.1", port: 0, headersTimeoutMs: 1_000 }),
      );
      const byDefault = await server.listen(webSocketListen({ host: "127.0.0.1", port: 0 }));
      const halfSent = (port: number) => {
        const raw = rawTcp(port, "127.0.0.1");
        raw.opened.then(() =>
          raw.socket.write("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upg")
        );
        return raw.closed;
      };
      const [fastMs, defaultMs] = await Promise.all([
        halfSent(fast.address.port),
        halfSent(byDefault.address.port),
      ]);
      const limit = defaultLimits.upgradeHeadersTimeoutMs;
      console.log(
        `half-sent upgrade closed after ${fastMs} ms (headersTimeoutMs 1000) and ${defaultMs} ms ` +
          `(default ${limit})`,
      );
      // Node checks the deadline every half deadline: closed between 1× and 1.5× (plus slack).
      assert.ok(fastMs >= 900 && fastMs < 1_500 + 5_000, `${fastMs} ms`);
      assert.ok(defaultMs >= limit - 100 && defaultMs < 1.5 * limit + 10_000, `${defaultMs} ms`);
    } finally {
      await server.close();
    }
  });
});

async function until(done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!done()) {
    if (Date.now() - start > timeoutMs) assert.fail("timed out");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
