/**
 * `readBuffer(true)`: a socket that reads into the frame's tail may read past the frame's end into
 * the spare room its allocator left (`FrameAllocator.spareAfter`, `FrameBufferPool`), so one read
 * finishes a frame and brings the next one's head. The bytes after the frame are copied out (and
 * zeroed) before the frame is delivered, so nothing delivered later is a view into a buffer that
 * goes back to the pool with the frame.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { FrameBufferPool } from "../../../src/connection/frame-buffer-pool.ts";
import { FrameDecoder } from "../../../src/protocol/decoder.ts";
import { encodeMessage } from "../../../src/protocol/encoder.ts";
import { type Message, MessageType } from "../../../src/protocol/messages.ts";
import { concatBytes, FrameRecorder } from "../../helpers/frame-recorder.ts";
import { FUZZ_SEED } from "./message-arbitraries.ts";

const KiB = 1024;
const SPARE = 256;

function body(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

function chunk(index: number, length: number): Message {
  return {
    type: MessageType.ChunkFetchSuccess,
    streamId: 7,
    chunkIndex: index,
    body: body(length, index),
  };
}

/**
 * Records each message as delivered (a copy) and gives every body in a frame buffer back at once
 * (as a lent body is), after scribbling over that buffer; other bodies (views of the read memory)
 * are kept, to check later that they still hold their bytes.
 */
class LendingRecorder extends FrameRecorder {
  readonly pool = new FrameBufferPool({ spareBytes: SPARE });
  readonly copies: Message[] = [];
  readonly kept: Array<{ body: Uint8Array; copy: Uint8Array }> = [];
  readonly #frameBuffers = new WeakSet<ArrayBufferLike>();
  readonly allocator = {
    allocate: (size: number) => {
      const frame = this.pool.allocate(size);
      this.#frameBuffers.add(frame.buffer);
      return frame;
    },
    spareAfter: (frame: Uint8Array) => this.pool.spareAfter(frame),
  };

  override message(message: Message): void {
    super.message(message);
    this.copies.push("body" in message ? { ...message, body: message.body.slice() } : message);
    if (!("body" in message)) return;
    if (this.#frameBuffers.has(message.body.buffer)) {
      this.pool.release(message.body);
      new Uint8Array(message.body.buffer).fill(0xee); // the next lending overwrites it anyway
    } else {
      this.kept.push({ body: message.body, copy: message.body.slice() });
    }
  }
}

function decoderFor(recorder: LendingRecorder): FrameDecoder {
  return new FrameDecoder(recorder, { allocator: recorder.allocator });
}

/**
 * Feeds `wire` as a socket would: each read goes into `readBuffer(pastEnd)` when offered, else into
 * fresh memory, and brings at most the next of `reads` bytes (the last one repeats).
 */
function feed(decoder: FrameDecoder, wire: Uint8Array, reads: readonly number[], pastEnd = true) {
  let directReads = 0;
  for (let at = 0, i = 0; at < wire.length; i++) {
    const direct = decoder.readBuffer(pastEnd);
    const target = direct ?? new Uint8Array(64 * KiB);
    if (direct !== undefined) directReads++;
    const n = Math.min(reads[Math.min(i, reads.length - 1)]!, target.length, wire.length - at);
    target.set(wire.subarray(at, at + n));
    decoder.push(target.subarray(0, n));
    at += n;
  }
  return directReads;
}

