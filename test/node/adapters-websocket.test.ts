import { describe, it } from "node:test";
import assert from "node:assert/strict";
import WebSocket, { WebSocketServer } from "ws";
import {
  ConnectError,
  ConnectionClosedError,
  InvalidArgumentError,
  ProtocolError,
} from "../../src/errors.ts";
import type { Socket } from "../../src/socket.ts";
import { webSocketListen } from "../../adapters/node/mod.ts";
import {
  webSocketConnect,
  type WebSocketConstructor,
  type WebSocketLike,
  wrapWebSocket,
} from "../../adapters/websocket/mod.ts";
import { SinkRecorder } from "../conformance/socket-recorder.ts";

const Ws = WebSocket as unknown as WebSocketConstructor;

/**
 * Wraps an open `ws` socket as a browser's or Deno's WebSocket would be: without `terminate()`
 * the adapter takes it for a standard one (MessageEvents, no written-callbacks, close codes only).
 * The method is hidden on the socket itself, not on an object inheriting from it: `ws` keeps its
 * state in properties of `this`, and through an heir the close handshake's timer was set on the heir
 * and never cleared by the socket's own close, holding the process open 30 s after the test.
 */
function wrapAsStandardWebSocket(ws: WebSocket): Socket {
  const like = Object.assign(ws, { terminate: undefined }) as unknown as WebSocketLike;
  return wrapWebSocket(like, {
    transport: "ws",
    remoteAddress: "test",
    highWaterMark: 1024,
    maxHeldBytes: 1024,
    closeTimeoutMs: 1000,
  });
}

describe("websocket adapters", () => {
  it("rejects bad client options", () => {
    assert.throws(
      () => webSocketConnect({ url: "not a url", WebSocket: Ws }),
      InvalidArgumentError,
    );
    assert.throws(
      () => webSocketConnect({ url: "http://127.0.0.1:1/", WebSocket: Ws }),
      /must use ws: or wss:, received http:/,
    );
    assert.throws(
      () => webSocketConnect({ url: "ws://127.0.0.1:1/", WebSocket: Ws, highWaterMark: -1 }),
      InvalidArgumentError,
    );
    if (typeof (globalThis as { WebSocket?: unknown }).WebSocket !== "function") {
      assert.throws(() => webSocketConnect({ url: "ws://127.0.0.1:1/" }), /options\.WebSocket/);
    }
    assert.throws(() => webSocketListen({ path: "nope" }), InvalidArgumentError);
  });

  it("refuses upgrades on another path or that allowUpgrade declines", async () => {
    const seen: string[] = [];
    const listener = await webSocketListen({
      path: "/ferry",
      allowUpgrade: (request) => {
        seen.push(`${request.url} ${request.origin}`);
        return !request.url.includes("deny");
      },
    })(() => {});
    try {
      const base = `ws://127.0.0.1:${listener.address.port}`;
      assert.equal(listener.address.url, `${base}/ferry`);
      await assert.rejects(
        webSocketConnect({ url: `${base}/other`, WebSocket: Ws })(),
        (error) => error instanceof ConnectError && /404/.test(error.message),
      );
      await assert.rejects(
        webSocketConnect({ url: `${base}/ferry?deny`, WebSocket: Ws })(),
        (error) => error instanceof ConnectError && /403/.test(error.message),
      );
      assert.deepEqual(seen, ["/ferry?deny undefined"]);
      const response = await fetch(`http://127.0.0.1:${listener.address.port}/ferry`);
      assert.equal(response.status, 426);
      await response.body?.cancel();
    } finally {
      await listener.close();
    }
  });

  it("a text message breaks the protocol: the socket closes with a ProtocolError", async () => {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise((resolve) => server.once("listening", resolve));
    server.on("connection", (ws) => ws.send("hello as text"));
    try {
      const { port } = server.address() as { port: number };
      const client = await webSocketConnect({ url: `ws://127.0.0.1:${port}/`, WebSocket: Ws })();
      client.attach(new SinkRecorder());
      const { error } = await client.closed;
      assert.ok(error instanceof ProtocolError, `closed with ${String(error)}`);
      assert.match(error.message, /text message/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("on the standard event path too, binary messages arrive and a text message is refused", async () => {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise((resolve) => server.once("listening", resolve));
    server.on("connection", (peer) =>
      peer.once("message", () => {
        peer.send(Uint8Array.of(1, 2, 3));
        peer.send("hello as text");
      }));
    const { port } = server.address() as { port: number };
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    try {
      ws.binaryType = "arraybuffer";
      await new Promise((resolve) => ws.once("open", resolve));
      const socket = wrapAsStandardWebSocket(ws);
      const sink = new SinkRecorder({ keep: true });
      socket.attach(sink);
      socket.write(Uint8Array.of(0)); // the peer answers it
      const { error } = await socket.closed;
      assert.deepEqual([...sink.bytes()], [1, 2, 3]);
      assert.ok(error instanceof ProtocolError, `closed with ${String(error)}`);
      assert.match(error.message, /text message/);
    } finally {
      WebSocket.prototype.terminate.call(ws);
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("a message above maxPayload closes the connection with an error", async () => {
    let accepted: Socket | undefined;
    const listener = await webSocketListen({ maxPayload: 1024 })((socket) => (accepted = socket));
    try {
      const client = await webSocketConnect({ url: listener.address.url, WebSocket: Ws })();
      client.attach(new SinkRecorder());
      client.write(new Uint8Array(2048));
      const { error } = await client.closed;
      assert.ok(error instanceof ConnectionClosedError, `closed with ${String(error)}`);
      assert.match(error.message, /1009/);
      if (accepted) {
        accepted.attach(new SinkRecorder());
        await accepted.closed;
      }
    } finally {
      await listener.close();
    }
  });

  it("close(error) without terminate() sends code 4000 with the error's text", async () => {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise((resolve) => server.once("listening", resolve));
    const peerClosed = new Promise<{ code: number; reason: string }>((resolve) =>
      server.on(
        "connection",
        (ws) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
      )
    );
    try {
      const { port } = server.address() as { port: number };
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
      await new Promise((resolve) => ws.once("open", resolve));
      const socket = wrapAsStandardWebSocket(ws);
      socket.attach(new SinkRecorder());
      const reason = new Error("x".repeat(300));
      socket.close(reason);
      assert.equal((await socket.closed).error, reason);
      const seen = await peerClosed;
      assert.equal(seen.code, 4000);
      assert.equal(seen.reason, "x".repeat(123), "reason trimmed to the protocol's 123 bytes");
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
