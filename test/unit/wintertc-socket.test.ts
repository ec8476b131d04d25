/**
 * The WinterTC adapter's socket semantics, deterministically: two WinterTC-shaped sockets joined
 * by `TransformStream`s (a write completes only once the other side reads it, so a paused reader
 * stalls the writer exactly), or one socket whose far end the test drives by hand.
 * Runs under Node and Deno.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  ConnectionClosedError,
  InvalidArgumentError,
  ProtocolError,
  TimeoutError,
} from "../../src/errors.ts";
import type { Socket } from "../../src/socket.ts";
import { type WinterTcSocketLike, wrapWinterTcSocket } from "../../adapters/wintertc/mod.ts";
import { patternChunk, SinkRecorder, turns } from "../conformance/socket-recorder.ts";

/** A WinterTC-shaped socket over the given streams that counts `close()` calls. */
function shape(readable: ReadableStream<unknown>, writable: WritableStream<Uint8Array>) {
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  const counts = { close: 0 };
  const socket: WinterTcSocketLike = {
    readable,
    writable,
    opened: Promise.resolve({}),
    closed,
    close() {
      counts.close++;
      resolveClosed();
      return closed;
    },
  };
  return { socket, counts };
}

/** Two wrapped sockets joined back to back. */
function memoryPair(highWaterMark = 64 * 1024) {
  const aToB = new TransformStream<Uint8Array, Uint8Array>();
  const bToA = new TransformStream<Uint8Array, Uint8Array>();
  const a = shape(bToA.readable, aToB.writable);
  const b = shape(aToB.readable, bToA.writable);
  return {
    a: wrapWinterTcSocket(a.socket, { remoteAddress: "b", highWaterMark }),
    b: wrapWinterTcSocket(b.socket, { remoteAddress: "a", highWaterMark }),
    counts: { a: a.counts, b: b.counts },
  };
}

/** One wrapped socket; the test reads and writes its far end. */
function rawPeer(options: { closeTimeoutMs?: number } = {}) {
  const toPeer = new TransformStream<Uint8Array, Uint8Array>();
  const fromPeer = new TransformStream<unknown, unknown>();
  const { socket, counts } = shape(fromPeer.readable, toPeer.writable);
  return {
    socket: wrapWinterTcSocket(socket, { remoteAddress: "peer", ...options }),
    counts,
    peerReader: toPeer.readable.getReader(),
    peerWriter: fromPeer.writable.getWriter(),
  };
}

async function closeBoth(...sockets: Socket[]): Promise<void> {
  for (const socket of sockets) socket.close(new Error("test cleanup"));
  await Promise.all(sockets.map((socket) => socket.closed));
}

