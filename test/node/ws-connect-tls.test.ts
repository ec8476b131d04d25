/**
 * `wsConnect` over `wss:`: Ferry's WebSocket framing over Node TLS, against the `ws` package's
 * server on a Node HTTPS server with a freshly generated self-signed certificate, trusted through
 * `ca`. A whole Ferry RPC round trip runs over it, and an untrusted certificate fails the connect.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { ConnectError } from "../../src/errors.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { wsConnect } from "../../adapters/node/mod.ts";
import { generateSelfSignedCertificate } from "../../src/tls/self-signed-certificate.ts";
import { withoutLeaks } from "../conformance/socket-harness.ts";
import { selfSignedRefusalCode } from "../helpers/tls-refusal-code.ts";

const { certPem, keyPem } = await generateSelfSignedCertificate();

/** A wss echo server: every binary message goes back as it came (a Ferry RPC echoes as a reply). */
async function wssEcho() {
  const server = https.createServer({ cert: certPem, key: keyPem });
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on("connection", (ws) => {
    ws.on("message", (data: Buffer) => {
      // An RpcRequest (type 3) comes back as an RpcResponse (type 4) with the same id and body.
      const reply = Buffer.from(data);
      if (reply.length >= 21 && reply[8] === 3) reply[8] = 4;
      ws.send(reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `wss://127.0.0.1:${port}/ferry`,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("wsConnect over wss:", () => {
  it("runs Ferry RPCs over TLS when the certificate is trusted", () =>
    withoutLeaks(async () => {
      const server = await wssEcho();
      try {
        const client = await TransportClient.connect(
          wsConnect({ url: server.url, ca: certPem, serverName: "localhost" }),
        );
        try {
          const body = new TextEncoder().encode("over wss ⛴".repeat(2000));
          assert.deepEqual(await client.sendRpc(body), body);
        } finally {
          await client.close();
        }
      } finally {
        await server.close();
      }
    }));

  it("refuses a certificate it does not trust, with the runtime's code", () =>
    withoutLeaks(async () => {
      const server = await wssEcho();
      try {
        await assert.rejects(wsConnect({ url: server.url })(), (error: unknown) => {
          assert.ok(error instanceof ConnectError, String(error));
          assert.ok(error.message.includes(selfSignedRefusalCode), error.message);
          return true;
        });
      } finally {
        await server.close();
      }
    }));
});
