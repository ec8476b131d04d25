/**
 * The generated certificate in OpenSSL's hands: node:crypto parses it, and a real node:tls server
 * presenting it is trusted by a node:tls client that trusts exactly this certificate, for the
 * names in its subjectAltName and no others.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { connect, createServer, type Server, type TLSSocket } from "node:tls";
import type { AddressInfo } from "node:net";
import { generateSelfSignedCertificate } from "../../src/tls/self-signed-certificate.ts";
import { selfSignedRefusalCode } from "../helpers/tls-refusal-code.ts";

test("node:crypto parses the certificate and its key", async () => {
  const { certPem, keyPem } = await generateSelfSignedCertificate();
  const cert = new X509Certificate(certPem);
  assert.equal(cert.subject, "CN=localhost");
  assert.equal(cert.issuer, "CN=localhost");
  assert.equal(cert.ca, false);
  assert.equal(
    cert.subjectAltName,
    "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1",
  );
  assert.deepEqual(cert.keyUsage, ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
  assert.equal(cert.checkHost("localhost"), "localhost");
  assert.equal(cert.checkHost("example.com"), undefined);
  assert.equal(cert.checkIP("127.0.0.1"), "127.0.0.1");
  assert.equal(cert.checkIP("::1"), "::1");
  assert.equal(cert.checkIP("127.0.0.2"), undefined);
  assert.equal(cert.verify(cert.publicKey), true, "self-signed: verifies under its own key");
  // An end-entity certificate: keyUsage lacks keyCertSign, so OpenSSL does not treat it as an
  // issuer, not even of itself; clients trust it directly as the leaf.
  assert.equal(cert.checkIssued(cert), false);
  const key = createPrivateKey(keyPem);
  assert.equal(key.asymmetricKeyType, "ec");
  assert.equal(key.asymmetricKeyDetails?.namedCurve, "prime256v1");
  assert.equal(cert.checkPrivateKey(key), true);
  const now = Date.now();
  assert.ok(Date.parse(cert.validFrom) <= now && now < Date.parse(cert.validTo));

  const other = await generateSelfSignedCertificate({ altNames: ["ferry.test"] });
  assert.equal(cert.checkPrivateKey(createPrivateKey(other.keyPem)), false);
  assert.equal(new X509Certificate(other.certPem).subjectAltName, "DNS:ferry.test");
});

async function withTlsServer(
  credentials: { certPem: string; keyPem: string },
  body: (port: number) => Promise<void>,
): Promise<void> {
  const server: Server = createServer(
    { cert: credentials.certPem, key: credentials.keyPem, minVersion: "TLSv1.2" },
    (socket) => {
      // Echo with a prefix, so the reply is provably produced by this server.
      socket.on(
        "data",
        (chunk: Buffer) => socket.write(Buffer.concat([Buffer.from("echo:"), chunk])),
      );
      socket.on("error", () => {});
    },
  );
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await body((server.address() as AddressInfo).port);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function tlsExchange(
  port: number,
  options: { ca?: string; servername?: string },
): Promise<{ reply: string; protocol: string | null; authorized: boolean }> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = connect({ host: "127.0.0.1", port, ...options }, () => {
      socket.write("ferry-over-tls");
    });
    let reply = "";
    socket.setEncoding("utf8");
    socket.on("data", (text: string) => {
      reply += text;
      if (reply.length >= "echo:ferry-over-tls".length) {
        const result = {
          reply,
          protocol: socket.getProtocol(),
          authorized: socket.authorized,
        };
        socket.end();
        resolve(result);
      }
    });
    socket.on("error", reject);
  });
}

test("a node:tls server presenting it is trusted by a client with ca: certPem", async () => {
  const credentials = await generateSelfSignedCertificate();
  await withTlsServer(credentials, async (port) => {
    const result = await tlsExchange(port, { ca: credentials.certPem });
    assert.equal(result.reply, "echo:ferry-over-tls");
    assert.equal(result.authorized, true);
    assert.match(result.protocol ?? "", /^TLSv1\.[23]$/);
    // Verified as `localhost` too (SNI and name check by DNS name).
    const byName = await tlsExchange(port, { ca: credentials.certPem, servername: "localhost" });
    assert.equal(byName.reply, "echo:ferry-over-tls");
  });
});

test("the client refuses it without the ca, with another ca, or for a name it does not list", async () => {
  const credentials = await generateSelfSignedCertificate();
  const stranger = await generateSelfSignedCertificate();
  await withTlsServer(credentials, async (port) => {
    await assert.rejects(tlsExchange(port, {}), { code: selfSignedRefusalCode });
    await assert.rejects(
      tlsExchange(port, { ca: stranger.certPem }),
      (error: NodeJS.ErrnoException) => {
        assert.ok(
          ["DEPTH_ZERO_SELF_SIGNED_CERT", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"].includes(
            error.code ?? "",
          ),
          `unexpected code ${error.code}`,
        );
        return true;
      },
    );
    await assert.rejects(
      tlsExchange(port, { ca: credentials.certPem, servername: "other.test" }),
      { code: "ERR_TLS_CERT_ALTNAME_INVALID" },
    );
  });
});
