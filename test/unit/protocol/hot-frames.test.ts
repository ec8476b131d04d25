/**
 * The hand-written codecs of the hottest frames (src/protocol/hot-frames.ts) against the general,
 * table-driven path (message-fields.ts): for random messages of every type, in valid and invalid
 * forms, and for random and corrupted frames, whatever a fast path handles comes out exactly as
 * the general path makes it — the same bytes in the same regions and pass-through chunks when
 * encoding, the same message when decoding — and whatever it does not handle, it leaves untouched.
 * fast-check prints the seed and the shrunk counterexample of a failure (FERRY_FUZZ_SEED replays).
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { encodeByTable, encodeFrame, type FrameOutput } from "../../../src/protocol/encoder.ts";
import { FrameReader } from "../../../src/protocol/frame-reader.ts";
import {
  encodeHotFrame,
  readHotFrame,
  readSplitFrame,
  splitHeadLength,
} from "../../../src/protocol/hot-frames.ts";
import { MAX_STRINGS, messageFields, rawBodyField } from "../../../src/protocol/message-fields.ts";
import {
  type Int64,
  type Message,
  MessageType,
  messageTypeName,
} from "../../../src/protocol/messages.ts";
import { concatBytes, FrameRecorder } from "../../helpers/frame-recorder.ts";
import { FUZZ_SEED, int64Arb, wireMessageArb } from "./message-arbitraries.ts";

console.log(`hot frames vs the table: fast-check seed ${FUZZ_SEED} (FERRY_FUZZ_SEED overrides)`);

const T = MessageType;
const HOT_TYPES = [T.ChunkFetchRequest, T.ChunkFetchSuccess, T.RpcRequest, T.RpcResponse];

/** An output that records what is reserved (with guard bytes around) and passed through. */
class RecordingOutput implements FrameOutput {
  bytes = new Uint8Array(0);
  view = new DataView(this.bytes.buffer);
  offset = 0;
  readonly #parts: { region?: Uint8Array; chunk?: Uint8Array }[] = [];

  reserve(length: number): void {
    // 8 guard bytes either side: writing outside the region shows up as a non-zero guard.
    this.bytes = new Uint8Array(length + 16);
    this.view = new DataView(this.bytes.buffer);
    this.offset = 8;
    this.#parts.push({ region: this.bytes });
  }

  passThrough(chunk: Uint8Array): void {
    this.#parts.push({ chunk });
  }

  get touched(): boolean {
    return this.#parts.length > 0;
  }

  /** Each region's bytes, and each passed-through chunk (which must be the caller's object). */
  parts(): (Uint8Array | { passedThrough: Uint8Array })[] {
    return this.#parts.map(({ region, chunk }) => {
      if (chunk !== undefined) return { passedThrough: chunk };
      const guards = [...region!.subarray(0, 8), ...region!.subarray(region!.length - 8)];
      assert.deepEqual(guards, new Array(16).fill(0), "wrote outside the reserved region");
      return region!.slice(8, region!.length - 8);
    });
  }
}

const int32Arb = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
/** Values the fast paths must either handle exactly like the table, or leave to it. */
const oddInt64Arb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: int64Arb },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 2 ** 32 + 5 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(1.5, NaN, 2 ** 53, -(2 ** 53), -0, 5n, -1n, 2n ** 63n, "7", null),
  },
);
const oddInt32Arb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: int32Arb },
  {
    weight: 1,
    arbitrary: fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 0.5, NaN, Infinity, -0, 5n, "3", undefined),
  },
);
const oddBodyArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 16_380, max: 16_390 }).map((n) => new Uint8Array(n)) },
  { weight: 1, arbitrary: fc.constantFrom("text", [1, 2], null, undefined, new Uint16Array(2)) },
);

