/**
 * What `TransportClient.stats()` reports about one connection.
 *
 * @module
 */

import type { ConnectionCounters } from "../connection/connection.ts";
import type { RequestHandlerStats } from "../responder/request-handler.ts";

export interface ClientStats extends ConnectionCounters, RequestHandlerStats {
  /** Requests this side sent that wait for replies, by kind (uploads count as RPCs). */
  readonly inFlight: {
    readonly rpcs: number;
    readonly chunkFetches: number;
    /** Stream requests waiting for a reply, or whose body is still arriving. */
    readonly streams: number;
    readonly total: number;
  };
  /** Replies that arrived when nobody waited for them any more (late, unknown ids). */
  readonly droppedReplies: number;
  /** Outbound bytes queued (in the writer and the socket) and not yet handed to the peer. */
  readonly queuedBytes: number;
}
