/**
 * The gateway under Deno: `startDenoGateway` (Deno.serve + upgradeWebSocket) in front of a Deno
 * TCP interop server. A Deno WebSocket client with an Origin header runs the 17 interop checks
 * through it; refusals arrive as close codes (unknown target 4404, wrong token 4401, bad Origin
 * refused before the upgrade); a backend that goes away ends the session with 4502.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { startDenoGateway } from "../../adapters/deno/gateway.ts";
import { tcpListen } from "../../adapters/deno/tcp.ts";
import { webSocketConnect, type WebSocketConstructor } from "../../adapters/websocket/connect.ts";
import { runInteropChecks } from "../../interop/checks.ts";
import { createInteropServer } from "../../interop/interop-handler.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { GatewayCloseCode } from "../../src/gateway/close-codes.ts";
import { authenticateToGateway } from "../../src/gateway/gateway-token.ts";
import { ferryPingResponder } from "../../src/extensions/ferry-ping.ts";

const ORIGIN = "http://app.test";
const TOKEN = "deno-gateway-test-token";

/** Deno's WebSocket sending an Origin header (Deno accepts `{ protocols, headers }`). */
function browserConnect(url: string, origin: string, codes: Promise<number>[]) {
  const Base =
    (globalThis as unknown as { WebSocket: new (url: string, init: unknown) => WebSocket })
      .WebSocket;
  const Ctor = class extends Base {
    constructor(target: string, protocols?: string | string[]) {
      super(target, { ...(protocols ? { protocols } : {}), headers: { origin } });
      codes.push(
        new Promise((resolve) =>
          this.addEventListener("close", (event) => resolve((event as CloseEvent).code))
        ),
      );
    }
  } as unknown as WebSocketConstructor;
  return webSocketConnect({ url, WebSocket: Ctor });
}

async function withSetup(
  body: (url: string, base: string, stopBackend: () => Promise<void>) => Promise<void>,
): Promise<void> {
  const backend = createInteropServer({ interceptor: ferryPingResponder });
  const listener = await backend.listen(tcpListen({ host: "127.0.0.1", port: 0 }));
  const running = await startDenoGateway({
    targets: { interop: { host: "127.0.0.1", port: listener.address.port } },
    allowedOrigins: [ORIGIN],
    token: TOKEN,
    allowUpload: true,
    pingIntervalMs: 0,
  });
  const base = `ws://127.0.0.1:${running.address.port}`;
  try {
    await body(`${base}/gateway/interop`, base, () => backend.close());
  } finally {
    await running.close();
    await backend.close();
  }
}

describe("Deno gateway → Deno TCP server", () => {
  it("a Deno WebSocket client runs the 17 interop checks through the gateway", async () => {
    await withSetup(async (url) => {
      const codes: Promise<number>[] = [];
      const client = await TransportClient.connect(browserConnect(url, ORIGIN, codes));
      await authenticateToGateway(client, TOKEN, { timeoutMs: 10_000 });
      const summary = await runInteropChecks(client, { checkTimeoutMs: 20_000 });
      assert.deepEqual(summary.results.filter((result) => !result.passed), []);
      assert.equal(summary.passed, 17);
      await client.close();
      assert.equal(await codes[0], 1000);
    });
  });

  it("refusals arrive as close codes; a bad Origin is refused before the upgrade", async () => {
    await withSetup(async (url, base) => {
      const codes: Promise<number>[] = [];
      const unknown = await TransportClient.connect(
        browserConnect(`${base}/gateway/127.0.0.1:22`, ORIGIN, codes),
      );
      assert.equal(await codes[0], GatewayCloseCode.UnknownTarget);
      await unknown.closed;

      const wrong = await TransportClient.connect(browserConnect(url, ORIGIN, codes));
      await assert.rejects(authenticateToGateway(wrong, "not-the-token", { timeoutMs: 10_000 }));
      assert.equal(await codes[1], GatewayCloseCode.Unauthorized);
      await wrong.closed;

      await assert.rejects(TransportClient.connect(browserConnect(url, "http://evil.test", codes)));
      await codes[2];
    });
  });

  it("a backend that goes away ends the session with 4502", async () => {
    await withSetup(async (url, _base, stopBackend) => {
      const codes: Promise<number>[] = [];
      const client = await TransportClient.connect(browserConnect(url, ORIGIN, codes));
      await authenticateToGateway(client, TOKEN, { timeoutMs: 10_000 });
      await client.sendRpc(new TextEncoder().encode("hello"));
      await stopBackend();
      assert.equal(await codes[0], GatewayCloseCode.BadGateway);
      await client.closed;
    });
  });

  it("serves plain HTTP requests on the same port (onRequest)", async () => {
    const running = await startDenoGateway({
      targets: { interop: { host: "127.0.0.1", port: 9 } },
      allowedOrigins: [ORIGIN],
      onRequest: (request) =>
        new URL(request.url).pathname === "/ferry.js"
          ? new Response("export {};\n", { headers: { "content-type": "text/javascript" } })
          : new Response("not found\n", { status: 404 }),
    });
    try {
      const base = `http://127.0.0.1:${running.address.port}`;
      const script = await fetch(`${base}/ferry.js`);
      assert.equal(script.status, 200);
      assert.equal(await script.text(), "export {};\n");
      const missing = await fetch(`${base}/nope`);
      assert.equal(missing.status, 404);
      await missing.body?.cancel();
    } finally {
      await running.close();
    }
  });
});
