/**
 * Every way the gateway refuses a browser, each with its close code and each asserting that no
 * outbound connection was opened: bad or missing Origin, unknown targets and host:port smuggling
 * (fast-check strings through path, query and subprotocol), missing, wrong and late credentials,
 * an oversized frame, reply types and disabled uploads, broken framing, the caps, shutdown.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AuthError, ConnectionClosedError } from "../../src/errors.ts";
import { GatewayCloseCode } from "../../src/gateway/close-codes.ts";
import { authenticateToGateway } from "../../src/gateway/gateway-token.ts";
import { encodeMessage } from "../../src/protocol/encoder.ts";
import { type Message, MessageType } from "../../src/protocol/messages.ts";
import type { Socket } from "../../src/socket.ts";
import { FakeClock, settle } from "../helpers/fake-clock.ts";
import { memoryGateway } from "../helpers/gateway-fixture.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);

/** Writes `message` raw from the browser end and resolves when the socket has closed. */
function sendRaw(browser: Socket, ...messages: Message[]): Promise<unknown> {
  browser.attach({ data() {}, drain() {}, close() {} });
  for (const message of messages) for (const chunk of encodeMessage(message)) browser.write(chunk);
  return browser.closed;
}

const smugglingNames = [
  "127.0.0.1:7337",
  "127.0.0.1",
  "2130706433",
  "0x7f000001",
  "0177.0.0.1",
  "127.1",
  "[::1]:22",
  "[::ffff:127.0.0.1]:80",
  "::1",
  "localhost:22",
  "%31%32%37.0.0.1%3A22",
  "interop%2F..%2F127.0.0.1",
  "interop@127.0.0.1:22",
  "interop:22",
  "ｉｎｔｅｒｏｐ",
  "іnterop",
  "%69nterop",
  "INTEROP",
  "interop.",
  "interop/",
  "/interop",
  " interop",
  "interop\u0000",
  "interop/../../10.0.0.1",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "",
];

