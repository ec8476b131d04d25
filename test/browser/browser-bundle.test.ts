/**
 * The browser build, running in Debian's Chromium: the bundle holds no runtime-specific code,
 * the protocol engine passes the 17 interop checks inside the page (client and server over the
 * in-memory socket pair), and WebCrypto in the page produces a certificate OpenSSL accepts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { withBrowserFixture } from "../helpers/browser-fixture.ts";
import { interopCheckNames } from "../../interop/checks.ts";
import { runtimeReferences } from "../../scripts/build-browser.ts";

test("the engine passes the 17 interop checks inside Chromium; WebCrypto makes a valid certificate", async () => {
  await withBrowserFixture({
    modules: [
      "test/browser/pages/memory-interop-page.ts",
      "test/browser/pages/certificate-page.ts",
    ],
  }, async (fixture) => {
    assert.ok(fixture.library.exports.includes("TransportClient"));
    assert.ok(fixture.library.inputs.every((input) => !input.includes("node_modules/ws/")));

    const lines = await fixture.call<string[]>(
      "memory-interop-page.js",
      "runMemoryInterop",
      20_000,
    );
    assert.deepEqual(lines, [
      ...interopCheckNames.map((name) => `PASS ${name}`),
      "17 passed, 0 failed",
    ], fixture.log.join("\n"));
    // The page ran the shipped library bundle, not a second copy of the engine.
    assert.ok(fixture.requests.includes("/ferry.js"));

    const { certPem, keyPem } = await fixture.call<{ certPem: string; keyPem: string }>(
      "certificate-page.js",
      "generateCertificate",
      "chromium",
    );
    const cert = new X509Certificate(certPem);
    assert.equal(cert.subject, "CN=chromium");
    assert.equal(cert.subjectAltName, "DNS:ferry.test, IP Address:0:0:0:0:0:0:0:1");
    assert.equal(cert.verify(cert.publicKey), true);
    assert.equal(cert.checkPrivateKey(createPrivateKey(keyPem)), true);
    assert.deepEqual(fixture.log.filter((line) => line.startsWith("pageerror")), []);
  });
});

test("runtimeReferences flags node: imports, require(), Deno and Node's ws package", () => {
  const metafile = {
    inputs: {
      "a.ts": {
        bytes: 1,
        imports: [{ path: "node:fs", kind: "import-statement" as const, original: "node:fs" }],
      },
    },
    outputs: {},
  };
  const offences = runtimeReferences(
    'import x from "node:net";\nconst y = require("fs");\nDeno.listen();\n',
    ["node_modules/ws/lib/websocket.js"],
    metafile,
  );
  assert.equal(offences.length, 5, offences.join("\n"));
  assert.deepEqual(
    runtimeReferences("const ok = 'Denominator'; requireX();", ["src/a.ts"], {
      inputs: {},
      outputs: {},
    }),
    [],
  );
});
