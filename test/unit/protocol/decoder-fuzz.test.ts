/**
 * Fuzz: random and mutated bytes fed to a FrameDecoder, whole and split at random points. The only
 * exception it may ever throw is a ProtocolError; splitting never changes the outcome; the handler
 * contract (checked by FrameRecorder) always holds.
 *
 * Case count: FERRY_FUZZ_CASES (default 100 000) across both properties; seed: FERRY_FUZZ_SEED.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ProtocolError } from "../../../src/errors.ts";
import { FrameDecoder } from "../../../src/protocol/decoder.ts";
import { encodeMessage } from "../../../src/protocol/encoder.ts";
import { concatBytes, FrameRecorder, type RecordedFrame } from "../../helpers/frame-recorder.ts";
import {
  FUZZ_CASES,
  FUZZ_SEED,
  mulberry32,
  type WireMessage,
  wireMessageArb,
} from "./message-arbitraries.ts";

/** Small, so random lengths often exceed it and valid-looking ones stay cheap. */
const MAX_FRAME = 512;
const FAST_CHECK_RUNS = Math.ceil(FUZZ_CASES * 0.05);
const LOOP_CASES = FUZZ_CASES - FAST_CHECK_RUNS;

console.log(
  `decoder fuzz: seed ${FUZZ_SEED}, ${FUZZ_CASES} cases (${FAST_CHECK_RUNS} fast-check, ` +
    `${LOOP_CASES} loop); FERRY_FUZZ_SEED / FERRY_FUZZ_CASES override`,
);

interface Outcome {
  frames: RecordedFrame[];
  error: string | undefined;
  state: string;
}

/**
 * Decodes `pieces`; any exception other than ProtocolError fails the test with the input. With
 * `pushAfterFailure`, also checks that a failed decoder keeps refusing input.
 */
