/**
 * The frame-length limits one {@linkcode FrameDecoder} applies, and what they decide:
 *
 * - a length up to the *plain limit* (`maxFrameLength`, or less when the inbound memory budget is
 *   smaller) is received without a look at the frame's head: the decoder's hot path;
 * - a longer one up to the *ceiling* waits for its head (type byte and id fields) and
 *   {@linkcode FrameLimits.exceeded} then says whether it is a reply within `maxReplyFrameLength`
 *   (received as usual) or which limit it is over (skipped, or a protocol error where the handler
 *   cannot be told). A request-body limit (`maxRequestBodyBytes`, the serving handler's own)
 *   lowers the plain limit below it, so frames of other types above it are received as usual
 *   after the look at their type byte;
 * - a length above the ceiling (Spark's 2 GiB − 1 when frames can be skipped), below 9 or beyond
 *   ±(2^53 − 1) fails at once.
 *
 * @module
 */

import { InvalidArgumentError, ProtocolError } from "../errors.ts";
import { defaultLimits } from "../limits.ts";
import type { Int64 } from "./messages.ts";
import { MessageType } from "./messages.ts";
import {
  type FrameLimitExceeded,
  ONE_WAY_OVERHEAD,
  RPC_REQUEST_OVERHEAD,
  SPARK_MAX_FRAME_LENGTH,
} from "./oversized-frame.ts";

/** Bytes of the frame-length field; the smallest frame is this plus the type byte. */
export const LENGTH_FIELD = 8;
export const MIN_FRAME_LENGTH = LENGTH_FIELD + 1;

export interface FrameLimitOptions {
  readonly maxFrameLength?: number;
  readonly maxReplyFrameLength?: number;
  /** Largest RpcRequest / OneWayMessage body taken (default: what `maxFrameLength` allows). */
  readonly maxRequestBodyBytes?: number;
  /** The name of `maxRequestBodyBytes` in reports (default `"maxRequestBodyBytes"`). */
  readonly requestLimitName?: string;
}

/** The inputs of the last {@linkcode FrameLimits} made by {@linkcode frameLimitsFor}, and it. */
let last:
  | {
    readonly options: FrameLimitOptions;
    readonly memoryLimit: number | undefined;
    readonly canSkip: boolean;
    readonly limits: FrameLimits;
  }
  | undefined;

/**
 * `new FrameLimits(...)`, or the last one made when its inputs were the same: the limits are
 * immutable, and a server makes one decoder per connection with the same options, so its idle
 * connections share one instead of holding one each.
 */
export function frameLimitsFor(
  options: FrameLimitOptions,
  memoryLimit: number | undefined,
  canSkip: boolean,
): FrameLimits {
  const seen = last;
  if (
    seen !== undefined && seen.memoryLimit === memoryLimit && seen.canSkip === canSkip &&
    seen.options.maxFrameLength === options.maxFrameLength &&
    seen.options.maxReplyFrameLength === options.maxReplyFrameLength &&
    seen.options.maxRequestBodyBytes === options.maxRequestBodyBytes &&
    seen.options.requestLimitName === options.requestLimitName
  ) {
    return seen.limits;
  }
  const limits = new FrameLimits(options, memoryLimit, canSkip);
  last = {
    options: {
      maxFrameLength: options.maxFrameLength,
      maxReplyFrameLength: options.maxReplyFrameLength,
      maxRequestBodyBytes: options.maxRequestBodyBytes,
      requestLimitName: options.requestLimitName,
    },
    memoryLimit,
    canSkip,
    limits,
  };
  return limits;
}

export class FrameLimits {
  readonly maxFrameLength: number;
  /** Replies (ChunkFetchSuccess, RpcResponse) are accepted up to this frame length. */
  readonly maxReplyFrameLength: number;
  /** Frames up to this length need no look at their head. */
  readonly plainLimit: number;
  /** Frames above this length fail at once. */
  readonly ceiling: number;
  /** The most one frame may be charged to inbound memory (Infinity: nothing is charged). */
  readonly #memoryLimit: number;
  /** Largest request body taken (Infinity: only `maxFrameLength` applies), and its name. */
  readonly #requestBody: number;
  readonly #requestLimitName: string;

