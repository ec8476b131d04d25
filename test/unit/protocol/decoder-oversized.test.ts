/**
 * The decoder's paths for frames above the plain limit (src/protocol/oversized-frame.ts): a reply
 * within `maxReplyFrameLength` is received, any other frame over its limit has its body skipped
 * (read and discarded, never buffered) and is reported once its last byte has passed, after which
 * decoding goes on in sync. Every split of the bytes gives the same outcome. Also the `memory`
 * option: frames assembled across chunks are charged before their buffer exists, wait for room
 * (`"awaiting-room"`) and are released once complete or disposed.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ProtocolError } from "../../../src/errors.ts";
import { FrameDecoder, type FrameMemory } from "../../../src/protocol/decoder.ts";
import { encodeMessage } from "../../../src/protocol/encoder.ts";
import { type Message, MessageType } from "../../../src/protocol/messages.ts";
import type { OversizedFrame } from "../../../src/protocol/oversized-frame.ts";
import { concatBytes, FrameRecorder } from "../../helpers/frame-recorder.ts";
import { FUZZ_SEED } from "./message-arbitraries.ts";

const MAX_FRAME = 256;
const MAX_REPLY = 1024;

function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 7 + seed) & 0xff;
  return out;
}

function wire(message: Message): Uint8Array {
  return concatBytes(encodeMessage(message));
}

/** Records messages and skipped frames in one ordered log, and every allocation's size. */
class OversizedRecorder extends FrameRecorder {
  readonly log: Array<Message | OversizedFrame & { skipped: true }> = [];
  readonly allocations: number[] = [];
  readonly allocate = (size: number) => {
    this.allocations.push(size);
    return new Uint8Array(size);
  };
  override message(message: Message): void {
    super.message(message);
    this.log.push(message);
  }
  oversized(frame: OversizedFrame): void {
    if (this.inStream) throw new Error("oversized frame reported inside a stream body");
    this.log.push({ ...frame, skipped: true });
  }
}

const small: Message = { type: MessageType.RpcRequest, requestId: 1, body: bytes(40, 1) };
const bigReply: Message = { type: MessageType.RpcResponse, requestId: 2, body: bytes(600, 2) };
const hugeReply: Message = { type: MessageType.RpcResponse, requestId: 3, body: bytes(2000, 3) };
const hugeChunk: Message = {
  type: MessageType.ChunkFetchSuccess,
  streamId: 2n ** 60n,
  chunkIndex: -4,
  body: bytes(1500, 4),
};
const bigRequest: Message = { type: MessageType.RpcRequest, requestId: 5, body: bytes(300, 5) };
const bigOneWay: Message = { type: MessageType.OneWayMessage, body: bytes(700, 6) };
const bigMeta: Message = {
  type: MessageType.MergedBlockMetaSuccess,
  requestId: 7,
  numChunks: 3,
  body: bytes(400, 7),
};
const bigUpload: Message = {
  type: MessageType.UploadStream,
  requestId: 9,
  meta: bytes(400, 9),
  bodyByteCount: 300,
};
const bigUploadBody = bytes(300, 10);
const stream: Message = { type: MessageType.StreamResponse, streamId: "s", byteCount: 500 };
const streamBody = bytes(500, 8);

/** The stream in order, and what the decoder must report for it. */
const input = concatBytes([
  wire(small),
  wire(hugeReply),
  wire(bigReply),
  wire(hugeChunk),
  wire(stream),
  streamBody,
  wire(bigRequest),
  wire(bigOneWay),
  wire(bigMeta),
  wire(bigUpload),
  bigUploadBody,
  wire(small),
]);
const skip = (frame: Record<string, unknown>, message: Message) => ({
  ...frame,
  frameLength: wire(message).length,
  skipped: true,
});
const expected = [
  small,
  skip({ type: MessageType.RpcResponse, requestId: 3, ...reply() }, hugeReply),
  bigReply,
  skip(
    { type: MessageType.ChunkFetchSuccess, streamId: 2n ** 60n, chunkIndex: -4, ...reply() },
    hugeChunk,
  ),
  stream,
  skip({ type: MessageType.RpcRequest, requestId: 5, ...request() }, bigRequest),
  skip({ type: MessageType.OneWayMessage, ...request() }, bigOneWay),
  skip({ type: MessageType.MergedBlockMetaSuccess, requestId: 7, ...request() }, bigMeta),
  // Its meta, then its raw body, skipped: the next frame decodes in sync.
  skip(
    { type: MessageType.UploadStream, requestId: 9, bodyByteCount: 300, ...request() },
    bigUpload,
  ),
  small,
];
function reply() {
  return { limit: MAX_REPLY, limitName: "maxReplyFrameLength" as const };
}
function request() {
  return { limit: MAX_FRAME, limitName: "maxFrameLength" as const };
}

