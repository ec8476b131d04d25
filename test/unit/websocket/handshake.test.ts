/**
 * The client's opening handshake: the request it sends and every way a server's answer is refused.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConnectError, InvalidArgumentError, LimitError } from "../../../src/errors.ts";
import {
  acceptKey,
  acceptResponse,
  checkProtocols,
  createHandshake,
  MAX_RESPONSE_HEAD_BYTES,
  responseHeadEnd,
} from "../../../src/websocket/handshake.ts";

const encoder = new TextEncoder();

async function answer(lines: string[], protocols: string[] = []) {
  const handshake = createHandshake(new URL("ws://example.test:81/ferry?x=1"), protocols);
  const accept = await acceptKey(handshake.key);
  const head = lines.map((line) => line.replace("{accept}", accept)).join("\r\n") + "\r\n\r\n";
  return acceptResponse(encoder.encode(head), handshake, "ws://example.test:81/ferry?x=1");
}

const good = [
  "HTTP/1.1 101 Switching Protocols",
  "Upgrade: websocket",
  "Connection: Upgrade",
  "Sec-WebSocket-Accept: {accept}",
];

describe("WebSocket handshake", () => {
  it("computes RFC 6455's example accept key", async () => {
    assert.equal(await acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });

  it("sends a well-formed upgrade request with a fresh 16-byte key", () => {
    const a = createHandshake(new URL("ws://example.test:81/ferry?x=1"), ["ferry", "v2"]);
    const b = createHandshake(new URL("wss://example.test/"), []);
    const text = new TextDecoder().decode(a.request);
    assert.match(text, /^GET \/ferry\?x=1 HTTP\/1\.1\r\nHost: example\.test:81\r\n/);
    assert.match(text, /\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n/);
    assert.match(text, /\r\nSec-WebSocket-Version: 13\r\n/);
    assert.match(text, /\r\nSec-WebSocket-Protocol: ferry, v2\r\n\r\n$/);
    assert.equal(atob(a.key).length, 16);
    assert.notEqual(a.key, b.key);
    assert.match(
      new TextDecoder().decode(b.request),
      /^GET \/ HTTP\/1\.1\r\nHost: example\.test\r\n/,
    );
  });

  it("accepts a correct answer, header names in any case, and a chosen subprotocol", async () => {
    assert.deepEqual(await answer(good), { protocol: "" });
    assert.deepEqual(
      await answer([
        "HTTP/1.1 101 OK",
        "upgrade: WebSocket",
        "CONNECTION: keep-alive, Upgrade",
        "sec-websocket-accept: {accept}",
        "Sec-WebSocket-Protocol: v2",
      ], ["ferry", "v2"]),
      { protocol: "v2" },
    );
  });

  it("refuses every answer that does not prove an upgrade to exactly what was asked", async () => {
    const refusals: [string[], RegExp, string[]?][] = [
      [["HTTP/1.1 403 Forbidden"], /refused: the server answered 403 Forbidden/],
      [["SSH-2.0-OpenSSH"], /not an HTTP\/1\.1 response/],
      [[good[0]!, "Connection: Upgrade", good[3]!], /Upgrade is "missing"/],
      [[good[0]!, good[1]!, "Connection: close", good[3]!], /Connection is "close"/],
      [[...good.slice(0, 3), "Sec-WebSocket-Accept: nope"], /Sec-WebSocket-Accept is "nope"/],
      [[...good, "Sec-WebSocket-Extensions: permessage-deflate"], /extensions/],
      [[...good, "Sec-WebSocket-Protocol: chat"], /"chat" was not offered \(none was\)/],
      [[...good, "Sec-WebSocket-Protocol: chat"], /"chat" was not offered/, ["ferry"]],
      [good, /no subprotocol chosen of ferry/, ["ferry"]],
      [[...good, "no colon here"], /malformed header line/],
    ];
    for (const [lines, message, protocols] of refusals) {
      await assert.rejects(answer(lines, protocols), (error: unknown) => {
        assert.ok(error instanceof ConnectError, String(error));
        assert.match(error.message, /^WebSocket upgrade to ws:\/\/example\.test:81\/ferry\?x=1/);
        assert.match(error.message, message);
        return true;
      });
    }
  });

  it("finds the end of the head, and refuses one that never ends", () => {
    const text = encoder.encode("HTTP/1.1 101 OK\r\nA: b\r\n\r\n");
    const head = new Uint8Array([...text, 0x82, 0x00]);
    assert.equal(responseHeadEnd(head, "t"), head.length - 2);
    assert.equal(responseHeadEnd(head.subarray(0, 20), "t"), -1);
    const endless = new Uint8Array(MAX_RESPONSE_HEAD_BYTES).fill(0x41);
    assert.throws(() => responseHeadEnd(endless, "ws://t/"), LimitError);
  });

  it("checks subprotocol names", () => {
    assert.deepEqual(checkProtocols(undefined, "t"), []);
    assert.deepEqual(checkProtocols("ferry", "t"), ["ferry"]);
    assert.throws(() => checkProtocols(["a b"], "t"), InvalidArgumentError);
    assert.throws(() => checkProtocols(["a", "a"], "t"), /duplicates/);
    assert.throws(() => checkProtocols(7, "t"), /received 7/);
  });
});
