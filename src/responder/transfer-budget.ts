/**
 * Spark's `maxChunksBeingTransferred`: how many chunks and streams a server is sending at once,
 * over all its connections. A request arriving at the limit fails with a clear error (a
 * ChunkFetchFailure / StreamFailure saying the server is busy) instead of piling up memory; the
 * connection stays open and the client may retry.
 *
 * A transfer counts from the moment its turn comes (the connection's reply window and the reply
 * memory have room; the StreamManager is asked for the bytes) until its bytes have been handed to
 * the socket, it failed, or the peer cancelled it. Requests still waiting for their turn do not
 * count: they are bounded per connection (`maxConcurrentRequestsPerConnection`), and a few
 * connections' backlogs must not make every other client's request "busy".
 *
 * The budget is the one object a server shares with every connection it accepts, so it also
 * carries the per-connection {@linkcode ServingLimits} each connection's request handler applies
 * and the server-wide {@linkcode ReplyMemory} (`maxReplyBytes`) every connection's replies are
 * charged to before their source is read.
 *
 * @module
 */

import { type Clock, systemClock } from "../clock.ts";
import { InvalidArgumentError } from "../errors.ts";
import { defaultLimits } from "../limits.ts";
import { ReplyMemory } from "./reply-memory.ts";
import { resolveServingLimits, type ServingLimits } from "./serving-limits.ts";

/**
 * How many chunks and streams may be transferred at once, and how many reply bytes held, over every
 * connection that shares it (a server shares one across its connections; servers may share one).
 *
 * @example
 * ```ts
 * import { TransferBudget, TransportServer } from "ferry-transport";
 *
 * // Two servers (say TCP and TLS) share one cap on transfers and reply memory.
 * const budget = new TransferBudget(512, {}, 256 * 1024 * 1024);
 * const rpcHandler = { receive: (_client: unknown, body: Uint8Array) => body };
 * const plain = new TransportServer({ rpcHandler, transferBudget: budget });
 * const secure = new TransportServer({ rpcHandler, transferBudget: budget });
 * console.log(budget.inProgress, budget.limit); // 0 512
 * await Promise.all([plain.close(), secure.close()]);
 * ```
 */
export class TransferBudget {
  /** Transfers allowed at once. */
  readonly limit: number;
  /** Limits each connection sharing this budget applies to the requests it serves. */
  readonly serving: ServingLimits;
  /** Reply bytes being produced or waiting for a socket, over every connection. */
  readonly replyMemory: ReplyMemory;
  #inProgress = 0;

  /**
   * @param limit transfers at once over every connection sharing the budget.
   * @param serving per-connection limits (defaults from `src/limits.ts`).
   * @param maxReplyBytes reply memory over every connection (`defaultLimits.maxReplyBytes`).
   * @param replyPressureTimeoutMs see `defaultLimits.replyPressureTimeoutMs`.
   * @param clock runs the `replyPressureTimeoutMs` deadline: the clock of the connections sharing
   *   the budget (their `clock` option), default `systemClock`.
   */
  constructor(
    limit: number = defaultLimits.maxChunksBeingTransferred,
    serving: Partial<ServingLimits> = {},
    maxReplyBytes: number = defaultLimits.maxReplyBytes,
    replyPressureTimeoutMs: number = defaultLimits.replyPressureTimeoutMs,
    clock: Clock = systemClock,
  ) {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new InvalidArgumentError(
        `Invalid maxChunksBeingTransferred: expected a positive integer, got ${String(limit)}`,
      );
    }
    this.limit = limit;
    this.serving = resolveServingLimits(serving, "TransferBudget serving limits");
    this.replyMemory = new ReplyMemory(maxReplyBytes, replyPressureTimeoutMs, clock);
  }

  /** Chunks and streams being transferred right now. */
  get inProgress(): number {
    return this.#inProgress;
  }

  /** Starts a transfer if the budget allows; `false` means shed this request. */
  tryAcquire(): boolean {
    if (this.#inProgress >= this.limit) return false;
    this.#inProgress++;
    return true;
  }

  /** A transfer started with `tryAcquire` ended (sent or failed). Call exactly once per acquire. */
  release(): void {
    if (this.#inProgress > 0) this.#inProgress--;
  }
}
