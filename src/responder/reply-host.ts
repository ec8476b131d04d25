/**
 * What the reply producers of one connection ({@linkcode ChunkFetchReplies},
 * {@linkcode StreamReplyQueue}) need from the request handler that owns them: the connection, the
 * StreamManager, the shared budget, the connection's reply gate, and the handler's counters and
 * error reporting.
 *
 * @module
 */

import type { Peer } from "./peer.ts";
import type { Connection } from "../connection/connection.ts";
import type { Int64 } from "../protocol/messages.ts";
import type { ReplyGate } from "./reply-gate.ts";
import type { StreamManager } from "./stream-manager.ts";
import type { TransferBudget } from "./transfer-budget.ts";

/** The StreamManager hooks that bracket a transfer. */
export type TransferHook = "chunkBeingSent" | "chunkSent" | "streamBeingSent" | "streamSent";

export interface ReplyHost {
  readonly client: Peer;
  readonly connection: Connection;
  readonly streamManager: StreamManager | undefined;
  readonly budget: TransferBudget;
  /** This connection's reply window, charged (with the server's reply memory) before a read. */
  readonly gate: ReplyGate;
  /** A request started (+1) or finished (-1) being served. */
  serving(delta: 1 | -1): void;
  /** The budget refused a request for `what`: counts it, returns the failure text. */
  shed(what: string): string;
  /** Calls a StreamManager transfer hook; a throw is reported, never propagated. */
  notify(hook: TransferHook, id: Int64 | string): void;
  /** Reports a failure that cannot be sent to the peer. */
  reportError(error: unknown, context: string): void;
}
