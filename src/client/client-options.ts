/**
 * Options of a {@linkcode TransportClient} (and of each connection a `TransportServer` accepts),
 * with their validation and defaults from `src/limits.ts`.
 *
 * @module
 */

import type { Clock } from "../clock.ts";
import type { Message } from "../protocol/messages.ts";
import { InvalidArgumentError } from "../errors.ts";
import { defaultLimits } from "../limits.ts";
import { integerOption } from "../options.ts";
import { MIN_FRAME_LENGTH } from "../protocol/frame-limits.ts";
import { DEFAULT_STREAM_HIGH_WATER_MARK } from "../connection/inbound-body.ts";
import { InboundFrameBudget } from "../connection/inbound-frame-budget.ts";
import { SPARK_MAX_FRAME_LENGTH } from "../protocol/oversized-frame.ts";
import {
  type ResolvedServingOptions,
  resolveServingOptions,
  type ServingOptions,
} from "../responder/serving-options.ts";
import type { TransportClient } from "./transport-client.ts";

/**
 * Sees every inbound message before it is dispatched (bootstraps, authentication, heartbeats).
 * Return `true` to consume the message: it is not dispatched, and the raw body that follows a
 * consumed StreamResponse / UploadStream is discarded. A throw closes the connection.
 */
export type InboundInterceptor = (message: Message, client: TransportClient) => boolean;

/**
 * The connection's own options; how it serves the peer's requests (`rpcHandler`,
 * `streamManager`, `transferBudget`, `onHandlerError`, …) are the responder's
 * {@linkcode ServingOptions}.
 */
export interface ClientOptions extends ServingOptions {
  /** Largest frame accepted from the peer (default `defaultLimits.maxFrameLength`). */
  readonly maxFrameLength?: number;
  /**
   * Largest ChunkFetchSuccess / RpcResponse frame accepted (default
   * `defaultLimits.maxReplyFrameLength`, 256 MiB; at most 2 GiB − 1). A larger reply fails only
   * its own request with a `LimitError` once its body has been skipped.
   */
  readonly maxReplyFrameLength?: number;
  /**
   * Memory for frames being received, shared with the other connections given the same budget
   * (a `TransportServer` shares one across all its connections). Default: a budget of its own of
   * `maxInboundFrameBytes`.
   */
  readonly inboundFrameBudget?: InboundFrameBudget;
  /** Size of the budget created when `inboundFrameBudget` is absent (default 256 MiB). */
  readonly maxInboundFrameBytes?: number;
  /**
   * Inside a frame or an announced body and no byte of it for this long: the connection is reset
   * (a `TimeoutError` is the cause). 0 = never. Default `defaultLimits.noProgressTimeoutMs`.
   */
  readonly noProgressTimeoutMs?: number;
  /**
   * Requests outstanding and nothing received for this long: the connection is closed as dead
   * (a `TimeoutError` is the cause). 0 disables. Default `defaultLimits.connectionTimeoutMs`.
   */
  readonly connectionTimeoutMs?: number;
  /** Deadline of each request that does not pass `timeoutMs` (default none). */
  readonly requestTimeoutMs?: number;
  /** Queued outbound bytes above which the peer is a slow consumer and the connection closes. */
  readonly writeHardCap?: number;
  /** Requests kept in flight at once; more fail with a `LimitError`. */
  readonly maxInFlightRequests?: number;
  /** Bytes a received stream (or upload body) buffers before reading from the socket pauses. */
  readonly streamHighWaterMark?: number;
  /** Sees inbound messages before dispatch; see {@linkcode InboundInterceptor}. */
  readonly interceptor?: InboundInterceptor;
  /**
   * The peer must send a complete frame within this long of the connection opening, or it is
   * reset (a `TimeoutError` is the cause). 0 = no deadline: the default for a client; a
   * `TransportServer` defaults to `defaultLimits.handshakeTimeoutMs`.
   */
  readonly firstFrameTimeoutMs?: number;
  /**
   * No complete frame received and nothing in flight for this long: the connection is closed
   * gracefully. 0 = never: the default for a client; a `TransportServer` defaults to
   * `defaultLimits.idleTimeoutMs`.
   */
  readonly idleTimeoutMs?: number;
  /**
   * Outbound bytes above the write high-water mark without a drain for this long: the peer is a
   * slow consumer, the connection is reset with a `LimitError`. 0 = never. Default
   * `defaultLimits.slowConsumerTimeoutMs`.
   */
  readonly slowConsumerTimeoutMs?: number;
  /**
   * Time for every deadline of the connection (first frame, idle, slow consumer, no progress,
   * connection timeout) and of each request (`timeoutMs`, `requestTimeoutMs`). Default: real
   * time (`systemClock` for the connection's deadlines; a request's deadline timer keeps the
   * process alive while it waits). Tests pass a hand-driven clock instead of sleeping.
   */
  readonly clock?: Clock;
}

