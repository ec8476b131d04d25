/**
 * The decoder's request-body limit (`maxRequestBodyBytes`, a serving handler's own request limit
 * such as a ServiceRouter's `maxServiceRequestBytes`): an RpcRequest or OneWayMessage whose body
 * is over it is skipped (read and discarded, never buffered) and reported naming that limit, while
 * frames of every other type above it (an upload's meta, a chunk, a reply) are received as usual.
 * Every split of the bytes gives the same outcome.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { InvalidArgumentError } from "../../../src/errors.ts";
import { FrameDecoder } from "../../../src/protocol/decoder.ts";
import { encodeMessage } from "../../../src/protocol/encoder.ts";
import { type Message, MessageType } from "../../../src/protocol/messages.ts";
import type { OversizedFrame } from "../../../src/protocol/oversized-frame.ts";
import { describeOversizedFrame } from "../../../src/protocol/oversized-frame.ts";
import { concatBytes, FrameRecorder } from "../../helpers/frame-recorder.ts";
import { FUZZ_SEED } from "./message-arbitraries.ts";

const MAX_FRAME = 4096;
const MAX_BODY = 100;

function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 7 + seed) & 0xff;
  return out;
}

const wire = (message: Message) => concatBytes(encodeMessage(message));

class Recorder extends FrameRecorder {
  readonly log: unknown[] = [];
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
    this.log.push({ skipped: describeOversizedFrame(frame) });
  }
}

const atLimit: Message = { type: MessageType.RpcRequest, requestId: 1, body: bytes(MAX_BODY, 1) };
const overLimit: Message = {
  type: MessageType.RpcRequest,
  requestId: 2,
  body: bytes(MAX_BODY + 1, 2),
};
const oneWayAtLimit: Message = { type: MessageType.OneWayMessage, body: bytes(MAX_BODY, 3) };
const oneWayOver: Message = { type: MessageType.OneWayMessage, body: bytes(3000, 4) };
const upload: Message = {
  type: MessageType.UploadStream,
  requestId: 5,
  meta: bytes(1000, 5),
  bodyByteCount: 300,
};
const uploadBody = bytes(300, 6);
const chunk: Message = {
  type: MessageType.ChunkFetchSuccess,
  streamId: 7,
  chunkIndex: 0,
  body: bytes(2000, 7),
};
const reply: Message = { type: MessageType.RpcResponse, requestId: 8, body: bytes(1500, 8) };
const failure: Message = { type: MessageType.RpcFailure, requestId: 9, error: "e".repeat(500) };

const input = concatBytes([
  wire(atLimit),
  wire(overLimit),
  wire(oneWayAtLimit),
  wire(oneWayOver),
  wire(upload),
  uploadBody,
  wire(chunk),
  wire(reply),
  wire(failure),
  wire(atLimit),
]);
const expected = [
  atLimit,
  { skipped: "RpcRequest body of 101 bytes is over maxServiceRequestBytes (100 bytes)" },
  oneWayAtLimit,
  { skipped: "OneWayMessage body of 3000 bytes is over maxServiceRequestBytes (100 bytes)" },
  upload,
  chunk,
  reply,
  failure,
  atLimit,
];

function decodeSplit(cuts: readonly number[]): Recorder {
  const recorder = new Recorder();
  const decoder = new FrameDecoder(recorder, {
    maxFrameLength: MAX_FRAME,
    maxRequestBodyBytes: MAX_BODY,
    requestLimitName: "maxServiceRequestBytes",
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

describe("FrameDecoder request-body limit", () => {
  it("skips requests over it, naming it, and receives every other frame", () => {
    const recorder = decodeSplit([]);
    assert.deepEqual(recorder.log, expected);
    const uploaded = recorder.frames.find((f) => f.message.type === MessageType.UploadStream);
    assert.deepEqual(uploaded?.stream, uploadBody);
  });

  it("gives the same outcome for every split, and never buffers a skipped request", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: input.length }), { maxLength: 40 }),
        (cuts) => {
          const recorder = decodeSplit(cuts);
          assert.deepEqual(recorder.log, expected);
          for (const size of recorder.allocations) assert.ok(size < 2500, String(size));
        },
      ),
      { seed: FUZZ_SEED, numRuns: 400 },
    );
  });

  it("is validated", () => {
    for (const bad of [-1, 1.5, Number.NaN]) {
      assert.throws(
        () => new FrameDecoder(new Recorder(), { maxRequestBodyBytes: bad }),
        (error: unknown) =>
          error instanceof InvalidArgumentError && /maxRequestBodyBytes/.test(error.message),
      );
    }
  });
});