function streamOf(recorder: FrameRecorder): Uint8Array | undefined {
  return recorder.frames.find((frame) => frame.message.type === MessageType.StreamResponse)
    ?.stream;
}

function decodeSplit(cuts: readonly number[]): OversizedRecorder {
  const recorder = new OversizedRecorder();
  const decoder = new FrameDecoder(recorder, {
    maxFrameLength: MAX_FRAME,
    maxReplyFrameLength: MAX_REPLY,
    allocate: recorder.allocate,
  });
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    if (cut > from) decoder.push(input.subarray(from, cut));
    from = Math.max(from, cut);
  }
  if (from < input.length) decoder.push(input.subarray(from));
  assert.equal(decoder.state, "frame-length");
  return recorder;
}

describe("FrameDecoder oversized frames", () => {
  it("receives replies within maxReplyFrameLength and skips the rest, whole", () => {
    const recorder = decodeSplit([]);
    assert.deepEqual(recorder.log, expected);
    // The stream's body went through as raw bytes, untouched by the skips around it.
    assert.deepEqual(streamOf(recorder), streamBody);
  });

  it("gives the same outcome for every split of the bytes, and never buffers a skipped body", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: input.length }), { maxLength: 40 }),
        (cuts) => {
          const recorder = decodeSplit(cuts);
          assert.deepEqual(recorder.log, expected);
          assert.deepEqual(streamOf(recorder), streamBody);
          // Only frames within their limits were ever assembled in a buffer of their own.
          for (const size of recorder.allocations) assert.ok(size <= MAX_REPLY, String(size));
        },
      ),
      { seed: FUZZ_SEED, numRuns: 400 },
    );
  });

  it("every single-byte split point, with a byte-at-a-time prefix", () => {
    for (let cut = 1; cut < input.length; cut += 37) decodeSplit([cut, cut + 1, cut + 2]);
  });

  it("reads a skipped body into one reused buffer, never past the frame's end", () => {
    const recorder = new OversizedRecorder();
    const decoder = new FrameDecoder(recorder, { maxFrameLength: MAX_FRAME });
    const frame = wire({ type: MessageType.OneWayMessage, body: bytes(100_000, 9) });
    decoder.push(frame.subarray(0, 13));
    assert.equal(decoder.state, "skip");
    let offset = 13;
    let scratch: ArrayBufferLike | undefined;
    while (offset < frame.length) {
      const view = decoder.readBuffer();
      if (view === undefined) {
        decoder.push(frame.subarray(offset));
        offset = frame.length;
        break;
      }
      assert.ok(view.length <= frame.length - offset, "never more than the frame's rest");
      scratch ??= view.buffer;
      assert.equal(view.buffer, scratch, "the same memory every time");
      view.set(frame.subarray(offset, offset + view.length));
      decoder.push(view);
      offset += view.length;
    }
    assert.equal(decoder.state, "frame-length");
    assert.equal(recorder.log.length, 1);
    decoder.push(wire(small));
    assert.deepEqual(recorder.log.at(-1), small);
  });

  it("an oversized frame of a type that cannot be skipped breaks the protocol", () => {
    const recorder = new OversizedRecorder();
    const decoder = new FrameDecoder(recorder, { maxFrameLength: MAX_FRAME });
    const request = wire({ type: MessageType.StreamRequest, streamId: "x".repeat(400) });
    assert.throws(
      () => decoder.push(request),
      (error: unknown) =>
        error instanceof ProtocolError && /exceeds the maximum of 256 bytes/.test(error.message),
    );
  });

  it("a skipped UploadStream announcing a negative or huge body breaks the protocol", () => {
    for (const count of [-1n, 2n ** 60n]) {
      const decoder = new FrameDecoder(new OversizedRecorder(), { maxFrameLength: MAX_FRAME });
      const frame = wire({ ...bigUpload, bodyByteCount: 0 });
      new DataView(frame.buffer, frame.byteOffset).setBigInt64(frame.length - 8, count);
      assert.throws(
        () => decoder.push(frame),
        (error: unknown) =>
          error instanceof ProtocolError && /UploadStream announces a body of/.test(error.message),
      );
    }
  });

  it("lengths beyond Spark's 2 GiB − 1 ceiling fail at once, even with oversized", () => {
    const decoder = new FrameDecoder(new OversizedRecorder(), { maxFrameLength: MAX_FRAME });
    const length = new Uint8Array(8);
    new DataView(length.buffer).setBigInt64(0, 2n ** 31n);
    assert.throws(() => decoder.push(length), /2147483648 exceeds the maximum of 2147483647/);
  });

  it("without an oversized handler a frame over its limit still fails the decoder", () => {
    const recorder = new FrameRecorder();
    const decoder = new FrameDecoder(recorder, {
      maxFrameLength: MAX_FRAME,
      maxReplyFrameLength: MAX_REPLY,
    });
    decoder.push(wire(bigReply)); // replies within maxReplyFrameLength are still received
    assert.equal(recorder.frames.length, 1);
    assert.throws(() => decoder.push(wire(bigRequest)), /exceeds the maximum of 256 bytes/);
  });
});

