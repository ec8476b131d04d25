/** Every way a byte stream can break the protocol ends in a ProtocolError naming the value. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidArgumentError, ProtocolError } from "../../../src/errors.ts";
import { FrameDecoder } from "../../../src/protocol/decoder.ts";
import { concatBytes, FrameRecorder } from "../../helpers/frame-recorder.ts";

function i32(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setInt32(0, value);
  return bytes;
}

function i64(value: bigint): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigInt64(0, value);
  return bytes;
}

function str(text: string): Uint8Array {
  const utf8 = new TextEncoder().encode(text);
  return concatBytes([i32(utf8.length), utf8]);
}

/** A frame with a correct length field: type byte and the given field bytes. */
function frame(type: number, ...fields: Uint8Array[]): Uint8Array {
  const content = concatBytes(fields);
  return concatBytes([i64(BigInt(9 + content.length)), Uint8Array.of(type), content]);
}

/** Decoding `bytes` (whole, then byte by byte) fails with a ProtocolError containing fragments. */
function rejects(bytes: Uint8Array, ...fragments: string[]): void {
  for (const pieces of [[bytes], Array.from(bytes, (b) => Uint8Array.of(b))]) {
    const decoder = new FrameDecoder(new FrameRecorder(), { maxFrameLength: 1 << 20 });
    assert.throws(
      () => {
        for (const piece of pieces) decoder.push(piece);
      },
      (error: unknown) => {
        assert.ok(error instanceof ProtocolError, `expected ProtocolError, got ${error}`);
        assert.equal(error.code, "ERR_PROTOCOL");
        for (const fragment of fragments) {
          assert.ok(error.message.includes(fragment), `"${error.message}" lacks "${fragment}"`);
        }
        return true;
      },
    );
    assert.equal(decoder.state, "failed");
  }
}

