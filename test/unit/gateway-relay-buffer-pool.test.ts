/**
 * `RelayBufferPool` and the gateway's browser writer giving lent chunk bodies back: a buffer is
 * reused only after it was given back whole, at most once per lending, within `maxFree`; the
 * writer gives a lent ChunkFetchSuccess body back only once its socket has flushed it (not while
 * the browser is not reading), and never a body of a session that ended. Bodies the backend client
 * lent (`onFlushed`) are released once flushed, at once when copied into the frame, and after the
 * socket closed when the session ended.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BrowserWriter } from "../../src/gateway/browser-writer.ts";
import { giveBackRelayed, RelayBufferPool } from "../../src/gateway/relay-buffer-pool.ts";
import { type Message, MessageType } from "../../src/protocol/messages.ts";
import type { SocketSink } from "../../src/socket.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";
import { FakeClock } from "../helpers/fake-clock.ts";

test("a buffer is reused only after it is given back whole, once", () => {
  const pool = new RelayBufferPool(16, 1);
  const first = pool.take(10);
  assert.equal(first.byteLength, 10);
  giveBackRelayed(first.subarray(0, 5)); // a part: ignored
  giveBackRelayed(first.subarray(1)); // not from its start: ignored
  giveBackRelayed(new Uint8Array(10)); // not lent: ignored
  assert.equal(pool.free, 0);
  giveBackRelayed(first);
  assert.equal(pool.free, 1);
  giveBackRelayed(first); // twice: ignored
  assert.equal(pool.free, 1);
  const second = pool.take(16);
  assert.equal(second.buffer, first.buffer, "the given-back memory is reused");
  assert.equal(pool.free, 0);
  const third = pool.take(16);
  assert.notEqual(third.buffer, first.buffer, "a lent buffer is never lent twice");
  giveBackRelayed(second);
  giveBackRelayed(third);
  assert.equal(pool.free, 1, "maxFree bounds what is kept");
  const big = pool.take(17);
  assert.equal(big.byteLength, 17);
  giveBackRelayed(big);
  assert.equal(pool.free, 1, "bodies above the pool's size are never pooled");
  assert.throws(() => new RelayBufferPool(0, 1), RangeError);
  assert.throws(
    () => new RelayBufferPool(8, 1, (n) => new Uint8Array(n * 2).subarray(0, n)).take(8),
    RangeError,
  );
});

function writerOn(highWaterMark: number) {
  const [near, far] = memorySocketPair({ highWaterMark });
  const received: Uint8Array[] = [];
  const farSink: SocketSink = {
    data: (chunk) => void received.push(chunk),
    drain() {},
    close() {},
  };
  far.attach(farSink);
  const writer = new BrowserWriter(near, {
    highWaterMark,
    maxBufferedBytes: 64 * 1024 * 1024,
    slowConsumerTimeoutMs: 0,
    clock: new FakeClock(),
    onWritten() {},
    onChange() {},
    onFailure(error) {
      throw error;
    },
  });
  near.attach({ data() {}, drain: () => writer.drain(), close() {} });
  return { writer, far, near, received };
}

/** Above `INLINE_BODY_MAX`: the encoder passes the body through, not copied into the frame. */
const SIZE = 64 * 1024;

const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

test("the browser writer gives a lent chunk body back once its socket flushed it", async () => {
  const pool = new RelayBufferPool(SIZE, 4);
  const { writer, far, received } = writerOn(1024);
  far.pause(); // the browser is not reading: the body stays in the socket
  const body = pool.take(SIZE);
  body.fill(7);
  writer.send({ type: MessageType.ChunkFetchSuccess, streamId: 3n, chunkIndex: 0, body });
  await turn();
  assert.equal(pool.free, 0, "not given back while the socket still holds it");
  far.resume();
  await turn();
  await turn();
  assert.equal(pool.free, 1, "given back once flushed");
  assert.ok(received.some((chunk) => chunk.byteLength === SIZE && chunk[0] === 7));
  writer.dispose();
});

test("a lent body of a session that ended is left to the garbage collector", async () => {
  const pool = new RelayBufferPool(SIZE, 4);
  const { writer, far } = writerOn(1024);
  far.pause();
  writer.send({
    type: MessageType.ChunkFetchSuccess,
    streamId: 3n,
    chunkIndex: 0,
    body: pool.take(SIZE),
  });
  writer.dispose();
  far.resume();
  await turn();
  await turn();
  assert.equal(pool.free, 0);
});

test("a body sent with onFlushed is released once flushed, a small one at once", async () => {
  const { writer, far } = writerOn(1024);
  far.pause();
  let released = 0;
  const message = (size: number): Message => ({
    type: MessageType.ChunkFetchSuccess,
    streamId: 3n,
    chunkIndex: 0,
    body: new Uint8Array(size),
  });
  writer.send(message(100), () => released++);
  assert.equal(released, 1, "a small body is copied into its frame: released at once");
  writer.send(message(SIZE), () => released++);
  writer.send(message(SIZE), () => released++);
  await turn();
  assert.equal(released, 1, "not released while the socket holds the bodies");
  far.resume();
  await turn();
  await turn();
  assert.equal(released, 3);
  writer.dispose();
});

test("bodies of a session that ended are released once its socket has closed", async () => {
  const { writer, far, near } = writerOn(1024);
  far.pause();
  let released = 0;
  const body = () => new Uint8Array(SIZE);
  writer.send(
    { type: MessageType.ChunkFetchSuccess, streamId: 3n, chunkIndex: 0, body: body() },
    () => released++,
  );
  writer.send(
    { type: MessageType.ChunkFetchSuccess, streamId: 3n, chunkIndex: 1, body: body() },
    () => released++,
  );
  writer.dispose();
  await turn();
  assert.equal(released, 0, "the socket may still be sending them");
  near.close(new Error("session ended"));
  await near.closed;
  await turn();
  assert.equal(released, 2);
  writer.send(
    { type: MessageType.ChunkFetchSuccess, streamId: 3n, chunkIndex: 2, body: body() },
    () => released++,
  );
  assert.equal(released, 3, "after dispose: released at once");
});
