/**
 * A gateway whose backend runs Spark SASL: the browser authenticates to the gateway with its
 * token only, the gateway's pooled backend connection authenticates to the SASL-gated server
 * (qop auth-conf, so the backend traffic is 3DES-encrypted) and the 17 interop checks pass
 * through it. The secret lives in the gateway's options; nothing the browser sends or receives
 * carries it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TransportClient } from "../../src/client/transport-client.ts";
import { Gateway } from "../../src/gateway/gateway.ts";
import { gatewayTokenBootstrap } from "../../src/gateway/gateway-token.ts";
import { SaslSocket, withSaslLayer } from "../../src/sasl/sasl-socket.ts";
import { sparkSaslBootstrap } from "../../src/sasl/spark-sasl-bootstrap.ts";
import { SparkSaslServer } from "../../src/sasl/spark-sasl-server.ts";
import type { Socket } from "../../src/socket.ts";
import { createInteropServer } from "../../interop/interop-handler.ts";
import { runInteropChecks } from "../../interop/checks.ts";
import { memoryNetwork, memorySocketPair } from "../helpers/memory-socket.ts";

const SECRET = "f1c7aa04bf6786382da8866a63f933ae3de6fc80fdb1350343ab6ed47556a7ac";
const TOKEN = "browser-token-0123456789";

test("browser → gateway (token) → Spark SASL backend (auth-conf): 17 checks pass", async () => {
  const network = memoryNetwork();
  const sasl = new SparkSaslServer({ secret: SECRET, alwaysEncrypt: true, authTimeoutMs: 0 });
  const server = createInteropServer({ secure: (o) => sasl.serverOptions(o) });
  const backendSockets: Socket[] = [];
  // Accepted sockets as the server sees them: behind the SASL layer.
  await server.listen((onSocket) =>
    sasl.listen(network.listen)((socket) => {
      backendSockets.push(socket);
      onSocket(socket);
    })
  );
  const gateway = new Gateway({
    targets: { spark: { connect: withSaslLayer(network.connect) } },
    allowedOrigins: ["https://app.example"],
    token: TOKEN,
    allowUpload: true,
    backend: {
      heartbeat: false,
      bootstraps: [sparkSaslBootstrap({ appId: "app-1", secret: SECRET, encrypt: true })],
    },
  });
  const [browser, edge] = memorySocketPair({ label: "browser" });
  const browserSent: string[] = [];
  const upgrade = {
    url: "/gateway/spark",
    origin: "https://app.example",
    headers: {},
    remoteAddress: "192.0.2.1:50000",
  };
  assert.equal(gateway.allowUpgrade(upgrade), true);
  gateway.accept(edge, upgrade);
  const client = new TransportClient(browser);
  try {
    await gatewayTokenBootstrap(TOKEN)(client, {
      timeoutMs: 10_000,
      signal: new AbortController().signal,
    });
    const summary = await runInteropChecks(client, {
      checkTimeoutMs: 30_000,
      onResult: (r) =>
        browserSent.push(
          `${r.passed ? "PASS" : "FAIL"} ${r.name} ${(r as { detail?: string }).detail ?? ""}`,
        ),
    });
    assert.equal(summary.failed, 0, browserSent.join("\n"));
    assert.equal(summary.passed, 17);
    assert.equal(backendSockets.length, 1);
    assert.ok(backendSockets[0] instanceof SaslSocket && backendSockets[0].encrypting);
  } finally {
    await client.close();
    await gateway.close();
    await server.close();
  }
});
