/**
 * Chromium through the gateway: Debian's Chromium runs the shipped bundle (`ferry.js`) and the 17
 * interop checks (`docs/interop.md`) over its own WebSocket to `startNodeGateway`, which bridges to
 *
 * - a Node TCP interop server in this process (directly, and through a browser-side pool with
 *   `gatewayTokenBootstrap`);
 * - a Deno TCP interop server (`interop/server.ts` under Deno, a separate process).
 *
 * And the close codes a refused page sees: unknown target 4404, wrong token 4401, no token 4401.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startNodeGateway } from "../../adapters/node/gateway.ts";
import { tcpListen } from "../../adapters/node/tcp.ts";
import { createInteropServer } from "../../interop/interop-handler.ts";
import { GatewayCloseCode } from "../../src/gateway/close-codes.ts";
import { type OpenBrowserFixture, openBrowserFixture } from "../helpers/browser-fixture.ts";
import { ProcessGroup, serverAddresses } from "../helpers/interop-processes.ts";
import { allPassLines } from "../helpers/interop-expected-lines.ts";

const PAGE = "gateway-interop-page.js";
const TOKEN = "chromium-gateway-token";
const CHECK_TIMEOUT_MS = 20_000;
const GUARD = { timeout: 180_000 };

let fixture: OpenBrowserFixture | undefined;
const group = new ProcessGroup();

before(async () => {
  fixture = await openBrowserFixture({ modules: ["test/browser/pages/gateway-interop-page.ts"] });
});

after(async () => {
  await group.stopAll();
  await fixture?.close();
});

/** Runs the interop checks in the page through the gateway at `base` (directly or via a pool). */
function runGatewayInterop(base: string, viaPool: boolean): Promise<string[]> {
  return fixture!.call<string[]>(
    PAGE,
    "runGatewayInterop",
    `${base}interop`,
    TOKEN,
    CHECK_TIMEOUT_MS,
    viaPool,
  );
}

async function withGateway(
  backendPort: number,
  body: (base: string) => Promise<void>,
): Promise<void> {
  const running = await startNodeGateway({
    targets: { interop: { host: "127.0.0.1", port: backendPort } },
    allowedOrigins: [new URL(fixture!.baseUrl).origin],
    token: TOKEN,
    allowUpload: true,
  });
  try {
    await body(`ws://127.0.0.1:${running.address.port}/gateway/`);
    assert.equal(running.gateway.stats().refusals.origin, 0);
  } finally {
    await running.close();
  }
}

describe("Chromium → gateway → TCP interop servers", () => {
  it("the page uses the gateway API from the shipped bundle", () => {
    const exports = fixture!.library.exports;
    for (const name of ["authenticateToGateway", "gatewayTokenBootstrap", "GatewayCloseCode"]) {
      assert.ok(exports.includes(name), `ferry.js exports ${name}`);
    }
  });

  it("Chromium → Node gateway → Node TCP server", GUARD, async () => {
    const server = createInteropServer();
    try {
      const tcp = await server.listen(tcpListen({ host: "127.0.0.1", port: 0 }));
      await withGateway(tcp.address.port, async (base) => {
        for (const viaPool of [false, true]) {
          const lines = await runGatewayInterop(base, viaPool);
          assert.deepEqual(lines, allPassLines, `viaPool ${viaPool}\n${fixture!.log.join("\n")}`);
        }
      });
    } finally {
      await server.close();
    }
    assert.deepEqual(fixture!.log.filter((line) => line.startsWith("pageerror")), []);
  });

  it("Chromium → Node gateway → Deno TCP server process", GUARD, async () => {
    const server = group.start("deno", "server", ["0", "127.0.0.1"]);
    const { tcp } = await serverAddresses(server, ["tcp"], 60_000);
    await withGateway(tcp.port, async (base) => {
      const lines = await runGatewayInterop(base, false);
      assert.deepEqual(lines, allPassLines, `${fixture!.log.join("\n")}\n${server.describe()}`);
    });
    assert.deepEqual(await server.stop(), { code: 0, signal: null }, server.describe());
  });

  it("a refused page sees why in the close code", GUARD, async () => {
    const server = createInteropServer();
    try {
      const tcp = await server.listen(tcpListen({ host: "127.0.0.1", port: 0 }));
      await withGateway(tcp.address.port, async (base) => {
        const code = (path: string, token: string | undefined) =>
          fixture!.call<number>(PAGE, "gatewayCloseCode", `${base}${path}`, token);
        assert.equal(await code("127.0.0.1:22", TOKEN), GatewayCloseCode.UnknownTarget);
        assert.equal(await code("interop", "wrong-token"), GatewayCloseCode.Unauthorized);
        assert.equal(await code("interop", undefined), GatewayCloseCode.Unauthorized);
      });
    } finally {
      await server.close();
    }
  });
});
