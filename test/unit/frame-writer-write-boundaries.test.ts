/**
 * Where the frame writer's writes stop when the socket fills: never between a large chunk (a
 * passed-through body) and the small run right behind it (the next frame's header), so the write
 * after a drain starts with the next body rather than with its header (gathered-writes.ts says why:
 * where the kernel's copy of the body lands). The next large chunk still waits for the drain, and
 * order and written-callbacks are unchanged.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { FrameWriter, GATHER_CHUNK_MAX } from "../../src/connection/frame-writer.ts";
import { MessageType } from "../../src/protocol/messages.ts";
import { ForwardingSocket } from "../helpers/forwarding-socket.ts";
import { memorySocketPair } from "../helpers/memory-socket.ts";

/** Records each write; reports itself full after every large chunk until `drain` is called. */
class FillingSocket extends ForwardingSocket {
  readonly writes: Uint8Array[] = [];
  override write(chunk: Uint8Array): boolean {
    this.writes.push(chunk);
    super.write(chunk);
    return chunk.byteLength < GATHER_CHUNK_MAX;
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

test("the header behind a body that fills the socket goes with it; the next body waits", async () => {
  const [a, b] = memorySocketPair();
  b.attach({ data: () => {}, drain: () => {}, close: () => {} });
  const socket = new FillingSocket(a);
  const writer = new FrameWriter(socket, {
    writeHardCap: 64 << 20,
    peer: "memory peer",
    onFatal: (error) => assert.fail(String(error)),
  });
  try {
    const bodies = [0, 1, 2].map((index) => new Uint8Array(GATHER_CHUNK_MAX).fill(index + 1));
    const written: number[] = [];
    bodies.forEach((body, chunkIndex) =>
      writer.writeMessage(
        { type: MessageType.ChunkFetchSuccess, streamId: 7, chunkIndex, body },
        () => written.push(chunkIndex),
      )
    );
    await tick();
    const sizes = () => socket.writes.map((chunk) => chunk.byteLength);
    // header 0, body 0 (fills the socket), header 1 (behind it), then nothing until the drain.
    assert.deepEqual(sizes(), [21, GATHER_CHUNK_MAX, 21]);
    assert.equal(socket.writes[1], bodies[0], "the body itself, not a copy");
    assert.deepEqual(written, [0], "frame 0 was handed to the socket, frame 1 was not");
    assert.ok(!writer.writable);

    writer.drain();
    assert.deepEqual(sizes(), [21, GATHER_CHUNK_MAX, 21, GATHER_CHUNK_MAX, 21]);
    assert.equal(socket.writes[3], bodies[1], "the write after the drain starts with body 1");
    assert.deepEqual(written, [0, 1]);

    writer.drain();
    assert.deepEqual(sizes(), [21, GATHER_CHUNK_MAX, 21, GATHER_CHUNK_MAX, 21, GATHER_CHUNK_MAX]);
    assert.deepEqual(written, [0, 1, 2]);
    // The headers carry the chunk indexes in order (the last 4 bytes of each 21-byte frame head).
    const indexes = socket.writes.filter((chunk) => chunk.byteLength === 21)
      .map((header) => new DataView(header.buffer, header.byteOffset).getInt32(17));
    assert.deepEqual(indexes, [0, 1, 2]);
  } finally {
    writer.abort(new Error("test over"));
    a.close();
    b.close();
  }
});