describe("FrameDecoder rejects", () => {
  it("a frame length above maxFrameLength as soon as its 8 bytes are in", () => {
    const recorder = new FrameRecorder();
    const decoder = new FrameDecoder(recorder, { maxFrameLength: 1000 });
    const header = i64(1001n);
    decoder.push(header.subarray(0, 5));
    decoder.push(header.subarray(5, 7));
    assert.equal(decoder.state, "frame-length");
    assert.throws(
      () => decoder.push(header.subarray(7, 8)),
      (error: unknown) =>
        error instanceof ProtocolError && /1001/.test(error.message) &&
        /maximum of 1000/.test(error.message),
    );
    assert.equal(decoder.state, "failed");
    // With the default limit (64 MiB): 8 bytes announcing 64 MiB + 1 fail with no frame bytes.
    const big = new FrameDecoder(recorder);
    assert.throws(() => big.push(i64(64n * 1024n * 1024n + 1n)), /67108865/);
    assert.equal(recorder.frames.length, 0);
  });

  it("accepts a frame of exactly maxFrameLength", () => {
    const recorder = new FrameRecorder();
    const body = new Uint8Array(100);
    const bytes = frame(9, i32(100), body);
    new FrameDecoder(recorder, { maxFrameLength: bytes.length }).push(bytes);
    assert.equal(recorder.frames.length, 1);
    rejects(concatBytes([i64(1n << 40n)]), "1099511627776", "exceeds the maximum");
  });

  it("frame lengths below 9, negative ones and ones beyond 2^63", () => {
    rejects(i64(0n), "frame length 0", "at least 9");
    rejects(i64(8n), "frame length 8", "at least 9");
    rejects(i64(-1n), "frame length -1", "at least 9");
    rejects(i64(-(2n ** 63n)), "-9223372036854775808");
    rejects(i64(2n ** 63n - 1n), "9223372036854775807", "exceeds the maximum");
  });

  it("an unknown message type byte", () => {
    rejects(frame(13), "unknown message type 13", "expected 0..12");
    rejects(frame(255, new Uint8Array(20)), "unknown message type 255");
  });

  it("fields that overrun the frame", () => {
    rejects(frame(0, new Uint8Array(5)), "ChunkFetchRequest", "streamId", "needs 8 bytes");
    rejects(frame(0, i64(1n), new Uint8Array(3)), "chunkIndex", "needs 4 bytes", "only 3 remain");
    rejects(frame(12, i64(1n)), "MergedBlockMetaSuccess", "numChunks");
    rejects(frame(3), "RpcRequest", "requestId");
    rejects(frame(9, new Uint8Array(2)), "OneWayMessage", "bodyLength");
    rejects(frame(11, i64(1n), str("app"), i32(1), i32(2)), "reduceId");
  });

  it("strings whose length is negative or overruns the frame", () => {
    rejects(frame(6, i32(100), new Uint8Array(3)), "StreamRequest", "streamId length 100", "0..3");
    rejects(frame(6, i32(-1)), "streamId length -1");
    rejects(
      frame(2, i64(1n), i32(0), i32(7), new Uint8Array(6)),
      "ChunkFetchFailure",
      "error length 7",
    );
    rejects(frame(8, str("s"), i32(2 ** 31 - 1)), "StreamFailure", "error length 2147483647");
  });

  it("body lengths that disagree with the frame", () => {
    rejects(
      frame(3, i64(1n), i32(6), new Uint8Array(5)),
      "RpcRequest",
      "bodyLength 6",
      "5 body bytes",
    );
    rejects(frame(4, i64(1n), i32(4), new Uint8Array(5)), "RpcResponse", "bodyLength 4");
    rejects(frame(4, i64(1n), i32(-1)), "bodyLength -1", "0 body bytes");
    rejects(frame(9, i32(0), new Uint8Array(1)), "OneWayMessage", "bodyLength 0", "1 body bytes");
  });

  it("trailing bytes after the last field of fixed-size messages", () => {
    rejects(
      frame(0, i64(1n), i32(2), new Uint8Array(1)),
      "ChunkFetchRequest",
      "1 unexpected trailing",
    );
    rejects(
      frame(2, i64(1n), i32(2), str("e"), new Uint8Array(2)),
      "ChunkFetchFailure",
      "2 unexpected",
    );
    rejects(frame(5, i64(1n), str("e"), new Uint8Array(1)), "RpcFailure", "trailing");
    rejects(frame(6, str("s"), new Uint8Array(4)), "StreamRequest", "4 unexpected");
    rejects(frame(7, str("s"), i64(0n), new Uint8Array(1)), "StreamResponse", "trailing");
    rejects(frame(8, str("s"), str("e"), new Uint8Array(1)), "StreamFailure", "trailing");
    rejects(frame(10, i64(1n), i32(0), i64(0n), new Uint8Array(1)), "UploadStream", "trailing");
    rejects(
      frame(11, i64(1n), str("a"), i32(1), i32(2), i32(3), new Uint8Array(1)),
      "MergedBlockMetaRequest",
      "trailing",
    );
  });

  it("byte counts that are negative or beyond 2^53 − 1", () => {
    rejects(frame(7, str("s"), i64(-1n)), "StreamResponse", "byteCount -1", "0..9007199254740991");
    rejects(frame(7, str("s"), i64(2n ** 53n)), "byteCount 9007199254740992");
    rejects(frame(7, str("s"), i64(-(2n ** 63n))), "byteCount -9223372036854775808");
    rejects(frame(10, i64(1n), i32(0), i64(-5n)), "UploadStream", "bodyByteCount -5");
  });

  it("UploadStream meta lengths that do not fit", () => {
    rejects(frame(10, i64(1n), i32(-1), i64(0n)), "metaLength -1", "0..0");
    rejects(
      frame(10, i64(1n), i32(3), new Uint8Array(3), new Uint8Array(7)),
      "metaLength 3",
      "0..2",
    );
  });

  it("every push after a failure, saying why", () => {
    const decoder = new FrameDecoder(new FrameRecorder());
    assert.throws(() => decoder.push(frame(13)), ProtocolError);
    for (let i = 0; i < 2; i++) {
      assert.throws(
        () => decoder.push(frame(6, str("ok"))),
        (error: unknown) =>
          error instanceof ProtocolError && /stopped after an earlier error/.test(error.message) &&
          /unknown message type 13/.test(error.message) && error.cause instanceof ProtocolError,
      );
    }
    assert.equal(decoder.state, "failed");
  });

  it("an invalid maxFrameLength option", () => {
    for (const bad of [8, 0, -1, 1.5, Number.NaN, 2 ** 53]) {
      assert.throws(
        () => new FrameDecoder(new FrameRecorder(), { maxFrameLength: bad }),
        (error: unknown) =>
          error instanceof InvalidArgumentError && error.message.includes(String(bad)),
      );
    }
  });

  it("frames before the bad one are still delivered, in order", () => {
    const recorder = new FrameRecorder();
    const decoder = new FrameDecoder(recorder);
    assert.throws(
      () => decoder.push(concatBytes([frame(6, str("a")), frame(6, str("b")), frame(99)])),
      /99/,
    );
    assert.deepStrictEqual(recorder.frames.map((f) => f.message), [
      { type: 6, streamId: "a" },
      { type: 6, streamId: "b" },
    ]);
  });
});
