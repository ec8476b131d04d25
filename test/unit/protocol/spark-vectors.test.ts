/**
 * Golden vectors from Spark 3.5.4's own encoder: Ferry must encode each message to exactly those
 * bytes and decode those bytes (split anywhere) back into the same message.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FrameDecoder } from "../../../src/protocol/decoder.ts";
import { encodeMessage, frameLength } from "../../../src/protocol/encoder.ts";
import { MessageType } from "../../../src/protocol/messages.ts";
import { concatBytes, FrameRecorder, type RecordedFrame } from "../../helpers/frame-recorder.ts";
import { bytesToHex, loadSparkVectors, type SparkVector } from "../../helpers/spark-vectors.ts";

const vectors = await loadSparkVectors();

function expectedFrames(vector: SparkVector): RecordedFrame[] {
  const streaming = vector.message.type === MessageType.StreamResponse ||
    vector.message.type === MessageType.UploadStream;
  return [
    streaming ? { message: vector.message, stream: vector.trailingBody } : {
      message: vector.message,
    },
  ];
}

function decodePieces(pieces: readonly Uint8Array[]): RecordedFrame[] {
  const recorder = new FrameRecorder();
  const decoder = new FrameDecoder(recorder);
  for (const piece of pieces) decoder.push(piece);
  assert.equal(decoder.state, "frame-length", "decoder should end between frames");
  assert.equal(recorder.inStream, false);
  return recorder.frames;
}

describe("Spark golden vectors", () => {
  it("covers every message type", () => {
    const types = new Set(vectors.map((vector) => vector.message.type));
    assert.deepEqual([...types].sort((a, b) => a - b), Object.values(MessageType));
  });

  for (const vector of vectors) {
    describe(vector.name, () => {
      it("encodes to Spark's exact bytes", () => {
        const chunks = encodeMessage(vector.message);
        assert.equal(bytesToHex(concatBytes(chunks)), bytesToHex(vector.frame));
        // What goes on the wire: the frame, then the raw bytes the caller writes after it.
        assert.equal(bytesToHex(concatBytes([...chunks, vector.trailingBody])), vector.hex);
        assert.equal(chunks.length, 1, "a small message is one chunk");
        assert.equal(frameLength(vector.message), vector.frameLength);
      });

      it("decodes Spark's bytes into the fields", () => {
        assert.deepStrictEqual(decodePieces([vector.wire.slice()]), expectedFrames(vector));
      });

      it("decodes identically when split at every byte boundary, or at any two", () => {
        const wire = vector.wire;
        const expected = expectedFrames(vector);
        for (let i = 0; i <= wire.length; i++) {
          for (let j = i; j <= wire.length; j++) {
            const pieces = [wire.slice(0, i), wire.slice(i, j), wire.slice(j)]
              .filter((piece) => piece.length > 0);
            assert.deepStrictEqual(decodePieces(pieces), expected, `split at ${i} and ${j}`);
          }
        }
      });

      it("decodes identically when fed one byte at a time", () => {
        const pieces = Array.from(vector.wire, (byte) => Uint8Array.of(byte));
        assert.deepStrictEqual(decodePieces(pieces), expectedFrames(vector));
      });
    });
  }

  it("decodes all vectors back to back from one stream, whole and byte by byte", () => {
    const stream = concatBytes(vectors.map((vector) => vector.wire));
    const expected = vectors.flatMap(expectedFrames);
    assert.deepStrictEqual(decodePieces([stream]), expected);
    assert.deepStrictEqual(decodePieces(Array.from(stream, (b) => Uint8Array.of(b))), expected);
  });
});
