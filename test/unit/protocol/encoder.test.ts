import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidArgumentError } from "../../../src/errors.ts";
import { FrameDecoder } from "../../../src/protocol/decoder.ts";
import { encodeMessage, frameLength, INLINE_BODY_MAX } from "../../../src/protocol/encoder.ts";
import { type Message, MessageType } from "../../../src/protocol/messages.ts";
import { concatBytes, FrameRecorder } from "../../helpers/frame-recorder.ts";

const T = MessageType;

function decodeOne(bytes: Uint8Array): Message {
  const recorder = new FrameRecorder();
  new FrameDecoder(recorder).push(bytes);
  assert.equal(recorder.frames.length, 1);
  return recorder.frames[0]!.message;
}

function rejects(message: unknown, ...fragments: string[]): void {
  assert.throws(
    () => encodeMessage(message as Message),
    (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentError, `expected InvalidArgumentError: ${error}`);
      for (const fragment of fragments) {
        assert.ok(error.message.includes(fragment), `"${error.message}" lacks "${fragment}"`);
      }
      return true;
    },
  );
  assert.throws(() => frameLength(message as Message), InvalidArgumentError);
}

describe("encodeMessage", () => {
  it("passes a body above INLINE_BODY_MAX through by reference, without copying", () => {
    const body = new Uint8Array(INLINE_BODY_MAX + 1).fill(7);
    const message: Message = { type: T.RpcRequest, requestId: 1, body };
    const chunks = encodeMessage(message);
    assert.equal(chunks.length, 2);
    assert.equal(chunks[1], body, "the body chunk is the caller's own array");
    assert.equal(chunks[0]!.length, 8 + 1 + 8 + 4);
    assert.equal(frameLength(message), 21 + body.length);
    assert.deepStrictEqual(decodeOne(concatBytes(chunks)), message);
  });

  it("passes a large view through sharing the caller's ArrayBuffer", () => {
    const backing = new Uint8Array(100_000);
    const body = backing.subarray(10, 60_000);
    const chunks = encodeMessage({ type: T.ChunkFetchSuccess, streamId: 3, chunkIndex: 0, body });
    assert.equal(chunks[1]!.buffer, backing.buffer);
    assert.equal(chunks[1]!.byteOffset, 10);
  });

  it("copies a body of exactly INLINE_BODY_MAX bytes into a single chunk", () => {
    const body = new Uint8Array(INLINE_BODY_MAX).fill(1);
    const message: Message = { type: T.OneWayMessage, body };
    const chunks = encodeMessage(message);
    assert.equal(chunks.length, 1);
    assert.notEqual(chunks[0]!.buffer, body.buffer);
    assert.equal(chunks[0]!.length, frameLength(message));
    assert.deepStrictEqual(decodeOne(chunks[0]!), message);
  });

  it("gives a large header its own buffer of exactly the frame's size", () => {
    const message: Message = { type: T.RpcFailure, requestId: 9, error: "é".repeat(1000) };
    const [header] = encodeMessage(message);
    assert.equal(header!.byteLength, header!.buffer.byteLength);
    assert.equal(header!.length, frameLength(message));
  });

  it("never hands out the same header bytes twice: earlier frames stay intact", () => {
    const sent: [Message, Uint8Array][] = [];
    for (let i = 0; i < 2000; i++) {
      const message: Message = {
        type: T.StreamFailure,
        streamId: `s${i}`,
        error: "x".repeat(i % 300),
      };
      const chunks = encodeMessage(message);
      assert.equal(chunks.length, 1);
      sent.push([message, chunks[0]!]);
    }
    for (const [message, bytes] of sent) assert.deepStrictEqual(decodeOne(bytes), message);
  });

  it("keeps encoding after a caller detaches a header's shared buffer", () => {
    const [first] = encodeMessage({ type: T.StreamRequest, streamId: "a" });
    structuredClone(first!.buffer, { transfer: [first!.buffer] });
    assert.equal(first!.byteLength, 0, "detached");
    const message: Message = { type: T.StreamRequest, streamId: "b" };
    assert.deepStrictEqual(decodeOne(concatBytes(encodeMessage(message))), message);
  });

  it("splits an UploadStream with a large meta around the meta, without copying it", () => {
    const meta = new Uint8Array(INLINE_BODY_MAX + 10).fill(2);
    const message: Message = { type: T.UploadStream, requestId: 4, meta, bodyByteCount: 99 };
    const chunks = encodeMessage(message);
    assert.equal(chunks.length, 3);
    assert.equal(chunks[1], meta);
    assert.equal(frameLength(message), 8 + 1 + 8 + 4 + meta.length + 8);
    const recorder = new FrameRecorder();
    new FrameDecoder(recorder).push(concatBytes(chunks));
    assert.equal(recorder.inStream, true, "99 body bytes are still expected");
    assert.equal(encodeMessage({ ...message, meta: meta.subarray(0, 10) }).length, 1);
  });

  it("does not include StreamResponse / UploadStream payloads in the frame", () => {
    const message: Message = { type: T.StreamResponse, streamId: "s", byteCount: 1e12 };
    const [frame, ...rest] = encodeMessage(message);
    assert.equal(rest.length, 0);
    assert.equal(frame!.length, 8 + 1 + 4 + 1 + 8);
    assert.equal(frameLength(message), frame!.length);
  });

  it("encodes strings as UTF-8 exactly as TextEncoder does, BOM and surrogates included", () => {
    const samples = [
      "",
      "a",
      "h\u00e9llo \u2713",
      "\ufeffbom",
      "\u{1f600}x",
      "a\ud800b",
      "\udc00",
      "x".repeat(70),
      "\u00e9".repeat(40),
    ];
    for (const text of samples) {
      const message: Message = { type: T.StreamFailure, streamId: text, error: text };
      const [frame] = encodeMessage(message);
      const utf8 = new TextEncoder().encode(text);
      assert.equal(frame!.length, 9 + 2 * (4 + utf8.length), JSON.stringify(text));
      assert.deepStrictEqual(frame!.subarray(13, 13 + utf8.length), utf8);
      const decoded = decodeOne(frame!) as Extract<Message, { type: 8 }>;
      assert.equal(decoded.streamId, new TextDecoder("utf-8", { ignoreBOM: true }).decode(utf8));
    }
  });

  it("accepts bigint ids and writes them like numbers", () => {
    const a = encodeMessage({ type: T.RpcFailure, requestId: 77n, error: "e" });
    const b = encodeMessage({ type: T.RpcFailure, requestId: 77, error: "e" });
    assert.deepStrictEqual(a, b);
  });

  it("rejects out-of-range and non-integer int32 fields, naming field and value", () => {
    rejects(
      { type: T.ChunkFetchRequest, streamId: 1, chunkIndex: 2 ** 31 },
      "ChunkFetchRequest.chunkIndex",
      "2147483648",
    );
    rejects(
      { type: T.ChunkFetchSuccess, streamId: 1, chunkIndex: 0.5, body: new Uint8Array() },
      "ChunkFetchSuccess.chunkIndex",
      "0.5",
    );
    rejects(
      { type: T.ChunkFetchFailure, streamId: 1, chunkIndex: -(2 ** 31) - 1, error: "" },
      "chunkIndex",
      "-2147483649",
    );
    rejects(
      {
        type: T.MergedBlockMetaRequest,
        requestId: 1,
        appId: "a",
        shuffleId: Number.NaN,
        shuffleMergeId: 0,
        reduceId: 0,
      },
      "MergedBlockMetaRequest.shuffleId",
      "NaN",
    );
    rejects(
      {
        type: T.MergedBlockMetaRequest,
        requestId: 1,
        appId: "a",
        shuffleId: 0,
        shuffleMergeId: 2 ** 40,
        reduceId: 0,
      },
      "shuffleMergeId",
      "1099511627776",
    );
    rejects(
      {
        type: T.MergedBlockMetaRequest,
        requestId: 1,
        appId: "a",
        shuffleId: 0,
        shuffleMergeId: 0,
        reduceId: "3",
      },
      "reduceId",
      '"3"',
    );
    rejects(
      { type: T.MergedBlockMetaSuccess, requestId: 1, numChunks: Infinity, body: new Uint8Array() },
      "numChunks",
      "Infinity",
    );
  });

  it("rejects invalid int64 ids, naming field and value", () => {
    rejects(
      { type: T.RpcRequest, requestId: 1.25, body: new Uint8Array() },
      "RpcRequest.requestId",
      "1.25",
    );
    rejects(
      { type: T.ChunkFetchRequest, streamId: 2n ** 63n, chunkIndex: 0 },
      "ChunkFetchRequest.streamId",
      "9223372036854775808n",
    );
    rejects(
      { type: T.UploadStream, requestId: 2 ** 53, meta: new Uint8Array(), bodyByteCount: 0 },
      "UploadStream.requestId",
      "9007199254740992",
    );
  });

  it("rejects negative, fractional and unsafe byte counts", () => {
    rejects(
      { type: T.StreamResponse, streamId: "s", byteCount: -1 },
      "StreamResponse.byteCount",
      "-1",
    );
    rejects({ type: T.StreamResponse, streamId: "s", byteCount: 1.5 }, "byteCount", "1.5");
    rejects(
      { type: T.UploadStream, requestId: 1, meta: new Uint8Array(), bodyByteCount: 2 ** 53 },
      "UploadStream.bodyByteCount",
      "9007199254740992",
    );
    rejects(
      { type: T.UploadStream, requestId: 1, meta: new Uint8Array(), bodyByteCount: 5n },
      "bodyByteCount",
      "5n",
    );
  });

  it("rejects bodies and strings of the wrong type, and unknown messages", () => {
    rejects(
      { type: T.RpcResponse, requestId: 1, body: "text" },
      "RpcResponse.body",
      "Uint8Array",
      '"text"',
    );
    rejects({ type: T.OneWayMessage, body: [1, 2] }, "OneWayMessage.body", "Array");
    rejects(
      { type: T.UploadStream, requestId: 1, meta: null, bodyByteCount: 0 },
      "UploadStream.meta",
      "null",
    );
    rejects({ type: T.StreamRequest, streamId: 5 }, "StreamRequest.streamId", "5");
    rejects({ type: T.RpcFailure, requestId: 1 }, "RpcFailure.error", "undefined");
    rejects({ type: 13 }, "unknown message type 13");
    rejects({ type: "RpcRequest" }, "unknown message type RpcRequest");
    rejects(null, "null");
    rejects(undefined, "undefined");
  });

  it("RPC frames with a uint32 id and a small body (the fast path) match the general encoding", () => {
    // A bigint id takes the general path; the same value as a number takes the fast path.
    const ids = [0, 1, 255, 256, 65_535, 2 ** 30 - 1, 2 ** 30, 2 ** 31, 2 ** 32 - 1];
    const bodies = [0, 1, 64, 1000, INLINE_BODY_MAX].map((length) =>
      Uint8Array.from({ length }, (_, i) => (i * 31 + length) & 0xff)
    );
    for (const type of [T.RpcRequest, T.RpcResponse] as const) {
      for (const requestId of ids) {
        for (const body of bodies) {
          const fast = concatBytes(encodeMessage({ type, requestId, body }));
          const general = concatBytes(encodeMessage({ type, requestId: BigInt(requestId), body }));
          assert.deepStrictEqual(fast, general, `type ${type} id ${requestId} body ${body.length}`);
          assert.equal(fast.length, frameLength({ type, requestId, body }));
          assert.deepStrictEqual(decodeOne(fast), { type, requestId, body });
        }
      }
    }
    // Beyond uint32, negative or fractional ids and large bodies take the general path.
    const big = new Uint8Array(INLINE_BODY_MAX + 1);
    assert.equal(encodeMessage({ type: T.RpcRequest, requestId: 2 ** 32, body: big }).length, 2);
    assert.deepStrictEqual(
      decodeOne(concatBytes(encodeMessage({ type: T.RpcResponse, requestId: -1, body: big }))),
      { type: T.RpcResponse, requestId: -1, body: big },
    );
    rejects(
      { type: T.RpcRequest, requestId: 1.5, body: new Uint8Array(1) },
      "RpcRequest.requestId",
    );
    rejects({ type: T.RpcRequest, requestId: 1, body: [1] }, "RpcRequest.body", "Array");
  });
});