  /**
   * @param memoryLimit what one frame may be charged at most (undefined: no memory budget).
   * @param canSkip whether the handler can be told about skipped frames.
   */
  constructor(options: FrameLimitOptions, memoryLimit: number | undefined, canSkip: boolean) {
    const max = checkLength(options.maxFrameLength, defaultLimits.maxFrameLength, "maxFrameLength");
    const reply = checkLength(options.maxReplyFrameLength, max, "maxReplyFrameLength");
    this.maxFrameLength = max;
    this.maxReplyFrameLength = Math.max(max, reply);
    this.#memoryLimit = memoryLimit ?? Infinity;
    const requestBody = options.maxRequestBodyBytes;
    if (requestBody !== undefined && (!Number.isSafeInteger(requestBody) || requestBody < 0)) {
      throw new InvalidArgumentError(
        `Cannot create FrameDecoder: maxRequestBodyBytes must be an integer ≥ 0, got ` +
          String(requestBody),
      );
    }
    this.#requestBody = requestBody ?? Infinity;
    this.#requestLimitName = options.requestLimitName ?? "maxRequestBodyBytes";
    // A request body over its limit must reach the head check: the plain limit sits below the
    // smallest request frame that can be over it (a one-way message's).
    this.plainLimit = Math.min(
      max,
      this.#memoryLimit + LENGTH_FIELD,
      this.#requestBody + ONE_WAY_OVERHEAD,
    );
    this.ceiling = canSkip
      ? Math.max(this.maxReplyFrameLength, SPARK_MAX_FRAME_LENGTH)
      : this.maxReplyFrameLength;
  }

  /**
   * Validates a frame length above the plain limit (or not a plain number) the moment its 8 bytes
   * are in; returns it when its head must decide.
   * @throws ProtocolError for a length below 9 or above the ceiling.
   */
  check(length: Int64): number {
    if (typeof length === "number" && length >= MIN_FRAME_LENGTH && length <= this.ceiling) {
      return length;
    }
    // A bigint length is beyond ±(2^53 − 1): either hugely positive or negative.
    if (length >= MIN_FRAME_LENGTH) {
      throw new ProtocolError(
        `Cannot decode frame: announced frame length ${length} exceeds the maximum of ` +
          `${this.ceiling} bytes`,
      );
    }
    throw new ProtocolError(
      `Cannot decode frame: announced frame length ${length} is invalid; expected at least ` +
        `${MIN_FRAME_LENGTH} (8 length bytes and a type byte)`,
    );
  }

  /**
   * For a frame above the plain limit whose type byte is in: undefined when it is to be received
   * (a reply within `maxReplyFrameLength` and the memory limit), else the limit it is over.
   */
  exceeded(type: number, frameLength: number): FrameLimitExceeded | undefined {
    const reply = type === MessageType.ChunkFetchSuccess || type === MessageType.RpcResponse;
    const typeLimit = reply ? this.maxReplyFrameLength : this.maxFrameLength;
    if (frameLength > typeLimit) {
      return {
        limit: typeLimit,
        limitName: reply && typeLimit > this.maxFrameLength
          ? "maxReplyFrameLength"
          : "maxFrameLength",
      };
    }
    const overhead = type === MessageType.RpcRequest
      ? RPC_REQUEST_OVERHEAD
      : type === MessageType.OneWayMessage
      ? ONE_WAY_OVERHEAD
      : 0;
    if (overhead > 0 && frameLength - overhead > this.#requestBody) {
      return {
        limit: this.#requestBody,
        limitName: this.#requestLimitName,
        bodyLength: frameLength - overhead,
      };
    }
    if (frameLength - LENGTH_FIELD > this.#memoryLimit) {
      return { limit: this.#memoryLimit, limitName: "maxInboundFrameBytes" };
    }
    return undefined;
  }

  /** The error for a frame over `limit` that cannot be skipped. */
  tooLarge(frameLength: number, limit: number, type: number): ProtocolError {
    return new ProtocolError(
      `Cannot decode frame: announced frame length ${frameLength} exceeds the maximum of ` +
        `${limit} bytes (message type ${type})`,
    );
  }
}

function checkLength(value: number | undefined, fallback: number, name: string): number {
  const length = value ?? fallback;
  if (!Number.isSafeInteger(length) || length < MIN_FRAME_LENGTH) {
    throw new InvalidArgumentError(
      `Cannot create FrameDecoder: ${name} must be an integer from ${MIN_FRAME_LENGTH} to ` +
        `${Number.MAX_SAFE_INTEGER}, got ${String(value)}`,
    );
  }
  return length;
}
