/**
 * What a {@linkcode FrameDecoder} is given and tells: its handler (what it finds, synchronously,
 * in stream order), the memory it charges for frames assembled in a buffer of their own, its
 * options, and its states.
 *
 * @module
 */

import type { Int64, Message } from "./messages.ts";
import type { OversizedFrame } from "./oversized-frame.ts";

/** Where the decoder is in the byte stream. */
export type DecoderState =
  /**
   * Reading the 8-byte frame length (which may itself arrive split across chunks). The length is
   * checked the moment its 8 bytes are in, before anything is buffered: below 9 or above the
   * ceiling (frame-limits.ts) fails at once; above the plain limit, the frame's head decides
   * (`"frame-head"`).
   */
  | "frame-length"
  /**
   * The frame spans chunks: its bytes are being copied into one buffer of exactly the frame's size
   * (allocated once, no repeated concatenation).
   */
  | "frame"
  /**
   * A chunk ended right after the fixed fields of a frame with a large body (how a WebSocket peer
   * sends header and body as two messages): when the next chunk holds the whole body, the body is
   * a view of it (no copy); otherwise the frame is assembled as in `"frame"`.
   */
  | "frame-body"
  /**
   * After a StreamResponse or UploadStream, its `byteCount` / `bodyByteCount` raw bytes are handed
   * to `FrameHandler.body` as they arrive (views, never buffered).
   */
  | "stream-body"
  /**
   * A frame above the plain limit (`maxFrameLength`, the inbound memory budget, or a request-body
   * limit): its type byte and id fields are read first (oversized-frame.ts). A ChunkFetchSuccess
   * or RpcResponse within `maxReplyFrameLength`, or a frame of another type within its limits, is
   * then received as usual; anything else over its limit is skipped when the handler has
   * `oversized`, else fails as before.
   */
  | "frame-head"
  /**
   * The body of a frame over its limit is read and discarded (never buffered, frame-skip.ts); once
   * it has passed, `FrameHandler.oversized` reports the frame and decoding goes on.
   */
  | "skip"
  /**
   * A skipped UploadStream's meta has passed: its body count (the frame's last 8 bytes) is read,
   * then its raw body is skipped (`"skip"`) before the report.
   */
  | "skip-tail"
  /**
   * A frame that spans chunks needs a buffer, and the `memory` option had no room for it: bytes
   * received meanwhile are held (the host stops reading) until the host calls
   * `FrameDecoder.roomGranted`.
   */
  | "awaiting-room"
  /**
   * A protocol error (or a throwing handler) stopped the decoder; every later `push` throws a
   * `ProtocolError` saying so.
   */
  | "failed";

/** Receives what the decoder finds, synchronously, in stream order. */
export interface FrameHandler {
  /** A decoded message. For StreamResponse / UploadStream, its raw bytes follow via `body`. */
  message(message: Message): void;
  /** Raw bytes following a StreamResponse or UploadStream (never empty; ownership passes). */
  body(chunk: Uint8Array): void;
  /** All raw bytes of the last StreamResponse / UploadStream were delivered (also for 0 bytes). */
  bodyEnd(): void;
  /**
   * Optional fast path: when present, every well-formed RpcResponse comes here instead of to
   * `message`, without a message object being built (the hottest reply on a busy connection).
   * Malformed ones still fail with the same `ProtocolError` as without it.
   */
  rpcResponse?(requestId: Int64, body: Uint8Array): void;
  /**
   * Optional fast path, as `rpcResponse` for the serving side: every well-formed RpcRequest comes
   * here instead of to `message`, without a message object being built.
   */
  rpcRequest?(requestId: Int64, body: Uint8Array): void;
  /**
   * Optional: a frame over its limit whose body was just skipped (see oversized-frame.ts). Without
   * it, such a frame fails the decoder with a `ProtocolError` the moment its length is known.
   */
  oversized?(frame: OversizedFrame): void;
}

/**
 * Memory charged for frames assembled in a buffer of their own (frames that span chunks), before
 * the buffer is allocated; released once the frame is complete or abandoned.
 */
export interface FrameMemory {
  /** The most one frame may be charged; a larger frame is refused as over `maxInboundFrameBytes`. */
  readonly limit: number;
  /**
   * Charges `size` bytes. `false`: no room now; the decoder waits (`"awaiting-room"`) and the host
   * must stop reading, charge `size` once there is room, then call `roomGranted()`.
   */
  reserve(size: number): boolean;
  /** Gives back what `reserve` (or the host, before `roomGranted`) charged. */
  release(size: number): void;
}

export interface FrameDecoderOptions {
  /** Largest accepted frame length, header included (default `defaultLimits.maxFrameLength`). */
  readonly maxFrameLength?: number;
  /**
   * Largest ChunkFetchSuccess / RpcResponse frame accepted when above `maxFrameLength` (default
   * `maxFrameLength`: no exception for replies).
   */
  readonly maxReplyFrameLength?: number;
  /**
   * Largest RpcRequest / OneWayMessage body taken (the serving handler's own request limit, e.g.
   * a `ServiceRouter`'s `maxServiceRequestBytes`): a larger request is skipped, never buffered,
   * and reported to `oversized` like one over `maxFrameLength`. Default: none below the frame
   * limits.
   */
  readonly maxRequestBodyBytes?: number;
  /** The name of `maxRequestBodyBytes` in reports (default `"maxRequestBodyBytes"`). */
  readonly requestLimitName?: string;
  /** Charges frames assembled in their own buffer (default: nothing is charged). */
  readonly memory?: FrameMemory;
  /**
   * Allocates the buffer of a frame that spans chunks (default `new Uint8Array(size)`). The decoder
   * fills it completely before delivering anything from it, so it may return uninitialized memory
   * (`Socket.allocateUninitialized`, or a buffer given back for reuse); nothing else may use it.
   */
  readonly allocate?: (size: number) => Uint8Array;
  /**
   * `allocate` as a method of an object the host already has (taking precedence over `allocate`):
   * a host that makes one decoder per connection saves a closure and its context per connection.
   */
  readonly allocator?: FrameAllocator;
}

/** An object whose `allocate(size)` makes frame buffers, as the `allocate` option describes. */
export interface FrameAllocator {
  allocate(size: number): Uint8Array;
  /**
   * Optional: how many bytes of `frame`'s `ArrayBuffer` right after it (a buffer `allocate`
   * returned) belong to nobody else. `readBuffer(true)` then extends the frame's tail over them,
   * so one read may finish the frame and bring what follows; the decoder copies those bytes out
   * (and zeroes them) before it delivers the frame.
   */
  spareAfter?(frame: Uint8Array): number;
}
