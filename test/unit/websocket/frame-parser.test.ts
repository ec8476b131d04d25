/**
 * The client's RFC 6455 frame parser: payloads stream out as views whatever the split, control
 * frames come out whole, and every rule a server frame can break fails with a ProtocolError
 * carrying the close code it deserves.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ProtocolError } from "../../../src/errors.ts";
import {
  type ControlOpcode,
  Opcode,
  WebSocketFrameParser,
  WebSocketProtocolError,
} from "../../../src/websocket/frame-parser.ts";
import { concatBytes } from "../../helpers/frame-recorder.ts";
import { FUZZ_SEED } from "../protocol/message-arbitraries.ts";

/** A server frame (never masked): FIN/opcode byte, minimal length encoding, payload. */
export function serverFrame(
  opcode: number,
  payload: Uint8Array,
  { fin = true, rsv = 0, masked = false, lengthBytes }: {
    fin?: boolean;
    rsv?: number;
    masked?: boolean;
    lengthBytes?: 0 | 2 | 8;
  } = {},
): Uint8Array {
  const length = payload.length;
  const size = lengthBytes ?? (length < 126 ? 0 : length < 0x10000 ? 2 : 8);
  const header = new Uint8Array(2 + size + (masked ? 4 : 0));
  header[0] = (fin ? 0x80 : 0) | rsv | opcode;
  const mask = masked ? 0x80 : 0;
  const view = new DataView(header.buffer);
  if (size === 0) header[1] = mask | length;
  else if (size === 2) {
    header[1] = mask | 126;
    view.setUint16(2, length);
  } else {
    header[1] = mask | 127;
    view.setBigUint64(2, BigInt(length));
  }
  return concatBytes([header, payload]);
}

class Recorder {
  readonly data: Uint8Array[] = [];
  readonly controls: { opcode: ControlOpcode; payload: number[] }[] = [];
  readonly parser = new WebSocketFrameParser({
    data: (chunk) => this.data.push(chunk),
    control: (opcode, payload) => this.controls.push({ opcode, payload: [...payload] }),
  }, "ws connection to test");
  bytes(): Uint8Array {
    return concatBytes(this.data);
  }
}

function pattern(length: number, seed = 7): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 13 + seed) & 0xff;
  return bytes;
}

/** Pushes `bytes` cut at `cuts` (sorted offsets). */
function pushSplit(parser: WebSocketFrameParser, bytes: Uint8Array, cuts: number[]): void {
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut > from) parser.push(bytes.subarray(from, cut));
    from = Math.max(from, cut);
  }
}