/** Hot messages with fields of every shape, valid or not. */
const oddHotMessageArb: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({
    type: fc.constant(T.ChunkFetchRequest),
    streamId: oddInt64Arb,
    chunkIndex: oddInt32Arb,
  }),
  fc.record({
    type: fc.constant(T.ChunkFetchSuccess),
    streamId: oddInt64Arb,
    chunkIndex: oddInt32Arb,
    body: oddBodyArb,
  }),
  fc.record({
    type: fc.constantFrom(T.RpcRequest, T.RpcResponse),
    requestId: oddInt64Arb,
    body: oddBodyArb,
  }),
).map((message) => ({ ...message }));

function encodeGeneral(message: Message): ReturnType<RecordingOutput["parts"]> | Error {
  const output = new RecordingOutput();
  try {
    encodeByTable(message, output);
  } catch (error) {
    assert.equal(output.touched, false, "the general path threw after writing");
    return error as Error;
  }
  return output.parts();
}

function checkEncoding(message: Message): boolean {
  const general = encodeGeneral(message);
  const hot = new RecordingOutput();
  const handled = encodeHotFrame(message, hot);
  if (!handled) {
    assert.equal(hot.touched, false, "a fast path that declined wrote something");
    return false;
  }
  assert.ok(
    !(general instanceof Error),
    `the fast path encoded what the table rejects: ${general}`,
  );
  assert.deepStrictEqual(hot.parts(), general);
  // encodeFrame, the public entry, takes the fast path and so writes the same.
  const entry = new RecordingOutput();
  encodeFrame(message, entry);
  assert.deepStrictEqual(entry.parts(), general);
  return true;
}

/** The frame (type byte first, length field dropped) the table encodes for `message`. */
function frameOf(message: Message): Uint8Array {
  const parts = encodeGeneral(message);
  if (parts instanceof Error) throw parts;
  const bytes = concatBytes(
    parts.map((part) => part instanceof Uint8Array ? part : part.passedThrough),
  );
  return bytes.subarray(8);
}

/** Records RpcResponses of the `rpcResponse` fast path as messages, counting them. */
class RpcResponseRecorder extends FrameRecorder {
  rpcResponses = 0;
  rpcResponse(requestId: Int64, body: Uint8Array): void {
    this.rpcResponses++;
    this.message({ type: T.RpcResponse, requestId, body });
  }
}

function readGeneral(frame: Uint8Array): Message | Error {
  try {
    return new FrameReader().read(
      frame,
      new DataView(frame.buffer, frame.byteOffset),
      0,
      frame.length,
    );
  } catch (error) {
    return error as Error;
  }
}

/** Checks every decoding fast path on `frame`; returns how many of them handled it. */
function checkDecoding(frame: Uint8Array): number {
  const general = readGeneral(frame);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  let handled = 0;
  for (const recorder of [new FrameRecorder(), new RpcResponseRecorder()]) {
    if (readHotFrame(frame, view, 0, frame.length, recorder)) {
      handled++;
      assert.ok(
        !(general instanceof Error),
        `the fast path read what the table rejects: ${general}`,
      );
      assert.deepStrictEqual(recorder.frames, [{ message: general }]);
      if (recorder instanceof RpcResponseRecorder) {
        assert.equal(recorder.rpcResponses, general.type === T.RpcResponse ? 1 : 0);
      }
    } else {
      assert.deepStrictEqual(recorder.frames, [], "a fast path that declined delivered something");
    }
  }
  // The split form: the head (as the decoder holds it) and the body as a chunk of its own.
  const headLength = splitHeadLength(frame[0]!);
  if (headLength > 0 && frame.length >= headLength) {
    const head = frame.slice(0, headLength);
    const body = frame.slice(headLength);
    const recorder = new FrameRecorder();
    if (readSplitFrame(head, new DataView(head.buffer), body, recorder)) {
      handled++;
      assert.ok(
        !(general instanceof Error),
        `the split path read what the table rejects: ${general}`,
      );
      assert.deepStrictEqual(recorder.frames, [{ message: general }]);
    } else {
      assert.deepStrictEqual(recorder.frames, []);
    }
  }
  return handled;
}

