/**
 * The decoder's RPC fast paths: well-formed RpcRequest / RpcResponse frames are decoded without the
 * general reader, and with `FrameHandler.rpcResponse` / `rpcRequest` an RpcResponse / RpcRequest
 * reaches the handler without a message object. For any sequence of frames split anywhere both
 * handlers see exactly the encoded messages, every RpcResponse goes through `rpcResponse` and every
 * RpcRequest through `rpcRequest`, and malformed RPC frames fail with the general reader's
 * ProtocolError.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ProtocolError } from "../../../src/errors.ts";
import { FrameDecoder } from "../../../src/protocol/decoder.ts";
import { encodeMessage } from "../../../src/protocol/encoder.ts";
import { type Int64, MessageType } from "../../../src/protocol/messages.ts";
import { concatBytes, FrameRecorder } from "../../helpers/frame-recorder.ts";
import { FUZZ_SEED, type WireMessage, wireMessageArb } from "./message-arbitraries.ts";

/** Records fast-path RpcResponses and RpcRequests as messages, in order with everything else. */
class FastPathRecorder extends FrameRecorder {
  fastPathCalls = 0;
  requestFastPathCalls = 0;
  rpcResponse(requestId: Int64, body: Uint8Array): void {
    this.fastPathCalls++;
    this.message({ type: MessageType.RpcResponse, requestId, body });
  }
  rpcRequest(requestId: Int64, body: Uint8Array): void {
    this.requestFastPathCalls++;
    this.message({ type: MessageType.RpcRequest, requestId, body });
  }
}

function toWire(items: readonly WireMessage[]): Uint8Array {
  return concatBytes(
    items.flatMap((
      item,
    ) => [...encodeMessage(item.message), ...(item.stream ? [item.stream] : [])]),
  );
}

function pieces(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    if (point > start) out.push(bytes.slice(start, point));
    start = Math.max(start, point);
  }
  return out;
}

function decodeError(bytes: Uint8Array, fast: boolean): unknown {
  const decoder = new FrameDecoder(fast ? new FastPathRecorder() : new FrameRecorder());
  try {
    decoder.push(bytes);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("FrameDecoder RPC fast paths", () => {
  it("delivers what the general path delivers, split anywhere, every RPC via the fast paths", () => {
    const rpcResponse = wireMessageArb.filter((item) =>
      item.message.type === MessageType.RpcResponse
    );
    const rpcRequest = wireMessageArb.filter((item) =>
      item.message.type === MessageType.RpcRequest
    );
    fc.assert(
      fc.property(
        fc.array(fc.oneof(wireMessageArb, rpcResponse, rpcRequest), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (items, cuts) => {
          const bytes = toWire(items);
          const fast = new FastPathRecorder();
          const plain = new FrameRecorder();
          const fastDecoder = new FrameDecoder(fast);
          const plainDecoder = new FrameDecoder(plain);
          for (const piece of pieces(bytes, cuts)) {
            fastDecoder.push(piece);
            plainDecoder.push(piece.slice());
          }
          assert.deepStrictEqual(fast.frames, plain.frames);
          assert.deepStrictEqual(fast.frames, items);
          const responses = items.filter((item) => item.message.type === MessageType.RpcResponse);
          assert.equal(fast.fastPathCalls, responses.length);
          const requests = items.filter((item) => item.message.type === MessageType.RpcRequest);
          assert.equal(fast.requestFastPathCalls, requests.length);
        },
      ),
      { seed: FUZZ_SEED, numRuns: 1000 },
    );
  });

  it("hands the body out as a view of the pushed chunk", () => {
    const body = Uint8Array.from({ length: 64 }, (_, i) => i);
    const bytes = concatBytes(
      encodeMessage({ type: MessageType.RpcResponse, requestId: 2n ** 62n, body }),
    );
    const recorder = new FastPathRecorder();
    new FrameDecoder(recorder).push(bytes);
    const message = recorder.frames[0]!.message;
    assert.equal(message.type, MessageType.RpcResponse);
    assert.equal(message.requestId, 2n ** 62n);
    assert.equal(message.body.buffer, bytes.buffer);
    assert.equal(message.body.byteOffset, 21);
    assert.deepStrictEqual(message.body, body);
  });

  it("malformed RPC frames fail with the general reader's ProtocolError", () => {
    for (const type of [MessageType.RpcRequest, MessageType.RpcResponse] as const) {
      const good = concatBytes(encodeMessage({ type, requestId: 7, body: Uint8Array.of(1, 2, 3) }));
      const badLength = good.slice();
      new DataView(badLength.buffer).setInt32(17, 4); // bodyLength 4, but 3 bytes follow
      const negative = good.slice();
      new DataView(negative.buffer).setInt32(17, -1);
      const short = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 15, type, 0, 0, 0, 0, 0, 0);
      for (const bytes of [badLength, negative, short]) {
        const fast = decodeError(bytes, true);
        const plain = decodeError(bytes, false);
        assert.ok(fast instanceof ProtocolError, String(fast));
        assert.ok(plain instanceof ProtocolError, String(plain));
        assert.equal(fast.message, plain.message);
        assert.match(fast.message, /bodyLength|needs 8 bytes/);
      }
    }
  });

  it("frames assembled in uninitialized memory (the allocate option) decode identically", () => {
    // Garbage-filled buffers stand in for uninitialized memory: every byte must be overwritten by
    // received bytes before anything is delivered from the frame.
    let allocations = 0;
    const allocate = (size: number) => {
      allocations++;
      return new Uint8Array(size).fill(0xa5);
    };
    fc.assert(
      fc.property(
        fc.array(wireMessageArb, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 12 }),
        (items, cuts) => {
          const recorder = new FastPathRecorder();
          const decoder = new FrameDecoder(recorder, { allocate });
          for (const piece of pieces(toWire(items), cuts)) decoder.push(piece);
          assert.deepStrictEqual(recorder.frames, items);
        },
      ),
      { seed: FUZZ_SEED, numRuns: 500 },
    );
    assert.ok(allocations > 100, `${allocations} frames were assembled across chunks`);
    const short = new FrameDecoder(new FrameRecorder(), { allocate: () => new Uint8Array(3) });
    const frame = concatBytes(
      encodeMessage({ type: MessageType.RpcRequest, requestId: 1, body: new Uint8Array(100) }),
    );
    assert.throws(() => short.push(frame.subarray(0, 50)), /allocate option returned 3 bytes/);
  });
});
