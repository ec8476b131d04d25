/**
 * `wsConnect` (Ferry's own WebSocket client over Node TCP) against scripted servers on real
 * loopback sockets: a server written out by hand on `node:net`, so every answer, frame and close
 * is exactly what the test says, including what a real server would never send.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as net from "node:net";
import {
  ConnectError,
  ConnectionClosedError,
  InvalidArgumentError,
  ProtocolError,
  TimeoutError,
} from "../../src/errors.ts";
import type { Socket } from "../../src/socket.ts";
import { wsConnect } from "../../adapters/node/mod.ts";
import { withoutLeaks } from "../conformance/socket-harness.ts";
import { SinkRecorder } from "../conformance/socket-recorder.ts";
import { concatBytes } from "../helpers/concat-bytes.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** An unmasked server frame. */
function frame(opcode: number, payload: Uint8Array | string = new Uint8Array(0)): Uint8Array {
  const bytes = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  if (bytes.length >= 126) throw new Error("test frames are short");
  return concatBytes([Uint8Array.of(0x80 | opcode, bytes.length), bytes]);
}

function closeFrame(code: number, reason = ""): Uint8Array {
  return frame(
    0x8,
    concatBytes([Uint8Array.of(code >> 8, code & 0xff), new TextEncoder().encode(reason)]),
  );
}