/** A frame made from a valid one: bytes changed, cut short, or extended. */
const corruptedFrameArb: fc.Arbitrary<Uint8Array> = fc.tuple(
  wireMessageArb,
  fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 3 }),
  fc.nat(),
  fc.uint8Array({ maxLength: 6 }),
  fc.constantFrom("mutate", "cut", "extend", "length"),
).map(([{ message }, changes, at, extra, how]) => {
  const frame = frameOf(message).slice();
  switch (how) {
    case "mutate":
      for (const [index, value] of changes) frame[index % frame.length] = value;
      return frame;
    case "cut":
      return frame.slice(0, 1 + (at % frame.length));
    case "extend":
      return concatBytes([frame, extra]);
    default: {
      // The int32 after the id (a body length, a chunk index), or the first int32, changed.
      const offset = frame.length >= 13 ? 9 : 1;
      if (frame.length >= offset + 4) {
        new DataView(frame.buffer).setInt32(offset, (at % 40) - 8 + (frame.length - 13));
      }
      return frame;
    }
  }
});

describe("the message table", () => {
  it("has one row per message type, in id order, named as messageTypeName", () => {
    assert.deepEqual(messageFields.map((spec) => spec.type), Object.values(MessageType));
    for (const spec of messageFields) assert.equal(spec.name, messageTypeName[spec.type]);
    assert.equal(MAX_STRINGS, 2);
    assert.deepEqual(
      rawBodyField.flatMap((field, type) => field === undefined ? [] : [[type, field]]),
      [[T.StreamResponse, "byteCount"], [T.UploadStream, "bodyByteCount"]],
    );
  });
});

describe("hot frames match the table", () => {
  it("encoding: random messages of every type, valid or not, give the table's bytes", () => {
    const handledTypes = new Set<number>();
    fc.assert(
      fc.property(
        fc.oneof(wireMessageArb.map((item) => item.message as unknown), oddHotMessageArb),
        (message) => {
          if (checkEncoding(message as Message)) handledTypes.add((message as Message).type);
        },
      ),
      { seed: FUZZ_SEED, numRuns: 20_000 },
    );
    // Every hot type took its fast path; no other type did.
    assert.deepEqual([...handledTypes].sort((a, b) => a - b), HOT_TYPES);
  });

  it("decoding: frames of every type, valid and corrupted, give the table's message", () => {
    let handled = 0;
    fc.assert(
      fc.property(
        fc.oneof(wireMessageArb.map(({ message }) => frameOf(message)), corruptedFrameArb),
        (frame) => {
          handled += checkDecoding(frame);
        },
      ),
      { seed: FUZZ_SEED, numRuns: 20_000 },
    );
    console.log(`fast paths handled ${handled} of the decodes`);
    assert.ok(handled > 5_000, `the fast paths handled only ${handled} decodes`);
  });

  it("common hot frames take the fast paths", () => {
    const body = new Uint8Array(100).fill(7);
    const messages: Message[] = [
      { type: T.ChunkFetchRequest, streamId: 2 ** 40 + 3, chunkIndex: -1 },
      { type: T.ChunkFetchSuccess, streamId: -5, chunkIndex: 3, body },
      { type: T.ChunkFetchSuccess, streamId: 5, chunkIndex: 3, body: new Uint8Array(20_000) },
      { type: T.RpcRequest, requestId: 2 ** 32 - 1, body },
      { type: T.RpcResponse, requestId: 0, body: new Uint8Array(0) },
    ];
    for (const message of messages) {
      assert.equal(checkEncoding(message), true, messageTypeName[message.type]);
      // Both whole-frame recorders, and the split form too for a frame with a body.
      assert.equal(checkDecoding(frameOf(message)), message.type === T.ChunkFetchRequest ? 2 : 3);
    }
    // A bigint id, and a 64-bit request id, are the general path's.
    assert.equal(checkEncoding({ type: T.ChunkFetchRequest, streamId: 5n, chunkIndex: 0 }), false);
    assert.equal(checkEncoding({ type: T.RpcRequest, requestId: 2 ** 32, body }), false);
  });
});
