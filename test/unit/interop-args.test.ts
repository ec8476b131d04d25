import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/errors.ts";
import { parseClientArgs, parseServerArgs } from "../../interop/args.ts";

describe("interop server arguments", () => {
  it("defaults to an ephemeral port on 127.0.0.1", () => {
    assert.deepEqual(parseServerArgs([]), { host: "127.0.0.1", port: 0 });
    assert.deepEqual(parseServerArgs(["0"]), { host: "127.0.0.1", port: 0 });
    assert.deepEqual(parseServerArgs(["7337", "::1"]), { host: "::1", port: 7337 });
    assert.deepEqual(parseServerArgs(["7337", "0.0.0.0", "--ws", "7338"]), {
      host: "0.0.0.0",
      port: 7337,
      wsPort: 7338,
    });
  });

  it("takes a TLS listener port and where to write its certificate", () => {
    assert.deepEqual(parseServerArgs(["0", "127.0.0.1", "--tls", "0", "--cert-out", "c.pem"]), {
      host: "127.0.0.1",
      port: 0,
      tlsPort: 0,
      certOut: "c.pem",
    });
    assert.deepEqual(parseServerArgs(["--tls", "7443", "--ws", "7338"]), {
      host: "127.0.0.1",
      port: 0,
      wsPort: 7338,
      tlsPort: 7443,
    });
    assert.throws(() => parseServerArgs(["--cert-out", "c.pem"]), /--cert-out "c.pem" needs --tls/);
    assert.throws(() => parseServerArgs(["--tls", "x"]), /Invalid --tls port "x"/);
    assert.throws(() => parseServerArgs(["--tls", "1", "--cert-out", ""]), /--cert-out/);
  });

  it("refuses bad ports, extra arguments and unknown options with the value received", () => {
    for (const args of [["70000"], ["-1"], ["x"], ["1", "h", "extra"], ["--wss", "1"], ["--ws"]]) {
      assert.throws(() => parseServerArgs(args), InvalidArgumentError, JSON.stringify(args));
    }
    assert.throws(() => parseServerArgs(["port"]), /Invalid port "port"/);
  });
});

describe("interop client arguments", () => {
  it("takes a host and a port", () => {
    assert.deepEqual(parseClientArgs(["127.0.0.1", "7337"]), {
      target: { scheme: "tcp", host: "127.0.0.1", port: 7337, url: "tcp://127.0.0.1:7337" },
      checkTimeoutMs: 15_000,
    });
  });

  it("takes tcp, tls, ws and wss URLs, IPv6 included", () => {
    assert.deepEqual(parseClientArgs(["tcp://localhost:9"]).target, {
      scheme: "tcp",
      host: "localhost",
      port: 9,
      url: "tcp://localhost:9",
    });
    assert.deepEqual(parseClientArgs(["tls://[::1]:443"]).target, {
      scheme: "tls",
      host: "::1",
      port: 443,
      url: "tls://[::1]:443",
    });
    assert.deepEqual(parseClientArgs(["ws://gw.example:8080/ferry?x=1"]).target, {
      scheme: "ws",
      host: "gw.example",
      port: 8080,
      url: "ws://gw.example:8080/ferry?x=1",
    });
    assert.equal(parseClientArgs(["wss://gw.example/ferry"]).target.port, 443);
    assert.equal(parseClientArgs(["h", "1", "--timeout-ms", "500"]).checkTimeoutMs, 500);
    assert.equal(parseClientArgs(["tls://h:1", "--ca", "server.pem"]).caFile, "server.pem");
    assert.equal(parseClientArgs(["h", "1"]).caFile, undefined);
  });

  it("explains what is wrong", () => {
    assert.throws(() => parseClientArgs([]), /got 0 arguments/);
    assert.throws(() => parseClientArgs(["http://h:1"]), /Unsupported scheme 'http:'/);
    assert.throws(() => parseClientArgs(["tcp://h"]), /has no port/);
    assert.throws(() => parseClientArgs(["not a url"]), /Expected a URL/);
    assert.throws(() => parseClientArgs(["h", "0"]), /Invalid port "0"/);
    assert.throws(() => parseClientArgs(["h", "1", "--timeout-ms", "0"]), /--timeout-ms/);
  });
});
