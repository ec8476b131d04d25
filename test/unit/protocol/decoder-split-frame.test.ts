/**
 * The decoder's `"frame-body"` state: when a chunk ends exactly after the fixed fields of a frame
 * with a large body (how a WebSocket peer sends a frame's header and body as two messages), the
 * body is delivered as a view of the next chunk — no frame buffer, no copy — and everything else
 * (bodies spanning chunks, `readBuffer`, malformed lengths, frames behind the body) decodes exactly
 * as the contiguous frame does.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ProtocolError } from "../../../src/errors.ts";
import { FrameDecoder } from "../../../src/protocol/decoder.ts";
import { encodeMessage } from "../../../src/protocol/encoder.ts";
import { type Int64, type Message, MessageType } from "../../../src/protocol/messages.ts";
import { concatBytes, FrameRecorder } from "../../helpers/frame-recorder.ts";
import { FUZZ_SEED } from "./message-arbitraries.ts";

const LARGE = 64 * 1024;

function body(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

/** The frame's header (length field and fixed fields) and its body, as the encoder emits them. */
function headerAndBody(message: Message): [Uint8Array, Uint8Array] {
  const parts = encodeMessage(message);
  const whole = concatBytes(parts);
  const bodyLength = "body" in message ? message.body.length : 0;
  return [whole.slice(0, whole.length - bodyLength), whole.slice(whole.length - bodyLength)];
}

class CountingAllocations extends FrameRecorder {
  allocations = 0;
  readonly allocate = (size: number) => {
    this.allocations++;
    return new Uint8Array(size);
  };
}

function decoderFor(recorder: CountingAllocations): FrameDecoder {
  return new FrameDecoder(recorder, { allocate: recorder.allocate });
}

const largeMessages: readonly Message[] = [
  { type: MessageType.ChunkFetchSuccess, streamId: 7, chunkIndex: 3, body: body(LARGE, 1) },
  { type: MessageType.RpcResponse, requestId: 9_007_199_254_740_993n, body: body(LARGE, 2) },
  { type: MessageType.RpcRequest, requestId: -5, body: body(LARGE, 3) },
  { type: MessageType.OneWayMessage, body: body(LARGE, 4) },
];

