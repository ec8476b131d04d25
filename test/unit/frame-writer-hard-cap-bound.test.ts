/**
 * The frame writer's hard-cap check bounds the socket's buffered bytes by what it read after its
 * last flush (the socket's buffer only shrinks until this writer, its only writer, adds to it), so
 * queuing a frame does not ask the socket each time. The bound must never let a slow consumer
 * through: a socket that keeps every byte (a peer that stops reading) still trips the cap on the
 * first frame that takes the total above it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { LimitError } from "../../src/errors.ts";
import { FrameWriter } from "../../src/connection/frame-writer.ts";
import { MessageType } from "../../src/protocol/messages.ts";
import type { Socket } from "../../src/socket.ts";
import { ForwardingSocket } from "../helpers/forwarding-socket.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";

/** A socket whose peer never reads: every byte written stays buffered. Counts reads of it. */
class StuckSocket extends ForwardingSocket {
  buffered = 0;
  reads = 0;
  constructor(inner: Socket) {
    super(inner);
  }
  override get bufferedAmount(): number {
    this.reads++;
    return this.buffered;
  }
  override write(chunk: Uint8Array): boolean {
    this.buffered += chunk.byteLength;
    return true; // below any high-water mark it might have: only the hard cap can stop this
  }
}

function stuckWriter(writeHardCap: number) {
  const [a, b] = memorySocketPair();
  const socket = new StuckSocket(a);
  const fatal: unknown[] = [];
  const writer = new FrameWriter(socket, {
    writeHardCap,
    peer: "stuck peer",
    onFatal: (error) => fatal.push(error),
  });
  const done = () => {
    writer.abort(new Error("test over"));
    a.close();
    b.close();
  };
  return { socket, writer, fatal, done };
}

const flushed = () => new Promise((resolve) => setTimeout(resolve, 0));

test("bytes already in the socket count: the frame that crosses the cap is fatal at once", async () => {
  const { socket, writer, fatal, done } = stuckWriter(1024);
  writer.write([new Uint8Array(600)]);
  await flushed();
  assert.equal(socket.buffered, 600, "the first frame reached the socket");
  assert.equal(fatal.length, 0);
  writer.write([new Uint8Array(600)]); // 600 in the socket + 600 held > 1024
  assert.equal(fatal.length, 1, "fatal while queuing, before any flush");
  assert.ok(fatal[0] instanceof LimitError);
  assert.match((fatal[0] as Error).message, /above the write hard cap/);
  done();
});

test("RPC frames of one turn are checked without asking the socket for each", async () => {
  const { socket, writer, fatal, done } = stuckWriter(1024 * 1024);
  writer.write([new Uint8Array(16)]);
  await flushed(); // the writer has read the socket's buffer once, after its flush
  const readsBefore = socket.reads;
  const body = new Uint8Array(64);
  for (let id = 0; id < 200; id++) writer.writeRpc(MessageType.RpcRequest, id, body);
  assert.equal(socket.reads, readsBefore, "no read of bufferedAmount while queuing");
  await flushed();
  assert.ok(socket.reads - readsBefore <= 1, `one read after the flush, got ${socket.reads}`);
  assert.equal(socket.buffered, 16 + 200 * (21 + 64));
  assert.equal(fatal.length, 0);
  done();
});

test("frames queued under the bound still trip the cap once the socket's bytes are counted", async () => {
  const cap = 64 * 1024;
  const { socket, writer, fatal, done } = stuckWriter(cap);
  const body = new Uint8Array(1000);
  const frameBytes = 21 + body.byteLength;
  // Each turn's 8 frames reach the socket and stay there, until one frame would cross the cap.
  let crossedAt: { turn: number; frame: number; buffered: number } | undefined;
  for (let turn = 0; turn < 100 && crossedAt === undefined; turn++) {
    for (let frame = 0; frame < 8 && crossedAt === undefined; frame++) {
      writer.writeRpc(MessageType.RpcRequest, turn * 8 + frame, body);
      if (fatal.length > 0) crossedAt = { turn, frame, buffered: socket.buffered };
    }
    await flushed();
  }
  assert.ok(fatal[0] instanceof LimitError);
  // The first frame past the cap, counting the socket's bytes: turn 8, frame 0 (8 × 8 frames in).
  const expectedFrames = Math.floor(cap / frameBytes) + 1;
  assert.deepEqual(crossedAt, {
    turn: Math.floor((expectedFrames - 1) / 8),
    frame: (expectedFrames - 1) % 8,
    buffered: Math.floor((expectedFrames - 1) / 8) * 8 * frameBytes,
  });
  done();
});
