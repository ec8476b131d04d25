/**
 * The gateway on real sockets in Node: `startNodeGateway` on 127.0.0.1 port 0 in front of a Ferry
 * TCP server. A Node WebSocket client (a stand-in browser with an Origin header) runs the 17
 * interop checks through it, directly and through a pool with `gatewayTokenBootstrap`; refusals
 * arrive as close codes; a tab that stops answering pings is cut off and its backend connection
 * released; 100 browsers connected when the backend goes silent are all closed with 4502 within
 * the heartbeat timeout (the figure is printed); a slowloris upgrade is cut off.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { type RunningGateway, startNodeGateway } from "../../adapters/node/gateway.ts";
import { tcpListen } from "../../adapters/node/tcp.ts";
import { webSocketConnect } from "../../adapters/websocket/connect.ts";
import { runInteropChecks } from "../../interop/checks.ts";
import { createInteropServer } from "../../interop/interop-handler.ts";
import type { TransportClient } from "../../src/client/transport-client.ts";
import { GatewayCloseCode } from "../../src/gateway/close-codes.ts";
import { gatewayTokenBootstrap } from "../../src/gateway/gateway-token.ts";
import { ConnectionPool } from "../../src/pool/connection-pool.ts";
import { ferryPingResponder } from "../../src/extensions/ferry-ping.ts";
import { startFerryHeartbeat } from "../../src/extensions/ferry-heartbeat.ts";
import { transportConnector } from "../../src/pool/transport-connector.ts";
import type { TransportServer } from "../../src/server/transport-server.ts";
import WebSocket from "ws";
import { FaultProxy } from "../helpers/fault-proxy.ts";
import { openGatewayBrowser, refusedCloseCode } from "../helpers/gateway-browser.ts";

const ORIGIN = "http://app.test";
const TOKEN = "node-gateway-test-token";
const GUARD = { timeout: 120_000 };

let backend: TransportServer;
let backendPort: number;

before(async () => {
  backend = createInteropServer({ interceptor: ferryPingResponder });
  const listener = await backend.listen(tcpListen({ host: "127.0.0.1", port: 0 }));
  backendPort = listener.address.port;
});

after(async () => {
  await backend.close();
});

async function withGateway(
  options: Partial<Parameters<typeof startNodeGateway>[0]>,
  body: (running: RunningGateway, url: string) => Promise<void>,
): Promise<void> {
  const running = await startNodeGateway({
    targets: { interop: { host: "127.0.0.1", port: backendPort, peerFeatures: ["ferry"] } },
    allowedOrigins: [ORIGIN],
    token: TOKEN,
    allowUpload: true,
    ...options,
  });
  try {
    await body(running, `ws://127.0.0.1:${running.address.port}/gateway/interop`);
  } finally {
    await running.close();
  }
}

describe("Node gateway → Ferry TCP server", () => {
  it("a Node WebSocket client runs the 17 interop checks through the gateway", GUARD, async () => {
    await withGateway({}, async (running, url) => {
      const browser = await openGatewayBrowser(url, { origin: ORIGIN, token: TOKEN });
      const summary = await runInteropChecks(browser.client, { checkTimeoutMs: 20_000 });
      assert.deepEqual(summary.results.filter((result) => !result.passed), []);
      assert.equal(summary.passed, 17);
      await browser.client.close();
      assert.equal(await browser.closeCode(), 1000);
      const stats = running.gateway.stats();
      assert.equal(stats.sessions.total, 1);
      assert.ok(stats.bytes.fromBrowsers > 4 * 1024 * 1024);
    });
  });

  it(
    "a browser-side pool authenticates each connection with gatewayTokenBootstrap",
    GUARD,
    async () => {
      await withGateway({}, async (_running, url) => {
        const Origin = class extends WebSocket {
          constructor(target: string, protocols?: string | string[]) {
            super(target, protocols, { origin: ORIGIN });
          }
        };
        const pool = new ConnectionPool<TransportClient>({
          connector: transportConnector(() =>
            webSocketConnect({ url, WebSocket: Origin as never })
          ),
          bootstraps: [gatewayTokenBootstrap(TOKEN)],
          maxStreamsPerConnection: Infinity,
        });
        try {
          const lease = await pool.lease("gateway");
          const summary = await runInteropChecks(lease.client, { checkTimeoutMs: 20_000 });
          assert.equal(
            summary.passed,
            17,
            JSON.stringify(summary.results.filter((r) => !r.passed)),
          );
          lease.release();
        } finally {
          await pool.close();
        }
      });
    },
  );

  it("refusals reach the browser as close codes (or 403 before the upgrade)", GUARD, async () => {
    await withGateway({}, async (running, url) => {
      const base = url.replace(/\/gateway\/interop$/, "");
      assert.equal(
        await refusedCloseCode(`${base}/gateway/127.0.0.1:${backendPort}`, ORIGIN),
        GatewayCloseCode.UnknownTarget,
      );
      assert.equal(await refusedCloseCode(url, ORIGIN), GatewayCloseCode.Unauthorized);
      const wrong = await openGatewayBrowser(url, { origin: ORIGIN });
      await assert.rejects(
        import("../../src/gateway/gateway-token.ts").then((m) =>
          m.authenticateToGateway(wrong.client, "wrong-token-value")
        ),
      );
      assert.equal(await wrong.closeCode(), GatewayCloseCode.Unauthorized);
      await assert.rejects(openGatewayBrowser(url, { origin: "http://evil.test" }), /403|connect/);
      await assert.rejects(openGatewayBrowser(url, {}), /403|connect/);
      const refusals = running.gateway.stats().refusals;
      assert.equal(refusals["unknown-target"], 1);
      assert.equal(refusals["auth-required"] + refusals["auth-failed"], 2);
      assert.equal(refusals.origin, 2);
      assert.equal(running.gateway.stats().pool.total.connections, 0, "no backend connect");
    });
  });

  it("a tab that stops answering pings is cut off and its backend released", GUARD, async () => {
    await withGateway({ pingIntervalMs: 100 }, async (running, url) => {
      const browser = await openGatewayBrowser(url, { origin: ORIGIN, token: TOKEN });
      await browser.client.sendRpc(new TextEncoder().encode("hello"));
      assert.equal(running.gateway.stats().pool.total.connections, 1);
      // Freeze the "tab": its TCP socket stops being read, so no pong is ever sent.
      (browser.ws as unknown as { _socket: net.Socket })._socket.pause();
      while (running.gateway.stats().sessions.open > 0) await sleep(50);
      while (running.gateway.stats().pool.total.connections > 0) await sleep(50);
      browser.ws.terminate();
    });
  });

  it(
    "100 browsers connected when the backend goes silent are all closed with 4502",
    GUARD,
    async () => {
      const proxy = await FaultProxy.start({ port: backendPort });
      // The heartbeat starts once the backend is silent: before the fault no deadline runs, so a
      // loaded machine answering a ping late cannot close a session early; after it nothing can
      // answer, so every session ends with 4502 however slow the machine is. (That the gateway
      // starts the heartbeat itself is gateway-session.test.ts's case.)
      const intervalMs = 100;
      const timeoutMs = 1500;
      const backends: TransportClient[] = [];
      try {
        await withGateway({
          targets: { interop: { host: "127.0.0.1", port: proxy.port, peerFeatures: ["ferry"] } },
          maxConnectionsPerIp: 200,
          backend: { heartbeat: false, bootstraps: [(client) => void backends.push(client)] },
        }, async (running, url) => {
          const browsers = await Promise.all(
            Array.from(
              { length: 100 },
              () => openGatewayBrowser(url, { origin: ORIGIN, token: TOKEN }),
            ),
          );
          await Promise.all(
            browsers.map((browser) => browser.client.sendRpc(new TextEncoder().encode("up"))),
          );
          assert.equal(running.gateway.stats().pool.total.connections, 100);
          const started = performance.now();
          proxy.setFault({ kind: "blackhole" });
          for (const client of backends) startFerryHeartbeat(client, { intervalMs, timeoutMs });
          const codes = await Promise.all(
            browsers.map((browser) =>
              browser.closeCode().then((code) => [code, performance.now()])
            ),
          );
          const last = Math.max(...codes.map(([, at]) => at!)) - started;
          console.log(
            `100 browsers, backend blackholed: all closed ${last.toFixed(0)} ms after the fault ` +
              `(heartbeat interval ${intervalMs} ms + timeout ${timeoutMs} ms = ` +
              `${intervalMs + timeoutMs} ms)`,
          );
          assert.deepEqual(
            [...new Set(codes.map(([code]) => code))],
            [GatewayCloseCode.BadGateway],
          );
          assert.equal(running.gateway.stats().refusals["backend-closed"], 100);
        });
      } finally {
        await proxy.close();
      }
    },
  );

  it("an upgrade whose headers drip in (slowloris) is cut off", GUARD, async () => {
    await withGateway({ upgradeTimeoutMs: 500 }, async (running) => {
      const socket = net.connect(running.address.port, "127.0.0.1");
      socket.on("error", () => {}); // a write racing the cut-off fails with EPIPE/ECONNRESET
      await new Promise((resolve) => socket.once("connect", resolve));
      socket.write("GET /gateway/interop HTTP/1.1\r\nHost: x\r\n");
      const drip = setInterval(() => socket.write("X-Drip: 1\r\n"), 100);
      await new Promise((resolve) => socket.once("close", resolve));
      clearInterval(drip);
    });
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