describe("FrameDecoder frame-body state", () => {
  for (const message of largeMessages) {
    it(`delivers a type-${message.type} body pushed on its own as that very chunk`, () => {
      const recorder = new CountingAllocations();
      const decoder = decoderFor(recorder);
      const [header, bodyChunk] = headerAndBody(message);
      decoder.push(header);
      assert.equal(decoder.state, "frame-body");
      decoder.push(bodyChunk);
      assert.equal(decoder.state, "frame-length");
      assert.deepEqual(recorder.frames, [{ message }]);
      const delivered = (recorder.frames[0]!.message as { body: Uint8Array }).body;
      assert.equal(delivered.buffer, bodyChunk.buffer, "the body is a view of the pushed chunk");
      assert.equal(recorder.allocations, 0, "no frame buffer was allocated");
    });
  }

  it("hands RpcResponses to the rpcResponse fast path", () => {
    const seen: Array<{ requestId: Int64; body: Uint8Array }> = [];
    const recorder = new FrameRecorder();
    const decoder = new FrameDecoder({
      message: (message) => recorder.message(message),
      body: (chunk) => recorder.body(chunk),
      bodyEnd: () => recorder.bodyEnd(),
      rpcResponse: (requestId, bytes) => seen.push({ requestId, body: bytes }),
    });
    const [header, bodyChunk] = headerAndBody(largeMessages[1]!);
    decoder.push(header);
    decoder.push(bodyChunk);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.requestId, 9_007_199_254_740_993n);
    assert.equal(seen[0]!.body.buffer, bodyChunk.buffer);
    assert.equal(recorder.frames.length, 0);
  });

  it("assembles a body that spans chunks, and decodes frames that follow the body", () => {
    const recorder = new CountingAllocations();
    const decoder = decoderFor(recorder);
    const [first, second] = [largeMessages[0]!, largeMessages[2]!];
    const [header, bodyBytes] = headerAndBody(first);
    const next = concatBytes(encodeMessage(second));
    decoder.push(header);
    decoder.push(bodyBytes.slice(0, 1000)); // only part of the body: assembled after all
    assert.equal(decoder.state, "frame");
    decoder.push(concatBytes([bodyBytes.slice(1000), next.slice(0, 30)]));
    decoder.push(next.slice(30));
    assert.deepEqual(recorder.frames, [{ message: first }, { message: second }]);
    assert.equal(recorder.allocations, 2);
  });

  it("delivers the body as a view and goes on with the frames in the same chunk", () => {
    const recorder = new CountingAllocations();
    const decoder = decoderFor(recorder);
    const [header, bodyBytes] = headerAndBody(largeMessages[3]!);
    const small: Message = { type: MessageType.RpcRequest, requestId: 1, body: body(10, 9) };
    decoder.push(header);
    decoder.push(concatBytes([bodyBytes, ...encodeMessage(small)]));
    assert.deepEqual(recorder.frames, [{ message: largeMessages[3]! }, { message: small }]);
    assert.equal(recorder.allocations, 0);
  });

  it("offers the frame's tail as readBuffer, for sockets that read into it", () => {
    const recorder = new CountingAllocations();
    const decoder = decoderFor(recorder);
    const message = largeMessages[0]!;
    const [header, bodyBytes] = headerAndBody(message);
    decoder.push(header);
    const target = decoder.readBuffer();
    assert.ok(target !== undefined);
    assert.equal(decoder.state, "frame");
    assert.equal(target.length, bodyBytes.length);
    target.set(bodyBytes);
    decoder.push(target);
    assert.deepEqual(recorder.frames, [{ message }]);
  });

  it("does not wait for small bodies or for types whose body is not last", () => {
    const recorder = new CountingAllocations();
    const decoder = decoderFor(recorder);
    const small: Message = {
      type: MessageType.ChunkFetchSuccess,
      streamId: 1,
      chunkIndex: 0,
      body: body(100, 5),
    };
    const [header, bodyBytes] = headerAndBody(small);
    decoder.push(header);
    assert.equal(decoder.state, "frame");
    decoder.push(bodyBytes);
    assert.deepEqual(recorder.frames, [{ message: small }]);
  });

  it("fails a split RPC frame whose body length disagrees, as the contiguous frame does", () => {
    const [header, bodyBytes] = headerAndBody(largeMessages[1]!);
    new DataView(header.buffer, header.byteOffset).setInt32(8 + 9, LARGE - 1);
    const contiguous = (() => {
      try {
        new FrameDecoder(new FrameRecorder()).push(concatBytes([header, bodyBytes]));
      } catch (error) {
        return error;
      }
    })();
    const decoder = new FrameDecoder(new FrameRecorder());
    decoder.push(header);
    assert.throws(() => decoder.push(bodyBytes), (error) => {
      assert.ok(error instanceof ProtocolError);
      assert.equal(error.message, (contiguous as Error).message);
      return true;
    });
    assert.equal(decoder.state, "failed");
  });

  it("decodes any mix of large and small frames cut at header boundaries and anywhere else", () => {
    const messageArb: fc.Arbitrary<Message> = fc.oneof(
      fc.record({
        type: fc.constant(MessageType.ChunkFetchSuccess),
        streamId: fc.integer(),
        chunkIndex: fc.integer(),
        body: fc.integer({ min: 0, max: 40_000 }).map((n) => body(n, n)),
      }),
      fc.record({
        type: fc.constantFrom(MessageType.RpcRequest, MessageType.RpcResponse),
        requestId: fc.integer(),
        body: fc.integer({ min: 0, max: 40_000 }).map((n) => body(n, n + 1)),
      }),
      fc.record({
        type: fc.constant(MessageType.OneWayMessage),
        body: fc.integer({ min: 0, max: 40_000 }).map((n) => body(n, n + 2)),
      }),
    ).map((record) => ({ ...record }) as Message); // plain objects, as the decoder builds them
    fc.assert(
      fc.property(
        fc.array(fc.tuple(messageArb, fc.boolean(), fc.nat()), { minLength: 1, maxLength: 6 }),
        (items) => {
          const recorder = new FrameRecorder();
          const decoder = new FrameDecoder(recorder);
          for (const [message, splitAtHeader, cut] of items) {
            const [header, bodyBytes] = headerAndBody(message);
            if (splitAtHeader) {
              decoder.push(header);
              const at = cut % (bodyBytes.length + 1);
              if (at > 0) decoder.push(bodyBytes.slice(0, at));
              if (at < bodyBytes.length) decoder.push(bodyBytes.slice(at));
            } else {
              decoder.push(concatBytes([header, bodyBytes]));
            }
          }
          assert.deepEqual(recorder.frames, items.map(([message]) => ({ message })));
          assert.equal(decoder.state, "frame-length");
        },
      ),
      { seed: FUZZ_SEED, numRuns: 200 },
    );
  });
});