function decode(
  pieces: readonly Uint8Array[],
  input: Uint8Array,
  pushAfterFailure = false,
): Outcome {
  const recorder = new FrameRecorder();
  const decoder = new FrameDecoder(recorder, { maxFrameLength: MAX_FRAME });
  let error: string | undefined;
  try {
    for (const piece of pieces) decoder.push(piece);
  } catch (thrown) {
    if (!(thrown instanceof ProtocolError)) {
      assert.fail(`non-ProtocolError ${String(thrown)} for input ${hex(input)}`);
    }
    error = thrown.message;
    assert.equal(decoder.state, "failed");
    if (pushAfterFailure) assert.throws(() => decoder.push(Uint8Array.of(0)), ProtocolError);
  }
  return { frames: recorder.frames, error, state: decoder.state };
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Decodes whole and split at `cuts`; both must agree. Returns whether the input was rejected. */
function check(input: Uint8Array, cuts: readonly number[], pushAfterFailure = false): boolean {
  const whole = decode([input.slice()], input, pushAfterFailure);
  const pieces: Uint8Array[] = [];
  let start = 0;
  for (const cut of [...cuts, input.length]) {
    if (cut > start) pieces.push(input.slice(start, cut));
    start = Math.max(start, cut);
  }
  const split = decode(pieces, input);
  if (whole.error !== split.error || whole.state !== split.state) {
    assert.fail(
      `split changed the outcome for ${hex(input)} at ${cuts}: ` +
        `${whole.state}/${whole.error} vs ${split.state}/${split.error}`,
    );
  }
  assert.deepStrictEqual(split.frames, whole.frames);
  return whole.error !== undefined;
}

/**
 * Runs `body` with V8 stack capture off: most fuzz inputs end in a ProtocolError, and capturing a
 * stack for each costs far more than decoding (10–20 µs per error on a slow core). Errors stay
 * real errors; only their `stack` is empty.
 */
function withoutStacks(body: () => void): void {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    body();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function toWire(items: readonly WireMessage[]): Uint8Array {
  return concatBytes(
    items.flatMap((
      item,
    ) => [...encodeMessage(item.message), ...(item.stream ? [item.stream] : [])]),
  );
}

const smallWireMessageArb = wireMessageArb.filter((item) => toWire([item]).length < MAX_FRAME - 8);

describe("FrameDecoder fuzz", () => {
  it("mutated valid streams (fast-check) only ever fail with ProtocolError", () => {
    const mutation = fc.record({
      position: fc.nat(),
      value: fc.integer({ min: 0, max: 255 }),
      kind: fc.constantFrom("set", "truncate", "insert", "length"),
    });
    withoutStacks(() =>
      fc.assert(
        fc.property(
          fc.array(smallWireMessageArb, { minLength: 1, maxLength: 3 }),
          fc.array(mutation, { minLength: 1, maxLength: 3 }),
          fc.array(fc.nat(), { maxLength: 4 }),
          (items, mutations, cuts) => {
            let bytes = toWire(items);
            for (const { position, value, kind } of mutations) {
              const at = position % (bytes.length + 1);
              if (kind === "set" && at < bytes.length) {
                bytes = bytes.slice();
                bytes[at] = value;
              } else if (kind === "truncate") {
                bytes = bytes.slice(0, at);
              } else if (kind === "insert") {
                bytes = concatBytes([
                  bytes.subarray(0, at),
                  Uint8Array.of(value),
                  bytes.subarray(at),
                ]);
              } else if (bytes.length >= 8) {
                // Rewrite the first frame's length byte 7: the most sensitive byte of the stream.
                bytes = bytes.slice();
                bytes[7] = value;
              }
            }
            check(bytes, cuts.map((cut) => cut % (bytes.length + 1)).sort((a, b) => a - b), true);
          },
        ),
        { seed: FUZZ_SEED, numRuns: FAST_CHECK_RUNS },
      )
    );
  });

  it("random, frame-shaped and mutated bytes (seeded loop) only ever fail with ProtocolError", () => {
    const random = mulberry32(FUZZ_SEED);
    const int = (below: number) => Math.floor(random() * below);
    // A pool of valid encodings to mutate, drawn from the same seed.
    const pool = fc.sample(fc.array(smallWireMessageArb, { minLength: 1, maxLength: 3 }), {
      seed: FUZZ_SEED,
      numRuns: 300,
    }).map(toWire);
    const outcomes = { failed: 0, clean: 0 };

    withoutStacks(() => {
      for (let n = 0; n < LOOP_CASES; n++) {
        let input: Uint8Array;
        switch (n % 3) {
          case 0: { // Pure noise.
            input = new Uint8Array(1 + int(48));
            for (let i = 0; i < input.length; i++) input[i] = int(256);
            break;
          }
          case 1: { // A plausible length and type, random fields.
            const content = int(64);
            input = new Uint8Array(9 + content + int(4));
            const view = new DataView(input.buffer);
            const length = int(8) === 0 ? int(2 ** 31) - 2 ** 30 : 9 + content + int(5) - 2;
            view.setInt32(0, length < 0 ? -1 : 0);
            view.setInt32(4, length);
            input[8] = int(15);
            for (let i = 9; i < input.length; i++) input[i] = int(8) === 0 ? int(256) : int(4);
            break;
          }
          default: { // A valid stream with 1–3 bytes overwritten.
            input = pool[int(pool.length)]!.slice();
            for (let k = 1 + int(3); k > 0; k--) input[int(input.length)] = int(256);
          }
        }
        const cuts: number[] = [];
        for (let k = int(4); k > 0; k--) cuts.push(int(input.length + 1));
        cuts.sort((a, b) => a - b);
        if (check(input, cuts, n % 64 === 0)) outcomes.failed++;
        else outcomes.clean++;
      }
    });
    // The generators must reach both sides: inputs that decode and inputs that are rejected.
    console.log(`decoder fuzz loop: ${outcomes.failed} rejected, ${outcomes.clean} accepted`);
    if (LOOP_CASES >= 1000) {
      assert.ok(outcomes.clean > LOOP_CASES / 50, "too few fuzz inputs decode cleanly");
      assert.ok(outcomes.failed > LOOP_CASES / 50, "too few fuzz inputs are rejected");
    }
  });
});
