import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { ConnectError, InvalidArgumentError } from "../../src/errors.ts";
import type { Socket } from "../../src/socket.ts";
import { tlsConnect, tlsListen } from "../../adapters/node/mod.ts";
import { generateSelfSignedCertificate } from "../../src/tls/self-signed-certificate.ts";
import { SinkRecorder } from "../conformance/socket-recorder.ts";
import { selfSignedRefusalCode } from "../helpers/tls-refusal-code.ts";

const { certPem, keyPem } = await generateSelfSignedCertificate();

describe("node tls adapter", () => {
  it("rejects missing or malformed certificate material", () => {
    assert.throws(
      () => tlsListen({ cert: "not a pem", key: keyPem }),
      (error) =>
        error instanceof InvalidArgumentError && /cert must be a PEM string/.test(error.message),
    );
    assert.throws(
      () => tlsConnect({ host: "127.0.0.1", port: 1, ca: [certPem, 42 as unknown as string] }),
      /ca\[1\] must be a PEM string/,
    );
    assert.throws(
      () => tlsConnect({ host: "127.0.0.1", port: 1, alpnProtocols: [""] }),
      InvalidArgumentError,
    );
  });

  it("refuses a server certificate it does not trust, naming the runtime's code", async () => {
    const accepted: Socket[] = [];
    const listener = await tlsListen({ cert: certPem, key: keyPem })((s) => accepted.push(s));
    try {
      await assert.rejects(
        tlsConnect({ host: "127.0.0.1", port: listener.address.port })(),
        (error) => error instanceof ConnectError && error.message.includes(selfSignedRefusalCode),
      );
      assert.equal(accepted.length, 0, "a failed handshake was handed to onSocket");
    } finally {
      await listener.close();
    }
  });

  it("verifies the certificate against serverName", async () => {
    const listener = await tlsListen({ cert: certPem, key: keyPem })(() => {});
    try {
      const port = listener.address.port;
      await assert.rejects(
        tlsConnect({ host: "127.0.0.1", port, ca: certPem, serverName: "ferry.example" })(),
        (error) => error instanceof ConnectError && /ferry\.example/.test(error.message),
      );
      const ok = await tlsConnect({
        host: "127.0.0.1",
        port,
        ca: certPem,
        serverName: "localhost",
      })();
      assert.equal(ok.info.transport, "tls");
      ok.close(new Error("done"));
      await ok.closed;
    } finally {
      await listener.close();
    }
  });

  it("drops a client that never finishes its handshake", async () => {
    const accepted: Socket[] = [];
    const listener = await tlsListen({ cert: certPem, key: keyPem, handshakeTimeoutMs: 50 })(
      (socket) => accepted.push(socket),
    );
    try {
      const silent = net.connect(listener.address.port, "127.0.0.1");
      silent.on("error", () => {});
      await new Promise((resolve) => silent.once("close", resolve));
      assert.equal(accepted.length, 0);
    } finally {
      await listener.close();
    }
  });

  it("exchanges bytes and reports tls addresses", async () => {
    let accepted!: (socket: Socket) => void;
    const serverSocket = new Promise<Socket>((resolve) => (accepted = resolve));
    const listener = await tlsListen({ cert: certPem, key: keyPem })((s) => accepted(s));
    const client = await tlsConnect({
      host: "localhost",
      port: listener.address.port,
      ca: certPem,
    })();
    let server: Socket | undefined;
    try {
      const sink = new SinkRecorder({ keep: true });
      server = await serverSocket; // handed out once its handshake is done
      server.attach(sink);
      client.attach(new SinkRecorder());
      client.write(new TextEncoder().encode("secret"));
      await sink.waitForBytes(6);
      assert.equal(new TextDecoder().decode(sink.bytes()), "secret");
      assert.equal(server.info.transport, "tls");
      assert.equal(listener.address.url, `tls://127.0.0.1:${listener.address.port}`);
    } finally {
      client.close();
      await Promise.all([client.closed, server?.closed, listener.close()]);
    }
  });
});