/** Reads the client's masked frames off a byte stream. */
class ClientFrames {
  #buffered: Uint8Array = new Uint8Array(0);
  readonly frames: { opcode: number; payload: Uint8Array }[] = [];
  #waiters: (() => void)[] = [];
  push(chunk: Uint8Array): void {
    this.#buffered = concatBytes([this.#buffered, chunk]);
    for (;;) {
      const b = this.#buffered;
      if (b.length < 2) return;
      assert.equal(b[1]! & 0x80, 0x80, "client frames are masked");
      let length = b[1]! & 0x7f;
      let at = 2;
      if (length === 126) [length, at] = [(b[2]! << 8) | b[3]!, 4];
      else if (length === 127) {
        [length, at] = [Number(new DataView(b.buffer, b.byteOffset).getBigUint64(2)), 10];
      }
      if (b.length < at + 4 + length) return;
      const key = b.subarray(at, at + 4);
      const payload = b.slice(at + 4, at + 4 + length).map((x, i) => x ^ key[i & 3]!);
      this.frames.push({ opcode: b[0]! & 0x0f, payload });
      this.#buffered = b.slice(at + 4 + length);
      for (const wake of this.#waiters.splice(0)) wake();
    }
  }
  async next(): Promise<{ opcode: number; payload: Uint8Array }> {
    while (this.frames.length === 0) await new Promise<void>((r) => this.#waiters.push(r));
    return this.frames.shift()!;
  }
}

interface Scripted {
  readonly url: string;
  /** The server side of the next accepted connection, after it answered the upgrade. */
  accepted(): Promise<{ socket: net.Socket; frames: ClientFrames; request: string }>;
  close(): Promise<void>;
}

/** A server that answers each upgrade with `answer(key)` (the 101 by default). */
async function scriptedServer(
  answer: (key: string) => string | undefined = (key) =>
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Accept: ${createHash("sha1").update(key + GUID).digest("base64")}\r\n\r\n`,
): Promise<Scripted> {
  const queue: { socket: net.Socket; frames: ClientFrames; request: string }[] = [];
  const waiters: (() => void)[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let head = "";
    const frames = new ClientFrames();
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onData);
      const key = /Sec-WebSocket-Key: (.*)\r\n/.exec(head)![1]!;
      const reply = answer(key);
      if (reply !== undefined) socket.write(reply);
      socket.on("data", (more: Buffer) => frames.push(new Uint8Array(more)));
      queue.push({ socket, frames, request: head.slice(0, end) });
      for (const wake of waiters.splice(0)) wake();
    };
    socket.on("data", onData);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}/ferry?v=1`,
    async accepted() {
      while (queue.length === 0) await new Promise<void>((r) => waiters.push(r));
      return queue.shift()!;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function openPair(server: Scripted) {
  const [client, side] = await Promise.all([wsConnect({ url: server.url })(), server.accepted()]);
  return { client, ...side };
}

function write(socket: net.Socket, ...frames: Uint8Array[]): void {
  socket.write(concatBytes(frames));
}

describe("wsConnect against scripted servers", () => {
  it("rejects bad options at once", () => {
    assert.throws(
      () => wsConnect({ url: "http://127.0.0.1:1/" }),
      /must use ws: or wss:, received http:/,
    );
    assert.throws(() => wsConnect({ url: "ws://127.0.0.1:1/#x" }), /fragment/);
    assert.throws(() => wsConnect({ url: "nonsense" }), InvalidArgumentError);
    assert.throws(
      () => wsConnect({ url: "ws://127.0.0.1:1/", protocols: ["a b"] }),
      InvalidArgumentError,
    );
  });

  it("sends the upgrade for the URL, streams binary frames and answers pings", () =>
    withoutLeaks(async () => {
      const server = await scriptedServer();
      const { client, socket, frames, request } = await openPair(server);
      try {
        assert.match(request, /^GET \/ferry\?v=1 HTTP\/1\.1\r\nHost: 127\.0\.0\.1:\d+\r\n/);
        const sink = new SinkRecorder({ keep: true });
        client.attach(sink);
        write(socket, frame(0x2, "hello "), frame(0x9, "are you there"), frame(0x2, "ferry"));
        await sink.waitForBytes(11);
        assert.equal(new TextDecoder().decode(sink.bytes()), "hello ferry");
        const pong = await frames.next();
        assert.equal(pong.opcode, 0xa);
        assert.equal(new TextDecoder().decode(pong.payload), "are you there");
        client.write(new TextEncoder().encode("back"));
        const back = await frames.next();
        assert.equal(back.opcode, 0x2);
        assert.equal(new TextDecoder().decode(back.payload), "back");
      } finally {
        client.close(new Error("test cleanup"));
        await client.closed;
        await server.close();
      }
    }));

  it("ends with the server's close code and reason, after answering its close frame", () =>
    withoutLeaks(async () => {
      const server = await scriptedServer();
      const { client, socket, frames } = await openPair(server);
      const sink = new SinkRecorder({ keep: true });
      client.attach(sink);
      write(socket, frame(0x2, "last words"), closeFrame(4001, "going away now"));
      const answered = await frames.next();
      assert.equal(answered.opcode, 0x8);
      assert.deepEqual([...answered.payload], [4001 >> 8, 4001 & 0xff]);
      socket.end();
      const { error } = await client.closed;
      assert.ok(error instanceof ConnectionClosedError);
      assert.match(error.message, /closed with code 4001 \(going away now\)/);
      assert.equal(
        new TextDecoder().decode(sink.bytes()),
        "last words",
        "data before close arrives",
      );
      await server.close();
    }));

  it("closes gracefully: close frame 1000, the server's answer, then the end", () =>
    withoutLeaks(async () => {
      const server = await scriptedServer();
      const { client, socket, frames } = await openPair(server);
      client.attach(new SinkRecorder());
      client.write(Uint8Array.of(1, 2, 3));
      client.close();
      assert.equal(client.write(Uint8Array.of(4)), false, "no writes after close()");
      assert.equal((await frames.next()).opcode, 0x2, "queued data goes first");
      const sent = await frames.next();
      assert.equal(sent.opcode, 0x8);
      assert.deepEqual([...sent.payload], [0x03, 0xe8]);
      write(socket, closeFrame(1000));
      socket.end();
      assert.deepEqual(await client.closed, { error: undefined });
      await server.close();
    }));

  it("a connection that ends without a close frame ends with an error (1006)", () =>
    withoutLeaks(async () => {
      const server = await scriptedServer();
      const { client, socket } = await openPair(server);
      client.attach(new SinkRecorder());
      socket.end();
      const { error } = await client.closed;
      assert.ok(error instanceof ConnectionClosedError);
      assert.match(error.message, /code 1006, not cleanly/);
      await server.close();
    }));

  it("a text message or a masked frame breaks the protocol: ProtocolError, close code sent", () =>
    withoutLeaks(async () => {
      const server = await scriptedServer();
      for (
        const [bad, code, message] of [
          [frame(0x1, "hi"), 1003, /text message/],
          [Uint8Array.of(0x82, 0x81, 1, 2, 3, 4, 5), 1002, /masked frame/],
        ] as const
      ) {
        const { client, socket, frames } = await openPair(server);
        client.attach(new SinkRecorder());
        write(socket, bad);
        const { error } = await client.closed.then(async (closed) => {
          const sent = await frames.next();
          assert.equal(sent.opcode, 0x8);
          assert.equal((sent.payload[0]! << 8) | sent.payload[1]!, code);
          return closed;
        });
        assert.ok(error instanceof ProtocolError, String(error));
        assert.match(error.message, message);
        socket.destroy();
      }
      await server.close();
    }));

  it("refuses a failed upgrade with a ConnectError and leaves nothing open", () =>
    withoutLeaks(async () => {
      const answers: [(key: string) => string | undefined, RegExp][] = [
        [() => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", /answered 404 Not Found/],
        [
          () =>
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAA\r\n\r\n",
          /Sec-WebSocket-Accept is "AAAA"/,
        ],
      ];
      for (const [answer, message] of answers) {
        const server = await scriptedServer(answer);
        await assert.rejects(wsConnect({ url: server.url })(), (error: unknown) => {
          assert.ok(error instanceof ConnectError, String(error));
          assert.match(error.message, message);
          return true;
        });
        await server.close();
      }
      const hangUp = await scriptedServer(() => undefined);
      const pending = wsConnect({ url: hangUp.url })();
      (await hangUp.accepted()).socket.end();
      await assert.rejects(pending, /connection ended before the server answered/);
      await hangUp.close();
    }));

  it("a server that never answers: TimeoutError at the deadline, or the signal's reason", () =>
    withoutLeaks(async () => {
      const server = await scriptedServer(() => undefined);
      await assert.rejects(wsConnect({ url: server.url, timeoutMs: 150 })(), (error: unknown) => {
        assert.ok(error instanceof TimeoutError, String(error));
        assert.match(
          error.message,
          /WebSocket upgrade to ws:\/\/127\.0\.0\.1:\d+\/ferry\?v=1 timed out/,
        );
        return true;
      });
      const controller = new AbortController();
      const pending = wsConnect({ url: server.url })({ signal: controller.signal });
      await server.accepted();
      await server.accepted();
      controller.abort(new Error("user gave up"));
      await assert.rejects(pending, /user gave up/);
      await server.close();
    }));

  it("a socket closed before attach settles closed, and a later attach hears the end", () =>
    withoutLeaks(async () => {
      const server = await scriptedServer();
      for (const reason of [undefined, new Error("not needed after all")]) {
        const { client, socket, frames } = await openPair(server);
        client.close(reason);
        if (reason === undefined) {
          assert.equal((await frames.next()).opcode, 0x8);
          write(socket, closeFrame(1000));
          socket.end();
        }
        const { error } = await client.closed;
        assert.equal(error, reason);
        const sink = new SinkRecorder();
        client.attach(sink);
        assert.equal(await sink.closedBySink, reason);
        socket.destroy();
      }
      await server.close();
    }));

  it("bytes received before an error ending are delivered first, even while paused", () =>
    withoutLeaks(async () => {
      const server = await scriptedServer();
      const { client, socket } = await openPair(server);
      const sink = new SinkRecorder({
        keep: true,
        onData: () => {
          if (sink.dataEvents === 1) {
            client.pause();
            setTimeout(() => client.resume(), 20);
          }
        },
      });
      client.attach(sink);
      write(socket, frame(0x2, "ab"), frame(0x2, "cd"), closeFrame(1001, "bye"), frame(0x2, "zz"));
      socket.end();
      const { error } = await client.closed;
      assert.match(String(error), /closed with code 1001 \(bye\)/);
      assert.equal(new TextDecoder().decode(sink.bytes()), "abcd", "nothing after the close frame");
      assert.deepEqual(sink.violations, []);
      await server.close();
    }));

  it("close(error) from inside data stops delivery, even of frames in the same chunk", () =>
    withoutLeaks(async () => {
      const server = await scriptedServer();
      const { client, socket } = await openPair(server);
      const stop = new Error("seen enough");
      const events: string[] = [];
      client.attach({
        data: (chunk) => {
          events.push(`data ${new TextDecoder().decode(chunk)}`);
          client.close(stop);
        },
        drain: () => {},
        close: (error) => events.push(`close ${(error as Error).message}`),
      });
      write(socket, frame(0x2, "a"), frame(0x9, "ping"), frame(0x2, "b"), frame(0x2, "c"));
      assert.equal((await client.closed).error, stop);
      assert.deepEqual(events, ["data a", "close seen enough"]);
      await server.close();
    }));

  it("a close frame with a code no endpoint may send, or a reason not UTF-8, breaks the protocol", () =>
    withoutLeaks(async () => {
      const server = await scriptedServer();
      for (
        const [payload, code, message] of [
          [Uint8Array.of(0x03, 0xed), 1002, /code 1005, which no endpoint may send/],
          [Uint8Array.of(0x03, 0xe7), 1002, /code 999/],
          [Uint8Array.of(0x03), 1002, /1-byte payload/],
          [Uint8Array.of(0x03, 0xe8, 0xff, 0xfe), 1007, /not valid UTF-8/],
        ] as const
      ) {
        const { client, socket, frames } = await openPair(server);
        client.attach(new SinkRecorder());
        write(socket, frame(0x8, payload));
        const sent = await frames.next();
        assert.equal(sent.opcode, 0x8);
        assert.equal((sent.payload[0]! << 8) | sent.payload[1]!, code);
        socket.end();
        const { error } = await client.closed;
        assert.ok(error instanceof ProtocolError, String(error));
        assert.match(error.message, message);
      }
      await server.close();
    }));

  it("a graceful close the server never answers ends with a TimeoutError", () =>
    withoutLeaks(async () => {
      const server = await scriptedServer();
      const socketOf = wsConnect({ url: server.url, closeTimeoutMs: 100 });
      const [client] = await Promise.all([socketOf(), server.accepted()]) as [Socket, unknown];
      client.attach(new SinkRecorder());
      client.close();
      const { error } = await client.closed;
      assert.ok(error instanceof TimeoutError, String(error));
      assert.match(error.message, /no close frame from the peer/);
      await server.close();
    }));
});