/** A FrameMemory with `limit` bytes whose grants the test hands out. */
class TestMemory implements FrameMemory {
  reserved = 0;
  refused: number[] = [];
  constructor(readonly limit: number, public room: number) {}
  reserve(size: number): boolean {
    if (size > this.room - this.reserved) {
      this.refused.push(size);
      return false;
    }
    this.reserved += size;
    return true;
  }
  release(size: number): void {
    this.reserved -= size;
    assert.ok(this.reserved >= 0, "released more than reserved");
  }
}

describe("FrameDecoder memory option", () => {
  const frame = wire(bigReply); // 600-byte body: spans chunks below

  it("charges a frame spanning chunks before allocating it and releases it when complete", () => {
    const memory = new TestMemory(4096, 4096);
    const recorder = new OversizedRecorder();
    const decoder = new FrameDecoder(recorder, {
      maxFrameLength: 1024,
      memory,
      allocate: (size) => {
        assert.equal(memory.reserved, size, "charged before the buffer exists");
        return recorder.allocate(size);
      },
    });
    decoder.push(frame.subarray(0, 100));
    assert.equal(memory.reserved, frame.length - 8);
    decoder.push(frame.subarray(100));
    assert.equal(memory.reserved, 0);
    assert.deepEqual(recorder.log, [bigReply]);
  });

  it("waits without room, holding what arrives, and resumes on roomGranted", () => {
    const memory = new TestMemory(4096, 100);
    const recorder = new OversizedRecorder();
    const decoder = new FrameDecoder(recorder, { maxFrameLength: 1024, memory });
    const all = concatBytes([frame, wire(small)]);
    decoder.push(all.subarray(0, 50));
    assert.equal(decoder.state, "awaiting-room");
    assert.equal(decoder.midFrame, true);
    assert.deepEqual(memory.refused, [frame.length - 8]);
    decoder.push(all.subarray(50, 400));
    decoder.push(all.subarray(400));
    assert.equal(recorder.log.length, 0, "nothing decoded while waiting");
    memory.reserved += frame.length - 8; // the host charges on the decoder's behalf
    decoder.roomGranted();
    assert.deepEqual(recorder.log, [bigReply, small]);
    assert.equal(memory.reserved, 0);
    assert.equal(decoder.midFrame, false);
  });

  it("dispose releases a partial frame's charge", () => {
    const memory = new TestMemory(4096, 4096);
    const decoder = new FrameDecoder(new OversizedRecorder(), { maxFrameLength: 1024, memory });
    decoder.push(frame.subarray(0, 300));
    assert.equal(memory.reserved, frame.length - 8);
    decoder.dispose();
    assert.equal(memory.reserved, 0);
    assert.equal(decoder.state, "failed");
  });

  it("a frame larger than the memory limit is skipped as over maxInboundFrameBytes", () => {
    const memory = new TestMemory(200, 200);
    const recorder = new OversizedRecorder();
    const decoder = new FrameDecoder(recorder, { maxFrameLength: 1024, memory });
    decoder.push(frame);
    decoder.push(wire(small));
    assert.deepEqual(recorder.log, [
      skip({
        type: MessageType.RpcResponse,
        requestId: 2,
        limit: 200,
        limitName: "maxInboundFrameBytes",
      }, bigReply),
      small,
    ]);
    assert.equal(memory.reserved, 0);
  });
});
