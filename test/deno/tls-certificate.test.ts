/**
 * The generated certificate in rustls' hands: Deno.listenTls serves with it, and
 * Deno.connectTls trusting exactly it connects to 127.0.0.1 and exchanges bytes; a client that
 * does not trust it, or asks for a name it does not list, is refused.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateSelfSignedCertificate } from "../../src/tls/self-signed-certificate.ts";

/** The part of the `Deno` namespace used here, typed locally so Node's `tsc` check passes. */
interface DenoConn {
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  handshake(): Promise<unknown>;
  close(): void;
}
interface DenoTlsApi {
  listenTls(options: {
    hostname: string;
    port: number;
    cert: string;
    key: string;
  }): AsyncIterable<DenoConn> & { readonly addr: { port: number }; close(): void };
  connectTls(options: { hostname: string; port: number; caCerts: string[] }): Promise<DenoConn>;
}
const Deno = (globalThis as unknown as { Deno: DenoTlsApi }).Deno;

async function readExactly(conn: DenoConn, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const n = await conn.read(out.subarray(filled));
    if (n === null) throw new Error(`connection ended after ${filled} of ${length} bytes`);
    filled += n;
  }
  return out;
}

async function withTlsListener(
  credentials: { certPem: string; keyPem: string },
  body: (port: number) => Promise<void>,
): Promise<void> {
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: credentials.certPem,
    key: credentials.keyPem,
  });
  const served: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      served.push((async () => {
        try {
          const request = await readExactly(conn, 5);
          await conn.write(new TextEncoder().encode(`echo:${new TextDecoder().decode(request)}`));
        } catch {
          // A refused handshake surfaces here; the client side asserts on it.
        } finally {
          conn.close();
        }
      })());
    }
  })();
  try {
    await body(listener.addr.port);
  } finally {
    listener.close();
    await accepting.catch(() => {});
    await Promise.all(served);
  }
}

test("Deno.listenTls serves it; Deno.connectTls with caCerts exchanges bytes", async () => {
  const credentials = await generateSelfSignedCertificate();
  await withTlsListener(credentials, async (port) => {
    for (const hostname of ["127.0.0.1", "localhost"]) {
      const conn = await Deno.connectTls({ hostname, port, caCerts: [credentials.certPem] });
      try {
        const handshake = await conn.handshake();
        assert.equal(typeof handshake, "object");
        await conn.write(new TextEncoder().encode("ferry"));
        assert.equal(new TextDecoder().decode(await readExactly(conn, 10)), "echo:ferry");
      } finally {
        conn.close();
      }
    }
  });
});

test("Deno.connectTls refuses it without trusting it, or under a name it does not list", async () => {
  const credentials = await generateSelfSignedCertificate({ altNames: ["127.0.0.1"] });
  const stranger = await generateSelfSignedCertificate();
  await withTlsListener(credentials, async (port) => {
    const attempts = [
      { hostname: "127.0.0.1", port, caCerts: [stranger.certPem] },
      { hostname: "localhost", port, caCerts: [credentials.certPem] },
    ];
    for (const options of attempts) {
      await assert.rejects(async () => {
        const conn = await Deno.connectTls(options);
        try {
          await conn.handshake();
        } finally {
          conn.close();
        }
      }, /invalid peer certificate/);
    }
  });
});
