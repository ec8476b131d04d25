/**
 * A connection's options (limits and deadlines, already validated by the client's
 * options) and its traffic counters.
 *
 * @module
 */

import type { Clock } from "../clock.ts";
import type { SocketClosed } from "../socket.ts";
import type { InboundFrameBudget } from "./inbound-frame-budget.ts";

export interface ConnectionOptions {
  readonly maxFrameLength: number;
  /** ChunkFetchSuccess / RpcResponse frames are accepted up to this length (default: the above). */
  readonly maxReplyFrameLength?: number;
  /**
   * Largest RpcRequest / OneWayMessage body the request side takes (its RpcHandler's
   * `maxRequestBytes`), and that limit's name: a larger request is skipped unread and refused.
   */
  readonly maxRequestBodyBytes?: number;
  readonly requestLimitName?: string;
  /** Charged for every frame assembled across received chunks (default: nothing is charged). */
  readonly inboundFrameBudget?: InboundFrameBudget;
  /** Mid-frame or mid-body and no byte received for this long: reset; 0 / absent = never. */
  readonly noProgressTimeoutMs?: number;
  readonly writeHardCap: number;
  /** Requests outstanding and nothing received for this long closes the connection; 0 = never. */
  readonly connectionTimeoutMs: number;
  /** Bytes a received stream or upload body buffers before reading pauses. */
  readonly streamHighWaterMark: number;
  /** The peer must send a complete frame within this long of opening; 0 = no deadline. */
  readonly firstFrameTimeoutMs?: number;
  /** No complete frame and nothing in flight for this long closes gracefully; 0 = never. */
  readonly idleTimeoutMs?: number;
  /** Outbound bytes above the high-water mark without a drain this long: reset; 0 = never. */
  readonly slowConsumerTimeoutMs?: number;
  /** Arms the connection's deadlines and stamps blocked writes (default: real time). */
  readonly clock?: Clock;
  /**
   * The socket has ended (`closed` is what the connection's `closed` settles with): called once,
   * synchronously, with the connection's `interceptorOwner`. One function shared by every
   * connection of a server, so following their ends costs no promise or closure per connection.
   */
  readonly onEnded?: (owner: unknown, closed: SocketClosed) => void;
}

/** Traffic counters of one connection. */
export interface ConnectionCounters {
  readonly bytesReceived: number;
  readonly bytesSent: number;
  readonly messagesReceived: number;
  readonly messagesSent: number;
  /** Socket writes (frames written in the same tick share one). */
  readonly socketWrites: number;
  /** Bytes of free frame buffers kept to assemble later large frames in (lent bodies return). */
  readonly retainedFrameBytes: number;
  /** Frames over a limit whose bodies were skipped (each failed alone; see inbound-limits.ts). */
  readonly oversizedFrames: number;
}