describe("gateway refusals (memory)", () => {
  it("checks Origin before the upgrade and again at accept", async () => {
    const fixture = await memoryGateway();
    try {
      for (
        const origin of [undefined, "https://evil.example", "https://app.example.evil", "null"]
      ) {
        const { edge, accepted } = fixture.open({ origin });
        assert.equal(accepted, false, `origin ${origin}`);
        assert.equal(edge.closeCode, GatewayCloseCode.PolicyViolation);
      }
      assert.equal(fixture.gateway.stats().refusals.origin, 8, "4 upgrades and 4 accepts");
      assert.equal(fixture.connects(), 0);
    } finally {
      await fixture.close();
    }
    const lenient = await memoryGateway({ allowMissingOrigin: true });
    try {
      const { client } = lenient.client({ origin: undefined });
      assert.deepEqual(await client.sendRpc(utf8("hi")), utf8("hi"));
      await client.close();
    } finally {
      await lenient.close();
    }
  });

  it("unknown targets and smuggled addresses never cause an outbound connect", async () => {
    const fixture = await memoryGateway();
    try {
      const name = fc.oneof(
        fc.constantFrom(...smugglingNames),
        fc.string({ unit: "grapheme", maxLength: 40 }),
        fc.string({ unit: "binary", maxLength: 40 }),
        fc.tuple(fc.ipV4(), fc.integer({ min: 1, max: 65535 })).map(([ip, port]) =>
          `${ip}:${port}`
        ),
        fc.ipV6().map((ip) => `[${ip}]:80`),
        fc.ipV4Extended(),
        fc.webUrl(),
      );
      const query = fc.oneof(
        fc.constant(""),
        fc.ipV4().map((ip) => `?target=${ip}:22`),
        fc.webUrl().map((url) => `?url=${encodeURIComponent(url)}`),
        fc.string({ maxLength: 20 }).map((text) => `?${text}`),
      );
      const prefix = fc.constantFrom("/gateway/", "/gateway", "/Gateway/", "/", "//gateway/", "");
      await fc.assert(
        fc.asyncProperty(prefix, name, query, fc.ipV4(), async (path, target, search, host) => {
          const url = `${path}${target}${search}`;
          const exact = url.split(/[?#]/)[0] === "/gateway/interop";
          const { edge, browser } = fixture.open({
            url,
            headers: { "sec-websocket-protocol": `${host}:22`, host: `${host}:80` },
          });
          if (!exact) {
            assert.ok(
              edge.closeCode === GatewayCloseCode.UnknownTarget ||
                edge.closeCode === GatewayCloseCode.PolicyViolation,
              `url ${JSON.stringify(url)} closed with ${edge.closeCode}`,
            );
          }
          browser.attach({ data() {}, drain() {}, close() {} });
          browser.close();
          await browser.closed;
          assert.equal(fixture.connects(), 0, `url ${JSON.stringify(url)} caused a connect`);
        }),
        { numRuns: 2000 },
      );
      const stats = fixture.gateway.stats();
      assert.ok(stats.refusals["unknown-target"] > 0);
      assert.equal(stats.pool.total.connections, 0);
      assert.equal(fixture.connects(), 0);
    } finally {
      await fixture.close();
    }
  });

  it("refuses a wrong token (4401), a request before the token (4401) and a late one (4408)", async () => {
    const clock = new FakeClock();
    const fixture = await memoryGateway({
      token: "the-right-token-123",
      authTimeoutMs: 100,
      clock,
    });
    try {
      const wrong = fixture.client();
      // Over a WebSocket the RpcFailure goes out before the close frame; a memory socket's reset
      // may drop it, so the client sees either the refusal or the closed connection.
      await assert.rejects(
        authenticateToGateway(wrong.client, "not-the-token"),
        (error) => error instanceof AuthError || error instanceof ConnectionClosedError,
      );
      await wrong.client.closed;
      assert.equal(wrong.edge.closeCode, GatewayCloseCode.Unauthorized);
      assert.doesNotMatch(String((wrong.edge.closeError as Error).message), /not-the-token/);

      const early = fixture.open();
      await sendRaw(early.browser, {
        type: MessageType.RpcRequest,
        requestId: 1,
        body: utf8("open:1:10"),
      });
      assert.equal(early.edge.closeCode, GatewayCloseCode.Unauthorized);

      // authTimeoutMs runs on the gateway's clock: silent for 99 ms is allowed, 100 ms is not.
      const late = fixture.open();
      const lateClosed = sendRaw(late.browser);
      clock.advance(99);
      await settle();
      assert.equal(late.edge.closeCalls, 0, "open until authTimeoutMs has passed");
      clock.advance(1);
      await lateClosed;
      assert.equal(late.edge.closeCode, GatewayCloseCode.Timeout);

      const stats = fixture.gateway.stats().refusals;
      assert.deepEqual(
        [stats["auth-failed"], stats["auth-required"], stats["auth-timeout"]],
        [1, 1, 1],
      );
      assert.equal(fixture.connects(), 0);
    } finally {
      await fixture.close();
    }
  });

  it("closes on an oversized frame (1009), reply types and disabled uploads (1008), bad framing (1002)", async () => {
    const fixture = await memoryGateway({ maxFrameLength: 1024 });
    try {
      const cases: [Message[], number][] = [
        [[{ type: MessageType.RpcRequest, requestId: 1, body: new Uint8Array(2000) }], 1009],
        [[{ type: MessageType.RpcResponse, requestId: 1, body: utf8("x") }], 1008],
        [
          [{ type: MessageType.ChunkFetchSuccess, streamId: 1, chunkIndex: 0, body: utf8("x") }],
          1008,
        ],
        [[{ type: MessageType.StreamResponse, streamId: "s", byteCount: 0 }], 1008],
        [
          [{ type: MessageType.UploadStream, requestId: 1, meta: utf8("m"), bodyByteCount: 0 }],
          1008,
        ],
      ];
      for (const [messages, code] of cases) {
        const { browser, edge } = fixture.open();
        await sendRaw(browser, ...messages);
        assert.equal(edge.closeCode, code, `type ${messages[0]!.type}`);
      }
      const { browser, edge } = fixture.open();
      browser.attach({ data() {}, drain() {}, close() {} });
      browser.write(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 3, 3])); // frame length 3 < 9
      await browser.closed;
      assert.equal(edge.closeCode, GatewayCloseCode.ProtocolError);
      const refusals = fixture.gateway.stats().refusals;
      assert.equal(refusals["frame-too-big"], 1);
      assert.equal(refusals["message-not-allowed"], 4);
      assert.equal(refusals["protocol-error"], 1);
      assert.equal(fixture.connects(), 0);
    } finally {
      await fixture.close();
    }
  });

  it("enforces the caps with 1013 and ends sessions with 1001 on shutdown", async () => {
    const fixture = await memoryGateway({ maxConnections: 3, maxConnectionsPerIp: 2 });
    const a = fixture.open({ remoteAddress: "192.0.2.1:1" });
    const b = fixture.open({ remoteAddress: "192.0.2.1:2" });
    const c = fixture.open({ remoteAddress: "192.0.2.1:3" });
    assert.equal(c.edge.closeCode, GatewayCloseCode.TryAgainLater);
    const d = fixture.open({ remoteAddress: "[2001:db8::1]:3" });
    assert.equal(d.edge.closeCode, undefined);
    const e = fixture.open({ remoteAddress: "198.51.100.7:3" });
    assert.equal(e.edge.closeCode, GatewayCloseCode.TryAgainLater);
    const refusals = fixture.gateway.stats().refusals;
    assert.equal(refusals["ip-cap"], 1);
    assert.equal(refusals["connection-cap"], 1);
    assert.equal(fixture.gateway.stats().sessions.open, 3);
    await fixture.close();
    for (const open of [a, b, d]) assert.equal(open.edge.closeCode, GatewayCloseCode.GoingAway);
    const late = fixture.open();
    assert.equal(late.edge.closeCode, GatewayCloseCode.GoingAway);
    assert.equal(fixture.connects(), 0);
  });
});
