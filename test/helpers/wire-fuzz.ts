/**
 * Seeded random wire traffic for fuzzing a live server: valid frames of every message type (with
 * the raw bytes that follow StreamResponse / UploadStream), and the same frames mutated — a byte
 * flipped, cut short, a frame length replaced, an unknown type, or plain garbage.
 *
 * @module
 */

import { encodeMessage } from "../../src/protocol/encoder.ts";
import { type Message, MessageType } from "../../src/protocol/messages.ts";
import { concat } from "./engine-fixtures.ts";

const T = MessageType;
const encoder = new TextEncoder();

export type Mutation = "valid" | "flip" | "truncate" | "length" | "type" | "garbage";

/** A random number source in [0, 1). */
export type Random = () => number;

const int = (random: Random, max: number) => Math.floor(random() * max);

function bytes(random: Random, max: number): Uint8Array {
  const out = new Uint8Array(int(random, max + 1));
  for (let i = 0; i < out.byteLength; i++) out[i] = int(random, 256);
  return out;
}

function id(random: Random): number {
  return random() < 0.5 ? int(random, 1000) : int(random, Number.MAX_SAFE_INTEGER);
}

function text(random: Random): string {
  const choices = ["gen:10", "gen:0", "nope", `${id(random)}_${int(random, 4)}`, "héllo ☃"];
  return choices[int(random, choices.length)]!;
}

/** One valid message and the raw bytes that follow it on the wire (if any). */
function message(random: Random): Uint8Array {
  const type = int(random, 13);
  let raw = 0;
  let msg: Message;
  switch (type) {
    case T.ChunkFetchRequest:
      msg = { type, streamId: id(random), chunkIndex: int(random, 60) };
      break;
    case T.ChunkFetchSuccess:
      msg = { type, streamId: id(random), chunkIndex: int(random, 60), body: bytes(random, 64) };
      break;
    case T.ChunkFetchFailure:
      msg = { type, streamId: id(random), chunkIndex: int(random, 60), error: text(random) };
      break;
    case T.RpcRequest:
      msg = {
        type,
        requestId: id(random),
        body: random() < 0.3 ? encoder.encode(`fail:${text(random)}`) : bytes(random, 200),
      };
      break;
    case T.RpcResponse:
      msg = { type, requestId: id(random), body: bytes(random, 64) };
      break;
    case T.RpcFailure:
      msg = { type, requestId: id(random), error: text(random) };
      break;
    case T.StreamRequest:
      msg = { type, streamId: text(random) };
      break;
    case T.StreamResponse:
      raw = int(random, 100);
      msg = { type, streamId: text(random), byteCount: raw };
      break;
    case T.StreamFailure:
      msg = { type, streamId: text(random), error: text(random) };
      break;
    case T.OneWayMessage:
      msg = { type, body: bytes(random, 100) };
      break;
    case T.UploadStream:
      raw = int(random, 300);
      msg = { type, requestId: id(random), meta: bytes(random, 20), bodyByteCount: raw };
      break;
    case T.MergedBlockMetaRequest:
      msg = {
        type,
        requestId: id(random),
        appId: text(random),
        shuffleId: int(random, 100),
        shuffleMergeId: int(random, 100),
        reduceId: int(random, 100),
      };
      break;
    default:
      msg = {
        type: T.MergedBlockMetaSuccess,
        requestId: id(random),
        numChunks: int(random, 9),
        body: bytes(random, 32),
      };
  }
  const frame = concat(encodeMessage(msg));
  if (raw === 0) return frame;
  const body = new Uint8Array(raw);
  for (let i = 0; i < raw; i++) body[i] = int(random, 256);
  return concat([frame, body]);
}

/** One frame, valid or mutated; `mutateRate` is the chance of a mutation. */
export function fuzzFrame(
  random: Random,
  mutateRate: number,
): { bytes: Uint8Array; kind: Mutation } {
  const frame = message(random);
  if (random() >= mutateRate) return { bytes: frame, kind: "valid" };
  const kinds: Mutation[] = ["flip", "truncate", "length", "type", "garbage"];
  const kind = kinds[int(random, kinds.length)]!;
  const out = frame.slice();
  const view = new DataView(out.buffer);
  switch (kind) {
    case "flip": {
      const at = int(random, out.byteLength);
      out[at] = out[at]! ^ (1 << int(random, 8));
      return { bytes: out, kind };
    }
    case "truncate":
      return { bytes: out.subarray(0, int(random, out.byteLength)), kind };
    case "length": {
      const choices = [0n, 1n, 8n, 9n, -1n, 2n ** 62n, BigInt(int(random, 1 << 24))];
      view.setBigInt64(0, choices[int(random, choices.length)]!);
      return { bytes: out, kind };
    }
    case "type":
      out[8] = 13 + int(random, 243);
      return { bytes: out, kind };
    default:
      return { bytes: bytes(random, 64), kind };
  }
}
