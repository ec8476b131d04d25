/**
 * `Socket.writeAll` on the WebSocket adapter and its use by the gateway's browser writer: a reply's
 * header and body leave as two messages (each chunk one message, in order) with the `ws`
 * package's TCP socket corked around both sends, so they go out in one `writev` instead of a lone
 * 33-byte header segment followed by the body. What `writeAll` returns is the state after the
 * cork is released (what the socket still holds then), not the corked total, so a reply the
 * kernel takes at once does not mark the browser congested. Runs under Node and Deno (stand-ins
 * for the `ws` WebSocket and its TCP socket; nothing of Node's).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { wrapWebSocket } from "../../adapters/websocket/mod.ts";
import type { WebSocketLike } from "../../adapters/websocket/mod.ts";
import { BrowserWriter } from "../../src/gateway/browser-writer.ts";
import { RelayBufferPool } from "../../src/gateway/relay-buffer-pool.ts";
import { MessageType } from "../../src/protocol/messages.ts";
import type { Socket, SocketSink } from "../../src/socket.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

/** What the stand-in TCP socket saw: corks, uncorks, and the message groups each uncork flushed. */
class StandInTcp {
  corked = 0;
  readonly log: string[] = [];
  /** Bytes sent while corked, flushed (taken by the "kernel") at the last uncork. */
  pending: Uint8Array[] = [];
  /** Each flush: the messages it carried (one writev). */
  readonly flushes: Uint8Array[][] = [];
  /** Bytes the "kernel" refuses to take at a flush (they stay buffered). */
  kernelRefuses = 0;
  buffered = 0;
  readonly #afterFlush: (() => void)[] = [];

  cork(): void {
    this.corked++;
    this.log.push("cork");
  }

  uncork(): void {
    this.log.push("uncork");
    if (--this.corked > 0) return;
    this.flush();
  }

  write(bytes: Uint8Array, written: () => void): void {
    this.pending.push(bytes);
    this.buffered += bytes.byteLength;
    this.#afterFlush.push(written);
    if (this.corked === 0) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0) return;
    this.flushes.push(this.pending);
    this.pending = [];
    this.buffered = this.kernelRefuses;
    const callbacks = this.#afterFlush.splice(0);
    // Node calls write callbacks in a later tick, once the writev completed.
    queueMicrotask(() => callbacks.forEach((written) => written()));
  }
}

/** The `ws` package's surface the adapter uses, sending onto a `StandInTcp`. */
class StandInWs extends EventTarget {
  binaryType = "nodebuffer";
  readyState = 1;
  readonly sends: { bytes: Uint8Array; fin: boolean }[] = [];

  constructor(readonly tcp: StandInTcp) {
    super();
  }

  get bufferedAmount(): number {
    return this.tcp.buffered;
  }

  send(data: Uint8Array, options?: { binary: boolean; fin: boolean }, sent?: () => void): void {
    this.sends.push({ bytes: data, fin: options?.fin ?? true });
    // As `ws` does: its own cork around a frame's header and payload.
    this.tcp.cork();
    this.tcp.write(data, sent ?? (() => {}));
    this.tcp.uncork();
  }

  close(): void {
    this.readyState = 3;
  }

  terminate(): void {
    this.readyState = 3;
  }

  pause(): void {}
  resume(): void {}
  on(): void {}
  off(): void {}
}

function wrap(highWaterMark: number, withTcp = true) {
  const tcp = new StandInTcp();
  const ws = new StandInWs(tcp);
  const socket = wrapWebSocket(ws as unknown as WebSocketLike, {
    transport: "ws",
    remoteAddress: "browser",
    highWaterMark,
    maxHeldBytes: 1 << 20,
    closeTimeoutMs: 0,
    ...(withTcp ? { tcp } : {}),
  });
  let drains = 0;
  socket.attach({ data() {}, drain: () => void drains++, close() {} });
  return { tcp, ws, socket, drains: () => drains };
}

