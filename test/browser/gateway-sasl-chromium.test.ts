/**
 * Chromium through a gateway whose backends run Spark SASL: the page knows only the gateway
 * token; the gateway's backend connections authenticate with `sparkSaslBootstrap` (the secret is
 * in the gateway's options only) and, with auth-conf, encrypt through `withSaslLayer`. The 17
 * interop checks (docs/interop.md) must pass against
 *
 * - a Node TCP interop server in this process behind `SparkSaslServer` (qop auth);
 * - a Deno interop server process with `--sasl-secret --sasl-encrypt` (qop auth-conf only).
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startNodeGateway } from "../../adapters/node/gateway.ts";
import { tcpConnect, tcpListen } from "../../adapters/node/tcp.ts";
import { createInteropServer } from "../../interop/interop-handler.ts";
import { withSaslLayer } from "../../src/sasl/sasl-socket.ts";
import { sparkSaslBootstrap } from "../../src/sasl/spark-sasl-bootstrap.ts";
import { SparkSaslServer } from "../../src/sasl/spark-sasl-server.ts";
import { type OpenBrowserFixture, openBrowserFixture } from "../helpers/browser-fixture.ts";
import { ProcessGroup, serverAddresses } from "../helpers/interop-processes.ts";
import { allPassLines } from "../helpers/interop-expected-lines.ts";

const PAGE = "gateway-interop-page.js";
const TOKEN = "chromium-gateway-token";
const SECRET = "f1c7aa04bf6786382da8866a63f933ae3de6fc80fdb1350343ab6ed47556a7ac";
const CHECK_TIMEOUT_MS = 60_000;
const GUARD = { timeout: 300_000 };

let fixture: OpenBrowserFixture | undefined;
const group = new ProcessGroup();

before(async () => {
  fixture = await openBrowserFixture({ modules: ["test/browser/pages/gateway-interop-page.ts"] });
});

after(async () => {
  await group.stopAll();
  await fixture?.close();
});

async function checksThroughGateway(backendPort: number, encrypt: boolean): Promise<string[]> {
  const running = await startNodeGateway({
    targets: {
      interop: { connect: withSaslLayer(tcpConnect({ host: "127.0.0.1", port: backendPort })) },
    },
    allowedOrigins: [new URL(fixture!.baseUrl).origin],
    token: TOKEN,
    allowUpload: true,
    backend: {
      heartbeat: false,
      bootstraps: [sparkSaslBootstrap({ appId: "app-1", secret: SECRET, encrypt })],
    },
  });
  try {
    return await fixture!.call<string[]>(
      PAGE,
      "runGatewayInterop",
      `ws://127.0.0.1:${running.address.port}/gateway/interop`,
      TOKEN,
      CHECK_TIMEOUT_MS,
      false,
    );
  } finally {
    await running.close();
  }
}

describe("Chromium → gateway → Spark SASL backends", () => {
  it("Node gateway → Node TCP server with SASL (qop auth)", GUARD, async () => {
    const sasl = new SparkSaslServer({ secret: SECRET });
    const server = createInteropServer({ secure: (o) => sasl.serverOptions(o) });
    try {
      const tcp = await server.listen(sasl.listen(tcpListen({ host: "127.0.0.1", port: 0 })));
      const lines = await checksThroughGateway(tcp.address.port, false);
      assert.deepEqual(lines, allPassLines, fixture!.log.join("\n"));
    } finally {
      await server.close();
    }
  });

  it("Node gateway → Deno server process with SASL encryption (auth-conf)", GUARD, async () => {
    const server = group.start("deno", "server", [
      "0",
      "127.0.0.1",
      "--sasl-secret",
      SECRET,
      "--sasl-encrypt",
    ]);
    const { tcp } = await serverAddresses(server, ["tcp"], 60_000);
    const lines = await checksThroughGateway(tcp.port, true);
    assert.deepEqual(lines, allPassLines, `${fixture!.log.join("\n")}\n${server.describe()}`);
    assert.deepEqual(await server.stop(), { code: 0, signal: null }, server.describe());
  });
});
