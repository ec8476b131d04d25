/**
 * `wsConnect` over `wss:` under Deno: Ferry's WebSocket framing over Deno TLS, against a
 * `Deno.serve` HTTPS server (freshly generated self-signed certificate, trusted through `ca`) that
 * upgrades with `Deno.upgradeWebSocket` and echoes RPCs. An untrusted certificate fails the connect.
 * Sanitizers on.
 */

import assert from "node:assert/strict";
import { ConnectError } from "../../src/errors.ts";
import { TransportClient } from "../../src/client/transport-client.ts";
import { wsConnect } from "../../adapters/deno/mod.ts";
import { generateSelfSignedCertificate } from "../../src/tls/self-signed-certificate.ts";
import { denoSanitizedTest } from "../helpers/deno-sanitized-test.ts";

interface DenoWebSocket {
  binaryType: string;
  onmessage: ((event: MessageEvent) => void) | null;
  send(data: Uint8Array): void;
}

/** The part of `Deno` used here, typed locally so Node's type-check passes. */
const Deno = (globalThis as unknown as {
  Deno: {
    serve(
      options: {
        hostname: string;
        port: number;
        cert: string;
        key: string;
        onListen(addr: { port: number }): void;
      },
      handler: (request: Request) => Response,
    ): { shutdown(): Promise<void>; finished: Promise<void> };
    upgradeWebSocket(request: Request): { socket: DenoWebSocket; response: Response };
  };
}).Deno;

const { certPem, keyPem } = await generateSelfSignedCertificate();

/** A wss echo server: an RpcRequest (type 3) comes back as an RpcResponse (4), same id and body. */
async function wssEcho() {
  let resolvePort!: (port: number) => void;
  const port = new Promise<number>((resolve) => (resolvePort = resolve));
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: certPem,
    key: keyPem,
    onListen: ({ port }) => resolvePort(port),
  }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => {
      const reply = new Uint8Array(event.data as ArrayBuffer);
      if (reply.length >= 21 && reply[8] === 3) reply[8] = 4;
      socket.send(reply);
    };
    return response;
  });
  return { url: `wss://127.0.0.1:${await port}/ferry`, server };
}

denoSanitizedTest(
  "deno wsConnect over wss: runs Ferry RPCs when the certificate is trusted",
  async () => {
    const { url, server } = await wssEcho();
    try {
      const client = await TransportClient.connect(
        wsConnect({ url, ca: certPem, serverName: "localhost" }),
      );
      try {
        const body = new TextEncoder().encode("over deno wss ⛴".repeat(2000));
        assert.deepEqual(await client.sendRpc(body), body);
      } finally {
        await client.close();
      }
    } finally {
      await server.shutdown();
    }
  },
);

denoSanitizedTest("deno wsConnect over wss: refuses a certificate it does not trust", async () => {
  const { url, server } = await wssEcho();
  try {
    await assert.rejects(wsConnect({ url })(), (error: unknown) => {
      assert.ok(error instanceof ConnectError, String(error));
      return true;
    });
  } finally {
    await server.shutdown();
  }
});
