/**
 * The client's frame encoder: every frame is masked with a fresh key, unmasks to the payload in
 * every length encoding and alignment, and leaves the caller's payload untouched.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { closePayload, encodeClientFrame, MaskKeys } from "../../../src/websocket/frame-encoder.ts";
import { Opcode } from "../../../src/websocket/frame-parser.ts";

/** Reads a masked client frame back: FIN, opcode, mask key and unmasked payload. */
function decodeClientFrame(frame: Uint8Array) {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  assert.equal(frame[1]! & 0x80, 0x80, "client frames are masked");
  let length = frame[1]! & 0x7f;
  let at = 2;
  if (length === 126) {
    length = view.getUint16(2);
    at = 4;
  } else if (length === 127) {
    length = Number(view.getBigUint64(2));
    at = 10;
  }
  const key = frame.slice(at, at + 4);
  const payload = frame.slice(at + 4);
  assert.equal(payload.length, length, "length field matches the payload");
  for (let i = 0; i < payload.length; i++) payload[i]! ^= key[i & 3]!;
  return { fin: (frame[0]! & 0x80) !== 0, opcode: frame[0]! & 0x0f, key, payload };
}

function pattern(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 29 + 3) & 0xff;
  return bytes;
}

describe("encodeClientFrame", () => {
  it("round-trips every length encoding, aligned or not, without touching the payload", () => {
    const keys = new MaskKeys();
    for (const length of [0, 1, 3, 63, 64, 65, 125, 126, 127, 65_535, 65_536, 70_001]) {
      for (const shift of [0, 1, 2, 3]) {
        const backing = pattern(length + shift);
        const payload = backing.subarray(shift);
        const before = payload.slice();
        const frame = encodeClientFrame(Opcode.binary, payload, keys);
        const decoded = decodeClientFrame(frame);
        assert.equal(decoded.fin, true);
        assert.equal(decoded.opcode, Opcode.binary);
        assert.deepEqual(decoded.payload, before, `length ${length}, offset ${shift}`);
        assert.deepEqual(payload, before, "the caller's payload is untouched");
      }
    }
  });

  it("uses a different key for each frame", () => {
    const keys = new MaskKeys();
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      seen.add(
        decodeClientFrame(encodeClientFrame(Opcode.ping, new Uint8Array(0), keys)).key.join(),
      );
    }
    assert.ok(seen.size > 1990, `${seen.size} distinct keys of 2000`);
  });

  it("builds close payloads whose reason stays valid UTF-8 within 123 bytes", () => {
    assert.deepEqual([...closePayload(1000)], [0x03, 0xe8]);
    const long = closePayload(4000, "⛴".repeat(100));
    assert.ok(long.length <= 125);
    assert.equal((long[0]! << 8) | long[1]!, 4000);
    const reason = new TextDecoder("utf-8", { fatal: true }).decode(long.subarray(2));
    assert.equal(reason, "⛴".repeat(41));
  });
});
