/**
 * Deno TCP adapter specifics beyond the conformance suite: option checks, error texts, aborting a
 * connect in flight, the graceful-close deadline, and how read buffers are handed out. Each case
 * is a `Deno.test` with the resource and op sanitizers on.
 */
import assert from "node:assert/strict";
import {
  ConnectError,
  InvalidArgumentError,
  TimeoutError,
  TransportError,
} from "../../src/errors.ts";
import type { Socket } from "../../src/socket.ts";
import { tcpConnect, tcpListen } from "../../adapters/deno/mod.ts";
import {
  patternChunk,
  patternMismatch,
  SinkRecorder,
  turns,
} from "../conformance/socket-recorder.ts";
import { denoSanitizedTest } from "../helpers/deno-sanitized-test.ts";

interface RawConn {
  read(buffer: Uint8Array): Promise<number | null>;
  close(): void;
}

/** The part of `Deno` used here, typed locally so Node's type-check passes. */
const Deno = (globalThis as unknown as {
  Deno: {
    listen(options: { hostname: string; port: number }): {
      accept(): Promise<RawConn>;
      close(): void;
      readonly addr: { port: number };
    };
  };
}).Deno;

function test(name: string, fn: () => Promise<void> | void): void {
  denoSanitizedTest(`deno tcp adapter: ${name}`, fn);
}

test("rejects bad options with InvalidArgumentError", () => {
  assert.throws(() => tcpConnect({ host: "", port: 1 }), InvalidArgumentError);
  assert.throws(() => tcpConnect({ host: "127.0.0.1", port: 0 }), InvalidArgumentError);
  assert.throws(
    () => tcpConnect({ host: "127.0.0.1", port: 1, keepAliveInitialDelayMs: 1000 }),
    /keepAliveInitialDelayMs is not supported by Deno/,
  );
  assert.throws(() => tcpListen({ port: -1 }), /received -1/);
  assert.throws(() => tcpListen({ closeTimeoutMs: Number.NaN }), InvalidArgumentError);
});

test("names the address and the error when a connect is refused", async () => {
  const listener = await tcpListen()(() => {});
  const { port } = listener.address;
  await listener.close();
  await assert.rejects(tcpConnect({ host: "127.0.0.1", port })(), (error) => {
    assert.ok(error instanceof ConnectError);
    assert.match(error.message, new RegExp(`tcp://127\\.0\\.0\\.1:${port}`));
    assert.match(error.message, /ConnectionRefused|ECONNREFUSED/);
    return true;
  });
});

test("aborting while connecting rejects with the reason", async () => {
  const accepted: Socket[] = [];
  const listener = await tcpListen()((socket) => accepted.push(socket));
  try {
    const controller = new AbortController();
    const pending = tcpConnect({ host: "127.0.0.1", port: listener.address.port })({
      signal: controller.signal,
    });
    const reason = new Error("changed my mind");
    controller.abort(reason);
    await assert.rejects(pending, (error) => error === reason);
  } finally {
    await turns(5);
    await listener.close();
    for (const socket of accepted) socket.close(new Error("cleanup"));
    await Promise.all(accepted.map((socket) => socket.closed));
  }
});

test("reports a busy port as a TransportError", async () => {
  const listener = await tcpListen()(() => {});
  try {
    await assert.rejects(tcpListen({ port: listener.address.port })(() => {}), (error) => {
      assert.ok(error instanceof TransportError);
      assert.match(error.message, /AddrInUse|EADDRINUSE/);
      return true;
    });
    assert.equal(listener.address.url, `tcp://127.0.0.1:${listener.address.port}`);
  } finally {
    await listener.close();
  }
});

test("a graceful close the peer never completes ends with a TimeoutError", async () => {
  const raw = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = raw.accept(); // accepted but never read: our FIN stays queued behind data
  const client = await tcpConnect({ host: "127.0.0.1", port: raw.addr.port, closeTimeoutMs: 50 })();
  const peer = await accepting;
  try {
    client.attach(new SinkRecorder());
    client.write(new Uint8Array(64 * 1024 * 1024));
    client.close();
    const { error } = await client.closed;
    assert.ok(error instanceof TimeoutError, `closed with ${String(error)}`);
    assert.match(error.message, /graceful close/);
  } finally {
    peer.close();
    raw.close();
  }
});