describe("FrameDecoder readBuffer past the frame's end", () => {
  it("offers the tail plus the spare room only when asked and when the allocator has some", () => {
    const recorder = new LendingRecorder();
    const decoder = decoderFor(recorder);
    const wire = concatBytes(encodeMessage(chunk(0, 100 * KiB)));
    decoder.push(wire.subarray(0, 21 + 1000));
    const exact = decoder.readBuffer();
    const past = decoder.readBuffer(true);
    assert.equal(exact!.length, 100 * KiB - 1000);
    assert.equal(past!.length, 100 * KiB - 1000 + SPARE);
    assert.equal(past!.buffer, exact!.buffer);
    assert.equal(past!.byteOffset, exact!.byteOffset);

    // A short tail (under 16 KiB) is read in place too when there is room after it.
    const tail = 100 * KiB - 1000 - 1000;
    past!.set(wire.subarray(21 + 1000, 21 + 1000 + tail));
    decoder.push(past!.subarray(0, tail));
    assert.equal(decoder.readBuffer(), undefined, "without pastEnd: a slab read");
    assert.equal(decoder.readBuffer(true)!.length, 1000 + SPARE);

    const plain = new FrameDecoder(new FrameRecorder());
    plain.push(wire.subarray(0, 21 + 1000));
    assert.equal(plain.readBuffer(true)!.length, 100 * KiB - 1000, "allocator without spareAfter");
  });

  it("one read finishes a frame and starts the next, whose body then lands in place", () => {
    const recorder = new LendingRecorder();
    const decoder = decoderFor(recorder);
    const messages = [chunk(0, 100 * KiB), chunk(1, 100 * KiB), chunk(2, 100 * KiB)];
    const wire = concatBytes(messages.flatMap((message) => encodeMessage(message)));
    // The first read brings the head and 1000 body bytes; every later one as much as fits.
    const directReads = feed(decoder, wire, [21 + 1000, 1 << 30]);
    assert.deepEqual(recorder.copies, messages);
    assert.equal(directReads, 3, "one read per frame: each brought the next frame's head");
  });

  it("a small frame read into the spare room is not a view into the pooled buffer", () => {
    const recorder = new LendingRecorder();
    const decoder = decoderFor(recorder);
    const small: Message = { type: MessageType.RpcResponse, requestId: 5, body: body(40, 9) };
    const messages = [chunk(0, 100 * KiB), small, chunk(1, 100 * KiB)];
    const wire = concatBytes(messages.flatMap((message) => encodeMessage(message)));
    feed(decoder, wire, [21 + 1000, 1 << 30]);
    assert.deepEqual(recorder.copies, messages);
    assert.equal(recorder.kept.length, 1, "the RPC body is a view of the bytes read");
    const [{ body: kept, copy }] = recorder.kept as [{ body: Uint8Array; copy: Uint8Array }];
    assert.deepEqual(kept, copy, "the RPC body kept its bytes after the chunk's buffer was reused");
  });

  it("the bytes read past the end are zeroed in the frame's buffer before it is delivered", () => {
    const seen: Uint8Array[] = [];
    const recorder = new (class extends LendingRecorder {
      override message(message: Message): void {
        if ("body" in message && message.body.length > SPARE) {
          const whole = new Uint8Array(message.body.buffer);
          seen.push(whole.slice(message.body.byteOffset + message.body.length));
        }
        super.message(message);
      }
    })();
    const decoder = decoderFor(recorder);
    const messages = [chunk(0, 100 * KiB), chunk(1, 100 * KiB)];
    const wire = concatBytes(messages.flatMap((message) => encodeMessage(message)));
    feed(decoder, wire, [21 + 1000, 1 << 30]);
    assert.deepEqual(recorder.copies, messages);
    assert.equal(seen[0]!.length, SPARE);
    assert.ok(seen[0]!.every((byte) => byte === 0), "no byte of the next frame left behind");
  });

  it("the next frame's start waits for readBuffer, so a buffer given back after push is reused", () => {
    const pool = new FrameBufferPool({ spareBytes: SPARE });
    const bodies: Uint8Array[] = [];
    const copies: Message[] = [];
    const decoder = new FrameDecoder(
      new (class extends FrameRecorder {
        override message(message: Message): void {
          super.message(message);
          if (!("body" in message)) return;
          bodies.push(message.body);
          copies.push({ ...message, body: message.body.slice() });
        }
      })(),
      { allocator: pool },
    );
    const messages = [chunk(0, 100 * KiB), chunk(1, 100 * KiB)];
    const wire = concatBytes(messages.flatMap((message) => encodeMessage(message)));
    decoder.push(wire.slice(0, 21 + 1000));
    // One read: the rest of frame 0, then frame 1's head and 179 bytes of its body.
    const first = decoder.readBuffer(true)!;
    const count = 100 * KiB - 1000 + 200;
    first.set(wire.subarray(21 + 1000, 21 + 1000 + count));
    decoder.push(first.subarray(0, count));
    assert.equal(bodies.length, 1);
    assert.ok(decoder.midFrame, "frame 1 has begun");
    pool.release(bodies[0]!); // as a lent body's consumer does, a microtask after the push
    const second = decoder.readBuffer(true)!;
    assert.equal(second.buffer, bodies[0]!.buffer, "frame 1 is assembled in the buffer given back");
    const rest = wire.subarray(21 + 1000 + count);
    second.set(rest);
    decoder.push(second.subarray(0, rest.length));
    assert.deepEqual(copies, messages);
  });

  it("property: any reads, with or without the spare room, decode what the whole wire decodes", () => {
    const message = fc.oneof(
      fc.record({ index: fc.nat({ max: 99 }), length: fc.integer({ min: 0, max: 150 * KiB }) })
        .map(({ index, length }) => chunk(index, length)),
      fc.record({ id: fc.nat(), length: fc.nat({ max: 300 }) }).map(({ id, length }): Message => ({
        type: MessageType.RpcResponse,
        requestId: id,
        body: body(length, id),
      })),
      fc.nat({ max: 200 }).map((count): Message => ({
        type: MessageType.StreamResponse,
        streamId: "s",
        byteCount: count,
      })),
    );
    fc.assert(
      fc.property(
        fc.array(message, { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 200 * KiB }), { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        (messages, reads, pastEnd) => {
          const parts: Uint8Array[] = [];
          const expected = new FrameRecorder();
          for (const m of messages) {
            parts.push(...encodeMessage(m));
            if (m.type === MessageType.StreamResponse) parts.push(body(m.byteCount, 3));
          }
          const wire = concatBytes(parts);
          new FrameDecoder(expected).push(wire.slice());
          const recorder = new LendingRecorder();
          feed(decoderFor(recorder), wire, reads, pastEnd);
          assert.deepEqual(recorder.copies, expected.frames.map((frame) => frame.message));
          const streams = (frames: typeof expected.frames) => frames.map((frame) => frame.stream);
          assert.deepEqual(streams(recorder.frames), streams(expected.frames));
          for (const { body: kept, copy } of recorder.kept) assert.deepEqual(kept, copy);
        },
      ),
      { seed: FUZZ_SEED, numRuns: 300 },
    );
  });
});
