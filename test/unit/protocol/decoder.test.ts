/** FrameDecoder behaviour: zero copy, buffering across chunks, stream bodies, handler failures. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ProtocolError, TransportError } from "../../../src/errors.ts";
import { FrameDecoder, type FrameHandler } from "../../../src/protocol/decoder.ts";
import { encodeMessage } from "../../../src/protocol/encoder.ts";
import { type Message, MessageType } from "../../../src/protocol/messages.ts";
import { concatBytes, FrameRecorder } from "../../helpers/frame-recorder.ts";

const T = MessageType;

function wire(message: Message): Uint8Array {
  return concatBytes(encodeMessage(message));
}

function bodyOf(message: Message): Uint8Array {
  assert.ok("body" in message);
  return message.body;
}

describe("FrameDecoder", () => {
  it("hands out bodies as views of the pushed chunk when the frame lies inside it", () => {
    const body = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const first = wire({ type: T.RpcResponse, requestId: 1, body });
    const second = wire({ type: T.ChunkFetchSuccess, streamId: 2, chunkIndex: 3, body });
    const chunk = concatBytes([first, second]);
    const recorder = new FrameRecorder();
    new FrameDecoder(recorder).push(chunk);
    const [a, b] = recorder.frames.map((frame) => bodyOf(frame.message));
    assert.equal(a!.buffer, chunk.buffer);
    assert.equal(a!.byteOffset, 21);
    assert.equal(b!.buffer, chunk.buffer);
    assert.equal(b!.byteOffset, first.length + 21);
    assert.deepStrictEqual(a, body);
    assert.deepStrictEqual(b, body);
  });

  it("assembles a frame that spans chunks into one buffer of exactly its size", () => {
    const body = new Uint8Array(10_000).fill(9);
    const bytes = wire({ type: T.RpcRequest, requestId: 5, body });
    const recorder = new FrameRecorder();
    const decoder = new FrameDecoder(recorder);
    decoder.push(bytes.slice(0, 3));
    assert.equal(decoder.state, "frame-length");
    decoder.push(bytes.slice(3, 100));
    assert.equal(decoder.state, "frame");
    for (let at = 100; at < bytes.length; at += 1000) {
      decoder.push(bytes.slice(at, Math.min(at + 1000, bytes.length)));
    }
    assert.equal(decoder.state, "frame-length");
    const received = bodyOf(recorder.frames[0]!.message);
    assert.equal(received.buffer.byteLength, bytes.length - 8, "one buffer, frame-sized");
    assert.deepStrictEqual(received, body);
  });

  it("streams StreamResponse bytes as views of the chunks, then continues in the same push", () => {
    const payload = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff);
    const header = wire({ type: T.StreamResponse, streamId: "gen:1000", byteCount: 1000 });
    const next = wire({ type: T.RpcResponse, requestId: 3, body: Uint8Array.of(1) });
    const recorder = new FrameRecorder();
    const decoder = new FrameDecoder(recorder);
    const firstChunk = concatBytes([header, payload.subarray(0, 400)]);
    decoder.push(firstChunk);
    assert.equal(decoder.state, "stream-body");
    assert.equal(recorder.inStream, true);
    const middle = payload.slice(400, 700);
    decoder.push(middle);
    const lastChunk = concatBytes([payload.subarray(700), next]);
    decoder.push(lastChunk);
    assert.equal(decoder.state, "frame-length");
    assert.equal(recorder.bodyChunks.length, 3);
    assert.equal(recorder.bodyChunks[0]!.buffer, firstChunk.buffer);
    assert.equal(recorder.bodyChunks[1], middle, "a chunk that is all body is passed as is");
    assert.equal(recorder.bodyChunks[2]!.buffer, lastChunk.buffer);
    assert.deepStrictEqual(recorder.frames, [
      {
        message: { type: T.StreamResponse, streamId: "gen:1000", byteCount: 1000 },
        stream: payload,
      },
      { message: { type: T.RpcResponse, requestId: 3, body: Uint8Array.of(1) } },
    ]);
  });

  it("calls bodyEnd right after message for a zero-byte stream, then decodes on", () => {
    const events: string[] = [];
    const handler: FrameHandler = {
      message: (m) => events.push(`message ${m.type}`),
      body: () => events.push("body"),
      bodyEnd: () => events.push("bodyEnd"),
    };
    const decoder = new FrameDecoder(handler);
    decoder.push(concatBytes([
      wire({ type: T.UploadStream, requestId: 1, meta: Uint8Array.of(1), bodyByteCount: 0 }),
      wire({ type: T.StreamResponse, streamId: "x", byteCount: 0 }),
      wire({ type: T.StreamResponse, streamId: "y", byteCount: 2 }),
      Uint8Array.of(1, 2),
      wire({ type: T.StreamRequest, streamId: "z" }),
    ]));
    assert.deepStrictEqual(events, [
      "message 10",
      "bodyEnd",
      "message 7",
      "bodyEnd",
      "message 7",
      "body",
      "bodyEnd",
      "message 6",
    ]);
  });

  it("fails and propagates a handler's exception unchanged, without decoding further", () => {
    const boom = new Error("handler bug");
    const seen: Message[] = [];
    const decoder = new FrameDecoder({
      message(message) {
        seen.push(message);
        if (seen.length === 1) throw boom;
      },
      body() {},
      bodyEnd() {},
    });
    const bytes = concatBytes([
      wire({ type: T.StreamRequest, streamId: "a" }),
      wire({ type: T.StreamRequest, streamId: "b" }),
    ]);
    assert.throws(() => decoder.push(bytes), (error: unknown) => error === boom);
    assert.equal(seen.length, 1);
    assert.equal(decoder.state, "failed");
    assert.throws(
      () => decoder.push(bytes),
      (error: unknown) =>
        error instanceof ProtocolError && error.cause === boom && /handler bug/.test(error.message),
    );
  });

  it("fails when a body callback throws in the middle of a stream", () => {
    const decoder = new FrameDecoder({
      message() {},
      body() {
        throw new RangeError("sink full");
      },
      bodyEnd() {},
    });
    assert.throws(
      () =>
        decoder.push(
          concatBytes([
            wire({ type: T.StreamResponse, streamId: "s", byteCount: 5 }),
            Uint8Array.of(1),
          ]),
        ),
      RangeError,
    );
    assert.equal(decoder.state, "failed");
  });

  it("refuses to be re-entered from a handler callback", () => {
    let inner: unknown;
    const decoder: FrameDecoder = new FrameDecoder({
      message() {
        try {
          decoder.push(Uint8Array.of(0));
        } catch (error) {
          inner = error;
        }
      },
      body() {},
      bodyEnd() {},
    });
    decoder.push(wire({ type: T.StreamRequest, streamId: "a" }));
    assert.ok(inner instanceof TransportError);
    assert.match((inner as Error).message, /re-entered/);
    assert.equal(decoder.state, "frame-length", "the outer push was not disturbed");
  });

  it("canonicalises ids: a bigint in the safe range comes back as a number", () => {
    const recorder = new FrameRecorder();
    const decoder = new FrameDecoder(recorder);
    decoder.push(wire({ type: T.RpcFailure, requestId: 12n, error: "e" }));
    decoder.push(wire({ type: T.RpcFailure, requestId: -(2n ** 62n), error: "e" }));
    assert.deepStrictEqual(
      recorder.frames.map((f) => (f.message as { requestId: unknown }).requestId),
      [12, -(2n ** 62n)],
    );
  });

  it("keeps a leading U+FEFF and replaces malformed UTF-8 like Java does", () => {
    const recorder = new FrameRecorder();
    const decoder = new FrameDecoder(recorder);
    decoder.push(wire({ type: T.StreamRequest, streamId: "\ufeffid" }));
    const bad = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 16, 6, 0, 0, 0, 3, 0x61, 0xff, 0x62);
    decoder.push(bad);
    assert.deepStrictEqual(
      recorder.frames.map((f) => (f.message as { streamId: string }).streamId),
      ["\ufeffid", "a\ufffdb"],
    );
  });
});