describe("wintertc socket: reading", () => {
  it("holds bytes until attach, then delivers each chunk in order", async () => {
    const { socket, peerWriter } = rawPeer();
    const sink = new SinkRecorder({ keep: true });
    void peerWriter.write(new Uint8Array([1, 2]));
    void peerWriter.write(new Uint8Array([3]));
    await turns(2);
    socket.attach(sink);
    await sink.waitForBytes(3);
    assert.deepEqual(sink.chunks, [new Uint8Array([1, 2]), new Uint8Array([3])]);
    assert.throws(() => socket.attach(new SinkRecorder()), InvalidArgumentError);
    await closeBoth(socket);
    assert.deepEqual(sink.violations, []);
  });

  it("pause holds even a chunk whose read was already in flight; resume delivers it", async () => {
    const { socket, peerWriter } = rawPeer();
    const sink = new SinkRecorder({ keep: true });
    socket.attach(sink);
    await turns(1); // the read loop now waits in read()
    socket.pause();
    void peerWriter.write(new Uint8Array([7]));
    await turns(3);
    assert.equal(sink.dataEvents, 0, "a chunk was delivered while paused");
    socket.resume();
    await sink.waitForBytes(1);
    assert.deepEqual(sink.chunks, [new Uint8Array([7])]);
    await closeBoth(socket);
  });

  it("hands over large chunks as they are and copies small views out of large buffers", async () => {
    const { socket, peerWriter } = rawPeer();
    const sink = new SinkRecorder({ keep: true });
    socket.attach(sink);
    const whole = new Uint8Array(1024).fill(5);
    const small = new Uint8Array(64 * 1024).fill(9).subarray(0, 10);
    void peerWriter.write(whole);
    void peerWriter.write(small);
    void peerWriter.write(new Uint16Array([0x0102]));
    await sink.waitForBytes(1024 + 10 + 2);
    assert.equal(sink.chunks[0], whole, "a whole chunk was copied");
    assert.deepEqual(sink.chunks[1], new Uint8Array(10).fill(9));
    assert.equal(sink.chunks[1]!.buffer.byteLength, 10, "a small view kept its large buffer");
    assert.equal(sink.chunks[2]!.byteLength, 2);
    await closeBoth(socket);
  });

  it("a readable that yields something other than bytes closes with a ProtocolError", async () => {
    const { socket, peerWriter, counts } = rawPeer();
    const sink = new SinkRecorder();
    socket.attach(sink);
    void peerWriter.write("not bytes").catch(() => {});
    const { error } = await socket.closed;
    assert.ok(error instanceof ProtocolError, String(error));
    assert.match(error.message, /yielded a string of 9 characters, expected bytes/);
    assert.equal(sink.closeError, error);
    assert.equal(counts.close, 1);
  });

  it("a sink that throws closes the socket with what it threw", async () => {
    const { a, b } = memoryPair();
    const thrown = new Error("sink exploded");
    b.attach(
      new SinkRecorder({
        onData: () => {
          throw thrown;
        },
      }),
    );
    a.attach(new SinkRecorder());
    a.write(new Uint8Array([1]));
    assert.equal((await b.closed).error, thrown);
    const { error } = await a.closed;
    assert.ok(error instanceof ConnectionClosedError, `peer saw ${String(error)}`);
  });
});

describe("wintertc socket: writing", () => {
  it("counts buffered bytes, refuses above the mark while the reader is paused, drains on resume", async () => {
    const { a, b } = memoryPair(100);
    const aSink = new SinkRecorder();
    const bSink = new SinkRecorder({ checkPattern: true });
    b.pause();
    a.attach(aSink);
    b.attach(bSink);
    assert.equal(a.write(patternChunk(0, 60)), true);
    assert.equal(a.write(patternChunk(60, 40)), true);
    assert.equal(a.bufferedAmount, 100);
    assert.equal(a.write(patternChunk(100, 30)), false, "above the high-water mark");
    assert.equal(a.write(patternChunk(130, 20)), false, "writing on while refused");
    await turns(5);
    assert.equal(a.bufferedAmount, 150, "a paused reader took bytes");
    assert.equal(aSink.drains, 0);
    assert.equal(bSink.dataEvents, 0);
    const drained = aSink.nextDrain();
    b.resume();
    await drained;
    await bSink.waitForBytes(150);
    await turns(1); // the stream write settles after the reader took the chunk
    assert.equal(a.bufferedAmount, 0);
    assert.equal(aSink.drains, 1, "one drain per refusal streak");
    assert.equal(bSink.firstMismatch, -1);
    assert.throws(() => a.write("x" as unknown as Uint8Array), InvalidArgumentError);
    await closeBoth(a, b);
    assert.deepEqual([...aSink.violations, ...bSink.violations], []);
  });

  it("coalesces small queued writes into one stream write, in order", async () => {
    const { socket, peerReader } = rawPeer();
    socket.attach(new SinkRecorder());
    for (let i = 0; i < 100; i++) socket.write(new Uint8Array([i]));
    const first = await peerReader.read();
    const second = await peerReader.read();
    assert.deepEqual(first.value, new Uint8Array([0]), "the first write goes out alone");
    assert.deepEqual(second.value, Uint8Array.from({ length: 99 }, (_, i) => i + 1));
    await closeBoth(socket);
  });
});

