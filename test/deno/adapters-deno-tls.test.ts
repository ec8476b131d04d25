/**
 * Deno TLS adapter specifics: untrusted certificates and wrong names are refused with a
 * `ConnectError`, and a client that never finishes its handshake is never handed out and does
 * not hold up others. Sanitizers on.
 */
import assert from "node:assert/strict";
import { ConnectError, InvalidArgumentError } from "../../src/errors.ts";
import type { Socket } from "../../src/socket.ts";
import { tlsConnect, tlsListen } from "../../adapters/deno/mod.ts";
import { generateSelfSignedCertificate } from "../../src/tls/self-signed-certificate.ts";
import { SinkRecorder } from "../conformance/socket-recorder.ts";
import { denoSanitizedTest } from "../helpers/deno-sanitized-test.ts";

interface RawConn {
  close(): void;
}

/** The part of `Deno` used here, typed locally so Node's type-check passes. */
const Deno = (globalThis as unknown as {
  Deno: {
    connect(options: { hostname: string; port: number }): Promise<RawConn>;
  };
}).Deno;

function test(name: string, fn: () => Promise<void> | void): void {
  denoSanitizedTest(`deno tls adapter: ${name}`, fn);
}

const { certPem, keyPem } = await generateSelfSignedCertificate();

test("rejects malformed certificate material", () => {
  assert.throws(() => tlsListen({ cert: certPem, key: "" }), InvalidArgumentError);
  assert.throws(
    () => tlsConnect({ host: "127.0.0.1", port: 1, ca: "-----nope" }),
    /ca\[0\] must be a PEM string/,
  );
});

test("refuses a server certificate it does not trust", async () => {
  const accepted: Socket[] = [];
  const listener = await tlsListen({ cert: certPem, key: keyPem })((s) => accepted.push(s));
  try {
    await assert.rejects(
      tlsConnect({ host: "127.0.0.1", port: listener.address.port })(),
      (error) => error instanceof ConnectError && /UnknownIssuer|certificate/i.test(error.message),
    );
  } finally {
    await listener.close();
  }
  assert.equal(accepted.length, 0, "a failed handshake was handed to onSocket");
});

test("verifies the certificate against serverName", async () => {
  const listener = await tlsListen({ cert: certPem, key: keyPem })(() => {});
  try {
    const port = listener.address.port;
    await assert.rejects(
      tlsConnect({ host: "127.0.0.1", port, ca: certPem, serverName: "ferry.example" })(),
      (error) => error instanceof ConnectError && /NotValidForName|name/i.test(error.message),
    );
  } finally {
    await listener.close();
  }
});

test("a client that never finishes its handshake is never handed out nor blocks others", async () => {
  const accepted: Socket[] = [];
  const listener = await tlsListen({ cert: certPem, key: keyPem, handshakeTimeoutMs: 50 })(
    (socket) => accepted.push(socket),
  );
  // Deno keeps the OS socket of a TLS conn closed mid-handshake until the client leaves (its
  // close waits for the handshake), so what is observable is the listener's side of it.
  const silent = await Deno.connect({ hostname: "127.0.0.1", port: listener.address.port });
  try {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const client = await tlsConnect({
      host: "127.0.0.1",
      port: listener.address.port,
      ca: certPem,
    })();
    while (accepted.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    assert.equal(accepted.length, 1, "only the client that finished its handshake");
    client.close(new Error("done"));
    accepted[0]!.close(new Error("done"));
    await Promise.all([client.closed, accepted[0]!.closed]);
  } finally {
    await listener.close();
    silent.close();
  }
});

test("exchanges bytes with a trusted server by name", async () => {
  let server: Socket | undefined;
  const listener = await tlsListen({ cert: certPem, key: keyPem })((s) => (server = s));
  const client = await tlsConnect({
    host: "localhost",
    port: listener.address.port,
    ca: certPem,
  })();
  try {
    while (server === undefined) await new Promise((resolve) => setTimeout(resolve, 1));
    const sink = new SinkRecorder({ keep: true });
    server.attach(sink);
    client.attach(new SinkRecorder());
    client.write(new TextEncoder().encode("secret"));
    await sink.waitForBytes(6);
    assert.equal(new TextDecoder().decode(sink.bytes()), "secret");
    assert.equal(client.info.transport, "tls");
  } finally {
    client.close();
    await Promise.all([client.closed, server?.closed, listener.close()]);
  }
});
