/**
 * Loads the golden frames Spark 3.5.4's own encoder produced, kept in the repository as
 * `test/fixtures/spark-vectors.jsonl` (see `test/fixtures/README.md` for where they came from).
 * Override the location with the `FERRY_SPARK_VECTORS` environment variable (a path), to check
 * the codec against vectors recorded from another Spark version.
 *
 * Each vector becomes the {@linkcode Message} Ferry should encode to exactly the vector's frame
 * bytes and decode those bytes back into, plus the raw bytes that follow the frame for
 * StreamResponse / UploadStream.
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import process from "node:process";
import { canonicalInt64 } from "../../src/protocol/int64.ts";
import { type Message, MessageType } from "../../src/protocol/messages.ts";

/** One golden vector. */
export interface SparkVector {
  /** Unique name, e.g. `RpcRequest-big-id`. */
  readonly name: string;
  /** The message the frame carries (int64 ids in canonical form). */
  readonly message: Message;
  /** The frame-length field Spark wrote. */
  readonly frameLength: number;
  /** The frame exactly as Spark's encoder wrote it (header and in-frame body). */
  readonly frame: Uint8Array;
  /** Raw bytes written after the frame (StreamResponse / UploadStream payload), else empty. */
  readonly trailingBody: Uint8Array;
  /** `frame` followed by `trailingBody`: what travels on the wire. */
  readonly wire: Uint8Array;
  /** The vector's `hex` field (lowercase): `wire` as Spark printed it. */
  readonly hex: string;
}

/** Where the vectors file is: `test/fixtures/spark-vectors.jsonl` unless overridden. */
export function sparkVectorsLocation(): string | URL {
  const override = process.env.FERRY_SPARK_VECTORS;
  if (override) return override;
  return new URL("../fixtures/spark-vectors.jsonl", import.meta.url);
}

/** Reads and converts every vector. Throws with the location when the file is missing. */
export async function loadSparkVectors(): Promise<SparkVector[]> {
  const location = sparkVectorsLocation();
  let text: string;
  try {
    text = await readFile(location, "utf8");
  } catch (error) {
    throw new Error(
      `Cannot read Spark golden vectors at ${String(location)} (set FERRY_SPARK_VECTORS to ` +
        `override): ${(error as Error).message}`,
      { cause: error },
    );
  }
  const vectors: SparkVector[] = [];
  for (const [index, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    try {
      vectors.push(toVector(JSON.parse(line) as RawVector));
    } catch (error) {
      throw new Error(
        `Bad Spark vector on line ${index + 1} of ${String(location)}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  return vectors;
}

/** Hex (any case) to bytes. */
export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || /[^0-9a-f]/i.test(hex)) throw new Error(`Not hex: ${hex}`);
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/** Bytes to lowercase hex. */
export function bytesToHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

interface RawVector {
  name: string;
  type: string;
  typeId: number;
  fields: Record<string, unknown>;
  frameLength: number;
  headerHex: string;
  trailingBodyHex: string;
  hex: string;
}

function toVector(raw: RawVector): SparkVector {
  const frame = hexToBytes(raw.headerHex);
  const trailingBody = hexToBytes(raw.trailingBodyHex);
  const wire = hexToBytes(raw.hex);
  if (wire.length !== frame.length + trailingBody.length) {
    throw new Error(`hex is not headerHex + trailingBodyHex in ${raw.name}`);
  }
  return {
    name: raw.name,
    message: toMessage(raw),
    frameLength: raw.frameLength,
    frame,
    trailingBody,
    wire,
    hex: raw.hex.toLowerCase(),
  };
}

function toMessage(raw: RawVector): Message {
  const f = raw.fields;
  const type = raw.typeId;
  if (MessageType[raw.type as keyof typeof MessageType] !== type) {
    throw new Error(`type ${raw.type} does not have id ${type}`);
  }
  switch (type) {
    case MessageType.ChunkFetchRequest:
      return { type, streamId: int64(f.streamId), chunkIndex: int32(f.chunkIndex) };
    case MessageType.ChunkFetchSuccess:
      return {
        type,
        streamId: int64(f.streamId),
        chunkIndex: int32(f.chunkIndex),
        body: bytes(f, "body"),
      };
    case MessageType.ChunkFetchFailure:
      return {
        type,
        streamId: int64(f.streamId),
        chunkIndex: int32(f.chunkIndex),
        error: text(f.errorString),
      };
    case MessageType.RpcRequest:
    case MessageType.RpcResponse:
      return { type, requestId: int64(f.requestId), body: bytes(f, "body") };
    case MessageType.RpcFailure:
      return { type, requestId: int64(f.requestId), error: text(f.errorString) };
    case MessageType.StreamRequest:
      return { type, streamId: text(f.streamId) };
    case MessageType.StreamResponse:
      return { type, streamId: text(f.streamId), byteCount: int32(f.byteCount) };
    case MessageType.StreamFailure:
      return { type, streamId: text(f.streamId), error: text(f.error ?? f.errorString) };
    case MessageType.OneWayMessage:
      return { type, body: bytes(f, "body") };
    case MessageType.UploadStream:
      return {
        type,
        requestId: int64(f.requestId),
        meta: bytes(f, "meta"),
        bodyByteCount: int32(f.bodyByteCount),
      };
    case MessageType.MergedBlockMetaRequest:
      return {
        type,
        requestId: int64(f.requestId),
        appId: text(f.appId),
        shuffleId: int32(f.shuffleId),
        shuffleMergeId: int32(f.shuffleMergeId),
        reduceId: int32(f.reduceId),
      };
    case MessageType.MergedBlockMetaSuccess:
      return {
        type,
        requestId: int64(f.requestId),
        numChunks: int32(f.numChunks),
        body: bytes(f, "body"),
      };
    default:
      throw new Error(`unknown type id ${type}`);
  }
}

/** Ids may be JSON numbers or, beyond 2^53, decimal strings. */
function int64(value: unknown): number | bigint {
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  if (typeof value === "string" && /^-?\d+$/.test(value)) return canonicalInt64(BigInt(value));
  throw new Error(`not an int64: ${JSON.stringify(value)}`);
}

function int32(value: unknown): number {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  throw new Error(`not an integer: ${JSON.stringify(value)}`);
}

function text(value: unknown): string {
  if (typeof value === "string") return value;
  throw new Error(`not a string: ${JSON.stringify(value)}`);
}

/** A body given as `<name>_utf8` or `<name>_hex`. */
function bytes(fields: Record<string, unknown>, name: string): Uint8Array {
  const utf8 = fields[`${name}_utf8`];
  if (typeof utf8 === "string") return new TextEncoder().encode(utf8);
  const hex = fields[`${name}_hex`];
  if (typeof hex === "string") return hexToBytes(hex);
  throw new Error(`no ${name}_utf8 or ${name}_hex field`);
}