describe("wintertc socket: closing", () => {
  it("close() flushes, ends our side, and completes when the peer ends its side", async () => {
    const { a, b, counts } = memoryPair(1024);
    const aSink = new SinkRecorder();
    const bSink = new SinkRecorder({ checkPattern: true });
    a.attach(aSink);
    b.attach(bSink);
    for (let offset = 0; offset < 8192; offset += 512) a.write(patternChunk(offset, 512));
    a.close();
    assert.equal(a.write(new Uint8Array([1])), false, "write after close()");
    assert.deepEqual(await b.closed, { error: undefined });
    assert.equal(bSink.received, 8192, "bytes queued before close() were lost");
    assert.equal(bSink.firstMismatch, -1);
    assert.deepEqual(await a.closed, { error: undefined });
    assert.equal(aSink.closeError, undefined);
    assert.deepEqual(counts, { a: { close: 1 }, b: { close: 1 } });
    a.close(new Error("too late"));
    b.close();
    assert.deepEqual(await a.closed, { error: undefined }, "closed settles once");
    assert.deepEqual([...aSink.violations, ...bSink.violations], []);
  });

  it("close(error) discards queued writes, aborts the writer and the peer sees an error", async () => {
    const { a, b, counts } = memoryPair(16);
    const aSink = new SinkRecorder();
    const bSink = new SinkRecorder();
    b.pause();
    a.attach(aSink);
    b.attach(bSink);
    a.write(new Uint8Array(64));
    a.write(new Uint8Array(64));
    const reason = new Error("abandon ship");
    a.close(reason);
    assert.equal(a.bufferedAmount, 0);
    assert.equal(a.write(new Uint8Array([1])), false);
    assert.equal((await a.closed).error, reason);
    assert.equal(aSink.closeError, reason);
    assert.equal(aSink.drains, 0, "drain after close(error)");
    b.resume();
    const { error } = await b.closed;
    assert.ok(error instanceof ConnectionClosedError, `peer saw ${String(error)}`);
    assert.equal(error.cause, reason);
    assert.equal(bSink.received, 0, "discarded bytes reached the peer");
    assert.deepEqual(counts, { a: { close: 1 }, b: { close: 1 } });
  });

  it("close(error) during a graceful close aborts it", async () => {
    const { socket, peerReader } = rawPeer();
    const sink = new SinkRecorder();
    socket.attach(sink);
    socket.write(new Uint8Array(10));
    socket.close();
    const reason = new Error("give up");
    socket.close(reason);
    assert.equal((await socket.closed).error, reason);
    assert.equal(sink.closeError, reason);
    await assert.rejects(peerReader.read(), (error) => error === reason);
  });

  it("a peer that never ends is cut off after closeTimeoutMs with a TimeoutError", async () => {
    const { socket, peerReader } = rawPeer({ closeTimeoutMs: 20 });
    socket.attach(new SinkRecorder());
    // The close timer is unref'd (a real socket keeps the process alive); this test has none.
    const keepAlive = setTimeout(() => {}, 60_000);
    socket.close();
    assert.deepEqual(await peerReader.read(), { value: undefined, done: true }, "our end");
    const { error } = await socket.closed;
    clearTimeout(keepAlive);
    assert.ok(error instanceof TimeoutError, String(error));
    assert.equal(error.timeoutMs, 20);
  });

  it("the peer ending first closes the socket gracefully after delivering its bytes", async () => {
    const { socket, peerWriter, peerReader, counts } = rawPeer();
    const sink = new SinkRecorder({ keep: true });
    socket.attach(sink);
    void peerWriter.write(new Uint8Array([1, 2, 3]));
    void peerWriter.close();
    assert.deepEqual(await socket.closed, { error: undefined });
    assert.deepEqual(sink.bytes(), new Uint8Array([1, 2, 3]));
    assert.equal(sink.closeCalled, true);
    assert.deepEqual(await peerReader.read(), { value: undefined, done: true }, "our end");
    assert.equal(counts.close, 1);
    assert.equal(socket.write(new Uint8Array([1])), false);
  });

  it("attach after the socket ended still tells the sink", async () => {
    const { socket } = rawPeer();
    const reason = new Error("early");
    socket.close(reason);
    await socket.closed;
    const sink = new SinkRecorder();
    socket.attach(sink);
    assert.equal(await sink.closedBySink, reason);
  });

  it("rejects what is not a WinterTC socket and bad options", () => {
    const stream = new TransformStream<Uint8Array, Uint8Array>();
    assert.throws(
      () => wrapWinterTcSocket({} as WinterTcSocketLike),
      (error) => error instanceof InvalidArgumentError && /readable, writable/.test(error.message),
    );
    assert.throws(
      () =>
        wrapWinterTcSocket(shape(stream.readable, stream.writable).socket, { highWaterMark: -1 }),
      (error) => error instanceof InvalidArgumentError && /received -1/.test(error.message),
    );
  });
});