/** Every option with its default applied. */
export interface ResolvedClientOptions extends ResolvedServingOptions {
  readonly maxFrameLength: number;
  readonly maxReplyFrameLength: number;
  readonly inboundFrameBudget: InboundFrameBudget;
  readonly noProgressTimeoutMs: number;
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly writeHardCap: number;
  readonly maxInFlightRequests: number;
  readonly streamHighWaterMark: number;
  readonly interceptor: InboundInterceptor | undefined;
  readonly firstFrameTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly slowConsumerTimeoutMs: number;
  /** Undefined: real time (see {@linkcode ClientOptions.clock}). */
  readonly clock: Clock | undefined;
}

/** Validates `options` and applies defaults. @throws InvalidArgumentError naming the option. */
export function resolveClientOptions(
  options: ClientOptions = {},
  owner = "ClientOptions",
): ResolvedClientOptions {
  if (options === null || typeof options !== "object") {
    throw new InvalidArgumentError(`Invalid ${owner}: expected an object, got ${typeof options}`);
  }
  const check = (name: keyof ClientOptions, fallback: number, min: number): number =>
    integerOption(options, name, fallback, min, owner);
  const fn = <T>(name: keyof ClientOptions): T | undefined => {
    const value = options[name];
    if (value !== undefined && typeof value !== "function") {
      throw new InvalidArgumentError(
        `Invalid ${owner}.${name}: expected a function, got ${typeof value}`,
      );
    }
    return value as T | undefined;
  };
  const serving = resolveServingOptions(options, owner);
  const clock = options.clock;
  if (
    clock !== undefined &&
    (clock === null || typeof clock !== "object" || typeof clock.now !== "function" ||
      typeof clock.setTimer !== "function" || typeof clock.clearTimer !== "function")
  ) {
    throw new InvalidArgumentError(
      `Invalid ${owner}.clock: expected a Clock (now, setTimer, clearTimer), got ` +
        (clock === null ? "null" : typeof clock),
    );
  }
  const inbound = options.inboundFrameBudget;
  if (inbound !== undefined && !(inbound instanceof InboundFrameBudget)) {
    throw new InvalidArgumentError(
      `Invalid ${owner}.inboundFrameBudget: expected an InboundFrameBudget`,
    );
  }
  const maxReplyFrameLength = check(
    "maxReplyFrameLength",
    defaultLimits.maxReplyFrameLength,
    MIN_FRAME_LENGTH,
  );
  if (maxReplyFrameLength > SPARK_MAX_FRAME_LENGTH) {
    throw new InvalidArgumentError(
      `Invalid ${owner}.maxReplyFrameLength: expected at most ${SPARK_MAX_FRAME_LENGTH} ` +
        `(2 GiB − 1, Spark's frame ceiling), got ${maxReplyFrameLength}`,
    );
  }
  return {
    ...serving,
    maxFrameLength: check("maxFrameLength", defaultLimits.maxFrameLength, MIN_FRAME_LENGTH),
    maxReplyFrameLength,
    inboundFrameBudget: inbound ??
      new InboundFrameBudget(
        check("maxInboundFrameBytes", defaultLimits.maxInboundFrameBytes, 1),
      ),
    noProgressTimeoutMs: check("noProgressTimeoutMs", defaultLimits.noProgressTimeoutMs, 0),
    connectionTimeoutMs: check("connectionTimeoutMs", defaultLimits.connectionTimeoutMs, 0),
    requestTimeoutMs: check("requestTimeoutMs", defaultLimits.requestTimeoutMs, 0),
    writeHardCap: check("writeHardCap", defaultLimits.writeHardCap, 1),
    maxInFlightRequests: check("maxInFlightRequests", defaultLimits.maxInFlightRequests, 1),
    streamHighWaterMark: check("streamHighWaterMark", DEFAULT_STREAM_HIGH_WATER_MARK, 1),
    interceptor: fn<InboundInterceptor>("interceptor"),
    firstFrameTimeoutMs: check("firstFrameTimeoutMs", 0, 0),
    idleTimeoutMs: check("idleTimeoutMs", 0, 0),
    slowConsumerTimeoutMs: check(
      "slowConsumerTimeoutMs",
      defaultLimits.slowConsumerTimeoutMs,
      0,
    ),
    clock,
  };
}