const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe("WebSocket adapter writeAll", () => {
  it("sends one message per chunk, in order, with the TCP socket corked around all of them", () => {
    const { tcp, ws, socket } = wrap(1024);
    const header = new Uint8Array(21).fill(1);
    const body = new Uint8Array(4096).fill(2);
    assert.equal(socket.writeAll!([header, body]), true, "the kernel took it all");
    assert.deepEqual(ws.sends.map((send) => [send.bytes, send.fin]), [[header, true], [
      body,
      true,
    ]]);
    assert.equal(tcp.flushes.length, 1, "one flush (one writev) for both messages");
    assert.deepEqual(tcp.flushes[0], [header, body]);
    assert.equal(tcp.log[0], "cork");
    assert.equal(tcp.log.at(-1), "uncork");
    assert.equal(tcp.corked, 0);
  });

  it("without a TCP socket to cork, each message leaves on its own", () => {
    const { tcp, socket } = wrap(1024, false);
    assert.equal(socket.writeAll!([new Uint8Array(3), new Uint8Array(4096)]), true);
    assert.equal(tcp.flushes.length, 2);
  });

  it("returns false, then drains, only when bytes stay buffered after the flush", async () => {
    const { tcp, socket, drains } = wrap(1024);
    tcp.kernelRefuses = 2048; // the browser is behind: the kernel keeps 2 KiB back
    assert.equal(socket.writeAll!([new Uint8Array(21), new Uint8Array(4096)]), false);
    tcp.kernelRefuses = 0;
    tcp.buffered = 0; // the browser caught up
    await turn();
    assert.equal(drains(), 1, "drain once the written-callbacks found the buffer below the mark");
  });

  it("writes nothing to a closed socket", () => {
    const { ws, socket } = wrap(1024);
    socket.close(new Error("gone"));
    assert.equal(socket.writeAll!([new Uint8Array(3)]), false);
    assert.equal(ws.sends.length, 0);
  });
});

describe("browser writer", () => {
  /** A socket recording `write` and `writeAll` calls; everything is flushed at once. */
  function recordingSocket(): { socket: Socket; calls: string[] } {
    const calls: string[] = [];
    let sink: SocketSink | undefined;
    const socket: Socket = {
      info: { transport: "test", remoteAddress: "browser" },
      attach: (given) => void (sink = given),
      write: (chunk) => (calls.push(`write ${chunk.byteLength}`), true),
      writeAll: (chunks) => (calls.push(`writeAll ${chunks.map((c) => c.byteLength)}`), true),
      bufferedAmount: 0,
      pause() {},
      resume() {},
      close() {},
      closed: new Promise(() => {}),
    };
    void sink;
    return { socket, calls };
  }

  function writerOn(socket: Socket): BrowserWriter {
    return new BrowserWriter(socket, {
      highWaterMark: 1024,
      maxBufferedBytes: 1 << 20,
      slowConsumerTimeoutMs: 0,
      clock: new FakeClock(),
      onWritten() {},
      onChange() {},
      onFailure(error) {
        throw error;
      },
    });
  }

  it("hands a chunk reply's header and passed-through body to the socket in one writeAll", () => {
    const { socket, calls } = recordingSocket();
    const writer = writerOn(socket);
    const pool = new RelayBufferPool(64 * 1024, 2);
    const body = pool.take(64 * 1024);
    writer.send({ type: MessageType.ChunkFetchSuccess, streamId: 3n, chunkIndex: 0, body });
    assert.equal(calls.length, 1, calls.join("; "));
    assert.match(calls[0]!, /^writeAll \d+,65536$/);
    assert.equal(pool.free, 1, "the lent body is given back: the socket holds nothing");
    writer.dispose();
  });

  it("writes a reply with its body copied into the frame as one chunk", () => {
    const { socket, calls } = recordingSocket();
    const writer = writerOn(socket);
    writer.send({
      type: MessageType.ChunkFetchSuccess,
      streamId: 3n,
      chunkIndex: 0,
      body: new Uint8Array(8),
    });
    assert.deepEqual(calls.map((call) => call.split(" ")[0]), ["write"]);
    writer.dispose();
  });
});
