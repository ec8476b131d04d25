/**
 * Chromium's cells of the interop matrix: Debian's Chromium runs the shipped browser bundle
 * (`ferry.js`, with the WebSocket connector over Chromium's own WebSocket) and the 17 interop
 * checks against
 *
 * - a Node server in this process: one TransportServer with a TCP and a WebSocket listener (the
 *   same checks then pass over TCP too, on the same server);
 * - a Deno server: `interop/server.ts --ws 0` under Deno, as a separate process.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { interopCheckNames, runInteropChecks } from "../../interop/checks.ts";
import { createInteropServer } from "../../interop/interop-handler.ts";
import { tcpConnect, tcpListen } from "../../adapters/node/tcp.ts";
import { webSocketListen } from "../../adapters/node/ws-listen.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { type OpenBrowserFixture, openBrowserFixture } from "../helpers/browser-fixture.ts";
import { ProcessGroup, serverAddresses } from "../helpers/interop-processes.ts";
import { allPassLines } from "../helpers/interop-expected-lines.ts";

const PAGE = "websocket-interop-page.js";
const CHECK_TIMEOUT_MS = 20_000;
const GUARD = { timeout: 180_000 };

let fixture: OpenBrowserFixture | undefined;
const group = new ProcessGroup();

before(async () => {
  fixture = await openBrowserFixture({ modules: ["test/browser/pages/websocket-interop-page.ts"] });
});

after(async () => {
  await group.stopAll();
  await fixture?.close();
});

describe("Chromium ⇄ interop servers over WebSocket", () => {
  it("the page links the shipped bundle instead of carrying its own copy", () => {
    const page = fixture!.modules[PAGE]!;
    const ownSources = page.inputs.filter((input) => !input.startsWith("test/browser/pages/"));
    // Everything from src/ and adapters/ comes from ferry.js; only the checks (and pure helpers
    // the library does not export) are bundled into the page.
    for (const input of ownSources) {
      assert.ok(
        input.startsWith("interop/") || input === "src/checksum/crc32.ts",
        `${input} was bundled into the page instead of being imported from ferry.js`,
      );
    }
    assert.ok(fixture!.library.exports.includes("webSocketConnect"));
    assert.ok(fixture!.library.exports.includes("TransportClient"));
  });

  it(
    "Chromium → Node server (TCP and WebSocket listeners on one TransportServer)",
    GUARD,
    async () => {
      const server = createInteropServer();
      try {
        const tcp = await server.listen(tcpListen({ host: "127.0.0.1", port: 0 }));
        // The page is served from another origin (the fixture's static server).
        const ws = await server.listen(
          webSocketListen({ host: "127.0.0.1", port: 0, allowedOrigins: ["*"] }),
        );
        assert.match(ws.address.url, /^ws:\/\/127\.0\.0\.1:\d+\/$/);

        const lines = await fixture!.call<string[]>(
          PAGE,
          "runWebSocketInterop",
          ws.address.url,
          CHECK_TIMEOUT_MS,
        );
        assert.deepEqual(lines, allPassLines, fixture!.log.join("\n"));

        const client = await TransportClient.connect(
          tcpConnect({ host: "127.0.0.1", port: tcp.address.port }),
        );
        try {
          const summary = await runInteropChecks(client, { checkTimeoutMs: CHECK_TIMEOUT_MS });
          assert.deepEqual(
            summary.results.filter((result) => !result.passed),
            [],
            "the same server over TCP",
          );
          assert.equal(summary.passed, 17);
        } finally {
          await client.close();
        }
      } finally {
        await server.close();
      }
      assert.deepEqual(fixture!.log.filter((line) => line.startsWith("pageerror")), []);
    },
  );

  it("Chromium → Deno server process (interop/server.ts --ws 0)", GUARD, async () => {
    const server = group.start("deno", "server", ["0", "127.0.0.1", "--ws", "0"]);
    const { ws } = await serverAddresses(server, ["ws"], 60_000);
    const lines = await fixture!.call<string[]>(PAGE, "runWebSocketInterop", ws!, CHECK_TIMEOUT_MS);
    assert.deepEqual(lines, allPassLines, `${fixture!.log.join("\n")}\n${server.describe()}`);
    assert.deepEqual(await server.stop(), { code: 0, signal: null }, server.describe());
  });

  it(
    "a server that is not there fails every check with the reason, in the page",
    GUARD,
    async () => {
      const server = createInteropServer();
      const ws = await server.listen(webSocketListen({ host: "127.0.0.1", port: 0 }));
      const url = ws.address.url;
      await server.close();
      const lines = await fixture!.call<string[]>(
        PAGE,
        "runWebSocketInterop",
        url,
        CHECK_TIMEOUT_MS,
      );
      assert.equal(lines.length, 18);
      for (const [i, name] of interopCheckNames.entries()) {
        assert.match(
          lines[i]!,
          new RegExp(`^FAIL ${name}: cannot connect to ${url.replaceAll(".", "\\.")}`),
        );
      }
      assert.equal(lines[17], "0 passed, 17 failed");
    },
  );
});
