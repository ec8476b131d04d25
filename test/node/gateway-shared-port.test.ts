/**
 * One HTTP port for everything `ferry serve` needs, on Node: static files (`onRequest`, streamed
 * both ways), a direct Ferry WebSocket endpoint (`/ferry`, a TransportServer) and the gateway
 * (`/gateway/<target>`) on a single `webSocketListen`, split by the upgrade request passed to
 * `onSocket` (`gateway.handles` / `gateway.allowUpgrade` / `gateway.accept`).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { tcpConnect, tcpListen } from "../../adapters/node/tcp.ts";
import { webSocketListen } from "../../adapters/node/ws-listen.ts";
import { createInteropServer } from "../../interop/interop-handler.ts";
import { Gateway } from "../../src/gateway/gateway.ts";
import type { Listen, UpgradeRequest } from "../../src/socket.ts";
import { openGatewayBrowser } from "../helpers/gateway-browser.ts";

const ORIGIN = "http://app.test";
const TOKEN = "shared-port-token";
const utf8 = (text: string) => new TextEncoder().encode(text);

/** 3 MiB of a known pattern, produced in 64 KiB pieces as the reader pulls. */
function patternStream(total: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      const size = Math.min(64 * 1024, total - sent);
      if (size === 0) return controller.close();
      const piece = new Uint8Array(size);
      for (let i = 0; i < size; i++) piece[i] = (sent + i) & 0xff;
      sent += size;
      controller.enqueue(piece);
    },
  });
}

describe("one port: static files, /ferry and /gateway/<target>", () => {
  it("serves all three on a single Node listener", { timeout: 60_000 }, async () => {
    const server = createInteropServer();
    const backend = await server.listen(tcpListen({ host: "127.0.0.1", port: 0 }));
    const gateway = new Gateway({
      targets: { interop: { host: "127.0.0.1", port: backend.address.port } },
      connect: (address) => tcpConnect(address),
      allowedOrigins: [ORIGIN],
      token: TOKEN,
    });
    const isFerry = (request: UpgradeRequest) => request.url.split("?")[0] === "/ferry";
    const shared: Listen = (onServerSocket) =>
      webSocketListen({
        host: "127.0.0.1",
        port: 0,
        allowedOrigins: [ORIGIN],
        allowUpgrade: (request) =>
          gateway.handles(request) ? gateway.allowUpgrade(request) : isFerry(request),
        onRequest: (request) => {
          const path = new URL(request.url).pathname;
          if (path === "/ferry.js") return new Response(patternStream(3 * 1024 * 1024));
          if (path === "/echo" && request.method === "POST") {
            return new Response(request.body, { headers: { "x-echo": "1" } });
          }
          return new Response("not found\n", { status: 404 });
        },
      })((socket, context) => {
        const upgrade = context?.upgrade;
        if (upgrade !== undefined && gateway.handles(upgrade)) gateway.accept(socket, upgrade);
        else onServerSocket(socket);
      });
    const listener = await server.listen(shared);
    const base = `127.0.0.1:${listener.address.port}`;
    try {
      const script = await fetch(`http://${base}/ferry.js`);
      assert.equal(script.status, 200);
      const bytes = new Uint8Array(await script.arrayBuffer());
      assert.equal(bytes.length, 3 * 1024 * 1024);
      assert.ok(bytes.every((byte, i) => byte === (i & 0xff)));

      const echoed = await fetch(`http://${base}/echo`, {
        method: "POST",
        body: patternStream(1024 * 1024),
        duplex: "half",
      } as RequestInit);
      assert.equal(echoed.headers.get("x-echo"), "1");
      assert.equal((await echoed.arrayBuffer()).byteLength, 1024 * 1024);
      assert.equal((await fetch(`http://${base}/missing`)).status, 404);

      const direct = await openGatewayBrowser(`ws://${base}/ferry`, { origin: ORIGIN });
      assert.deepEqual(await direct.client.sendRpc(utf8("direct")), utf8("direct"));
      await direct.client.close();

      const viaGateway = await openGatewayBrowser(`ws://${base}/gateway/interop`, {
        origin: ORIGIN,
        token: TOKEN,
      });
      assert.deepEqual(await viaGateway.client.sendRpc(utf8("bridged")), utf8("bridged"));
      await viaGateway.client.close();

      await assert.rejects(openGatewayBrowser(`ws://${base}/elsewhere`, { origin: ORIGIN }));
      await assert.rejects(
        openGatewayBrowser(`ws://${base}/gateway/interop`, { origin: "http://evil.test" }),
      );
      assert.equal(gateway.stats().sessions.total, 1);
    } finally {
      await gateway.close();
      await server.close();
    }
  });
});
