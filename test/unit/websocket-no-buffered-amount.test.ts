/**
 * A WebSocket without `bufferedAmount` (workerd's has none): the adapter must report a count,
 * never `undefined`/NaN, because the frame writer compares it with the write hard cap and a NaN
 * fails every comparison ("NaN bytes are queued … above the write hard cap" failed each request).
 * Two stand-in WebSockets joined back to back carry real RPCs between a client and a server.
 * Runs under Node and Deno.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { TransportClient } from "../../src/client/transport-client.ts";
import { ConnectionClosedError } from "../../src/errors.ts";
import { TransportServer } from "../../src/server/transport-server.ts";
import { wrapWebSocket } from "../../adapters/websocket/mod.ts";
import type { WebSocketLike } from "../../adapters/websocket/mod.ts";
import type { Socket } from "../../src/socket.ts";
import { SinkRecorder } from "../conformance/socket-recorder.ts";

/**
 * A standard-shaped WebSocket with no `bufferedAmount` property at all: `send` delivers a copy
 * to the peer as a binary `MessageEvent` in a later task, `close` closes both ends cleanly.
 */
class WebSocketWithoutBufferedAmount extends EventTarget {
  binaryType = "blob";
  readyState = 1;
  peer: WebSocketWithoutBufferedAmount | undefined;
  sent = 0;
  /** What `send` and `close` throw, as workerd's do for a socket of another request. */
  refuseIo: Error | undefined;

  send(data: Uint8Array): void {
    if (this.refuseIo !== undefined) throw this.refuseIo;
    if (this.readyState !== 1) throw new Error("send on a closed stand-in");
    this.sent += data.byteLength;
    const copy = data.slice().buffer;
    const peer = this.peer!;
    setTimeout(() => {
      if (peer.readyState === 1) peer.dispatchEvent(new MessageEvent("message", { data: copy }));
    }, 0);
  }

  close(code = 1000, reason = ""): void {
    if (this.refuseIo !== undefined) throw this.refuseIo;
    for (const end of [this, this.peer!]) {
      if (end.readyState === 3) continue;
      end.readyState = 3;
      setTimeout(
        // Node 20 has no CloseEvent: an Event carrying its three fields.
        () =>
          end.dispatchEvent(Object.assign(new Event("close"), { code, reason, wasClean: true })),
        0,
      );
    }
  }
}

function standInPair(): [WebSocketWithoutBufferedAmount, WebSocketWithoutBufferedAmount] {
  const a = new WebSocketWithoutBufferedAmount();
  const b = new WebSocketWithoutBufferedAmount();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

function wrap(ws: WebSocketWithoutBufferedAmount, remoteAddress: string): Socket {
  ws.binaryType = "arraybuffer";
  return wrapWebSocket(ws as unknown as WebSocketLike, {
    transport: "ws",
    remoteAddress,
    highWaterMark: 1024,
    maxHeldBytes: 1 << 20,
    closeTimeoutMs: 5_000,
  });
}

describe("a WebSocket without bufferedAmount", () => {
  it("has no such property: the stand-in is faithful to workerd", () => {
    const [a] = standInPair();
    assert.equal("bufferedAmount" in a, false);
  });

  it("reports 0 buffered bytes and keeps accepting writes above the high-water mark", async () => {
    const [a, b] = standInPair();
    const client = wrap(a, "b");
    const server = wrap(b, "a");
    const received = new SinkRecorder({ keep: true });
    client.attach(new SinkRecorder());
    server.attach(received);
    const chunk = new Uint8Array(4096).fill(7); // 4× the 1 KiB high-water mark
    assert.equal(client.write(chunk), true);
    assert.equal(client.bufferedAmount, 0);
    assert.equal(Number.isNaN(client.bufferedAmount), false);
    await received.waitForBytes(chunk.byteLength);
    assert.equal(a.sent, chunk.byteLength);
    client.close();
    assert.deepEqual(await client.closed, { error: undefined });
    assert.deepEqual(await server.closed, { error: undefined });
  });

  it("carries RPCs larger than the high-water mark without tripping the write hard cap", async () => {
    const [a, b] = standInPair();
    const server = new TransportServer({ rpcHandler: { receive: (_client, body) => body } });
    server.accept(wrap(b, "client"));
    const client = new TransportClient(wrap(a, "server"));
    try {
      for (const size of [10, 5_000, 100_000]) {
        const body = new Uint8Array(size).map((_, i) => i % 251);
        const reply = await client.sendRpc(body, { timeoutMs: 10_000 });
        assert.deepEqual(reply, body, `echo of ${size} bytes`);
      }
    } finally {
      await client.close();
      await server.close();
    }
  });

  it("a send the runtime refuses fails what is in flight with that cause", async () => {
    const [a, b] = standInPair();
    const server = new TransportServer({ rpcHandler: { receive: (_client, body) => body } });
    server.accept(wrap(b, "client"));
    const socket = wrap(a, "server");
    const client = new TransportClient(socket);
    try {
      assert.deepEqual(
        await client.sendRpc(new Uint8Array([1]), { timeoutMs: 10_000 }),
        new Uint8Array([1]),
      );
      const refusal = new Error("Cannot perform I/O on behalf of a different request.");
      a.refuseIo = refusal;
      // workerd's accessor throws too for a WebSocket of another request.
      Object.defineProperty(a, "bufferedAmount", {
        configurable: true,
        get: () => {
          throw refusal;
        },
      });
      const failed = await client.sendRpc(new Uint8Array([2]), { timeoutMs: 60_000 }).then(
        () => assert.fail("an RPC over a refused send succeeded"),
        (error: unknown) => error,
      );
      assert.ok(failed instanceof ConnectionClosedError, String(failed));
      let cause: unknown = failed;
      while (cause instanceof Error && cause !== refusal) cause = cause.cause;
      assert.equal(cause, refusal, "workerd's refusal is in the cause chain");
      const closed = await socket.closed;
      assert.ok(closed.error instanceof ConnectionClosedError);
      assert.match(
        (closed.error as Error).message,
        /failed to send \d+ bytes: .*different request/,
      );
    } finally {
      a.refuseIo = undefined;
      delete (a as { bufferedAmount?: number }).bufferedAmount;
      await client.close().catch(() => {});
      await server.close();
    }
  });
});