describe("WebSocketFrameParser", () => {
  it("streams binary payloads as views of the pushed chunk, in every length encoding", () => {
    for (const length of [1, 125, 126, 65_535, 65_536, 200_000]) {
      const recorder = new Recorder();
      const payload = pattern(length);
      const frame = serverFrame(Opcode.binary, payload);
      recorder.parser.push(frame);
      assert.equal(recorder.data.length, 1);
      assert.equal(recorder.data[0]!.buffer, frame.buffer, "a view, not a copy");
      assert.deepEqual(recorder.bytes(), payload);
      assert.equal(recorder.parser.state, "header");
    }
  });

  it("tells how much of a payload is left while it streams", () => {
    const recorder = new Recorder();
    const frame = serverFrame(Opcode.binary, pattern(1000));
    recorder.parser.push(frame.subarray(0, 4 + 100));
    assert.equal(recorder.parser.state, "data-payload");
    assert.equal(recorder.parser.dataRemaining, 900);
    recorder.parser.push(frame.subarray(104));
    assert.equal(recorder.parser.dataRemaining, 0);
  });

  it("accepts non-minimal length encodings, empty frames and fragmented messages", () => {
    const recorder = new Recorder();
    recorder.parser.push(concatBytes([
      serverFrame(Opcode.binary, pattern(5), { lengthBytes: 8 }),
      serverFrame(Opcode.binary, new Uint8Array(0)),
      serverFrame(Opcode.binary, pattern(3, 1), { fin: false }),
      serverFrame(Opcode.ping, Uint8Array.of(1, 2)),
      serverFrame(Opcode.continuation, new Uint8Array(0), { fin: false }),
      serverFrame(Opcode.continuation, pattern(4, 2)),
    ]));
    assert.deepEqual(recorder.bytes(), concatBytes([pattern(5), pattern(3, 1), pattern(4, 2)]));
    assert.deepEqual(recorder.controls, [{ opcode: Opcode.ping, payload: [1, 2] }]);
  });

  it("gives the same bytes and controls whatever the split (fast-check)", () => {
    const frameArb = fc.oneof(
      fc.record({
        kind: fc.constant("data" as const),
        length: fc.integer({ min: 0, max: 70_000 }),
      }),
      fc.record({
        kind: fc.constantFrom("ping" as const, "pong" as const),
        length: fc.integer({ min: 0, max: 125 }),
      }),
    );
    fc.assert(
      fc.property(
        fc.array(frameArb, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (frames, rawCuts) => {
          const wire: Uint8Array[] = [];
          const expectedData: Uint8Array[] = [];
          const expectedControls: { opcode: ControlOpcode; payload: number[] }[] = [];
          frames.forEach((frame, i) => {
            const payload = pattern(frame.length, i);
            if (frame.kind === "data") {
              wire.push(serverFrame(Opcode.binary, payload));
              expectedData.push(payload);
            } else {
              const opcode = frame.kind === "ping" ? Opcode.ping : Opcode.pong;
              wire.push(serverFrame(opcode, payload));
              expectedControls.push({ opcode, payload: [...payload] });
            }
          });
          const bytes = concatBytes(wire);
          const cuts = rawCuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b);
          const recorder = new Recorder();
          pushSplit(recorder.parser, bytes, cuts);
          assert.deepEqual(recorder.bytes(), concatBytes(expectedData));
          assert.deepEqual(recorder.controls, expectedControls);
          assert.equal(recorder.parser.state, "header");
        },
      ),
      { seed: FUZZ_SEED, numRuns: 200 },
    );
  });

  it("refuses what a server must not send, with the close code it deserves", () => {
    const cases: [string, Uint8Array, RegExp, number][] = [
      ["text", serverFrame(Opcode.text, pattern(3)), /text message/, 1003],
      ["rsv", serverFrame(Opcode.binary, pattern(3), { rsv: 0x40 }), /reserved bits/, 1002],
      ["masked", serverFrame(Opcode.binary, pattern(3), { masked: true }), /masked frame/, 1002],
      ["opcode", serverFrame(0x3, pattern(3)), /reserved opcode 3/, 1002],
      ["continuation", serverFrame(Opcode.continuation, pattern(3)), /no fragmented message/, 1002],
      [
        "fragmented control",
        serverFrame(Opcode.ping, pattern(3), { fin: false }),
        /fragmented control frame/,
        1002,
      ],
      ["long control", serverFrame(Opcode.close, pattern(126)), /126-byte payload/, 1002],
      [
        "interleaved",
        concatBytes([
          serverFrame(Opcode.binary, pattern(3), { fin: false }),
          serverFrame(Opcode.binary, pattern(3)),
        ]),
        /before the fragmented one/,
        1002,
      ],
    ];
    for (const [name, bytes, message, closeCode] of cases) {
      const recorder = new Recorder();
      assert.throws(
        () => recorder.parser.push(bytes),
        (error: unknown) => {
          assert.ok(error instanceof WebSocketProtocolError, name);
          assert.ok(error instanceof ProtocolError, name);
          assert.match(error.message, message, name);
          assert.match(error.message, /ws connection to test/, name);
          assert.equal(error.closeCode, closeCode, name);
          return true;
        },
      );
      assert.equal(recorder.parser.state, "failed", name);
      assert.throws(() => recorder.parser.push(Uint8Array.of(0x82)), /already failed/, name);
    }
  });

  it("refuses a 64-bit length beyond 2^53 - 1 before any payload", () => {
    const header = Uint8Array.of(0x82, 127, 0x00, 0x20, 0, 0, 0, 0, 0, 0);
    const recorder = new Recorder();
    assert.throws(() => recorder.parser.push(header), /above 2\^53 - 1/);
  });

  it("on arbitrary bytes either parses or fails with a WebSocketProtocolError (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { minLength: 1, maxLength: 8 }),
        (chunks) => {
          const recorder = new Recorder();
          try {
            for (const chunk of chunks) recorder.parser.push(chunk);
          } catch (error) {
            assert.ok(error instanceof WebSocketProtocolError, String(error));
            assert.equal(recorder.parser.state, "failed");
            return;
          }
          assert.notEqual(recorder.parser.state, "failed");
          const delivered = recorder.data.reduce((n, c) => n + c.length, 0);
          const pushed = chunks.reduce((n, c) => n + c.length, 0);
          assert.ok(delivered < pushed, "headers are never delivered as payload");
        },
      ),
      { seed: FUZZ_SEED, numRuns: 2000 },
    );
  });

  it("fails and stays failed when a handler throws", () => {
    const parser = new WebSocketFrameParser({
      data: () => {
        throw new Error("sink broke");
      },
      control: () => {},
    }, "t");
    assert.throws(() => parser.push(serverFrame(Opcode.binary, pattern(4))), /sink broke/);
    assert.equal(parser.state, "failed");
  });
});