/** A sink that keeps every chunk and, while `target` has room, offers its unfilled tail. */
class ReadBufferSink {
  readonly chunks: Uint8Array[] = [];
  /** Where each chunk was offered to land (`undefined`: no buffer offered). */
  readonly offered: (Uint8Array | undefined)[] = [];
  received = 0;
  #lastOffer: Uint8Array | undefined;
  #waiter: { bytes: number; resolve(): void } | undefined;

  constructor(readonly target: Uint8Array | undefined) {}

  /** `pastEnd` of every `readBuffer` call. */
  readonly pastEnd: (boolean | undefined)[] = [];

  readBuffer(pastEnd?: boolean): Uint8Array | undefined {
    this.pastEnd.push(pastEnd);
    const target = this.target;
    this.#lastOffer = target !== undefined && this.received < target.byteLength
      ? target.subarray(this.received)
      : undefined;
    return this.#lastOffer;
  }

  data(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.offered.push(this.#lastOffer);
    this.#lastOffer = undefined;
    this.received += chunk.byteLength;
    if (this.#waiter !== undefined && this.received >= this.#waiter.bytes) this.#waiter.resolve();
  }

  drain(): void {}
  close(): void {}

  waitForBytes(bytes: number): Promise<void> {
    if (this.received >= bytes) return Promise.resolve();
    return new Promise((resolve) => (this.#waiter = { bytes, resolve }));
  }
}

async function withPair(run: (client: Socket, server: Socket) => Promise<void>): Promise<void> {
  let server!: Socket;
  const listener = await tcpListen()((socket) => (server = socket));
  const client = await tcpConnect({ host: "127.0.0.1", port: listener.address.port })();
  try {
    await turns(2);
    client.attach(new SinkRecorder());
    await run(client, server);
  } finally {
    client.close(new Error("cleanup"));
    await Promise.all([client.closed, server?.closed, listener.close()]);
  }
}

test("reads land in the sink's readBuffer when it offers one", async () => {
  await withPair(async (client, server) => {
    const target = new Uint8Array(4 * 1024 * 1024);
    const sink = new ReadBufferSink(target);
    server.attach(sink);
    client.write(patternChunk(0, target.byteLength));
    await sink.waitForBytes(target.byteLength);
    let at = 0;
    for (const [index, chunk] of sink.chunks.entries()) {
      assert.equal(chunk.buffer, target.buffer, `chunk ${index} was read into other memory`);
      assert.equal(chunk.byteOffset, at, `chunk ${index} landed at the wrong offset`);
      assert.equal(sink.offered[index]?.byteOffset, at);
      at += chunk.byteLength;
    }
    assert.equal(patternMismatch(target, 0), -1, "the bytes read in place are the bytes sent");
    // The whole view is filled as offered: the socket can take bytes past a frame's end.
    assert.ok(sink.pastEnd.length > 0 && sink.pastEnd.every((pastEnd) => pastEnd === true));
  });
});

test("without a readBuffer, chunks never share memory and keep their bytes", async () => {
  await withPair(async (client, server) => {
    const sink = new ReadBufferSink(undefined);
    server.attach(sink);
    const total = 8 * 1024 * 1024;
    for (let offset = 0; offset < total; offset += 4096) client.write(patternChunk(offset, 4096));
    await sink.waitForBytes(total);
    // Every chunk is still intact after everything else was read: no region was reused.
    let offset = 0;
    const regions = new Map<ArrayBufferLike, Array<[number, number]>>();
    for (const chunk of sink.chunks) {
      assert.equal(patternMismatch(chunk, offset), -1, `chunk at ${offset} was overwritten`);
      offset += chunk.byteLength;
      const list = regions.get(chunk.buffer) ?? [];
      for (const [start, end] of list) {
        assert.ok(
          chunk.byteOffset >= end || chunk.byteOffset + chunk.byteLength <= start,
          "two chunks share memory",
        );
      }
      list.push([chunk.byteOffset, chunk.byteOffset + chunk.byteLength]);
      regions.set(chunk.buffer, list);
    }
    assert.ok(
      regions.size < sink.chunks.length || sink.chunks.length <= 2,
      `expected reads to share slabs, got ${regions.size} buffers for ${sink.chunks.length} chunks`,
    );
    for (const buffer of regions.keys()) {
      assert.ok(buffer.byteLength <= 64 * 1024, `a read buffer of ${buffer.byteLength} bytes`);
    }
  });
});
