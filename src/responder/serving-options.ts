/**
 * The options that say how one connection serves its peer's requests — the responder's part of
 * a `TransportClient`'s (and a `TransportServer`'s) options — with their validation and defaults.
 * The client and the server both build on these; the responder knows nothing of either.
 *
 * @module
 */

import type { Clock } from "../clock.ts";
import { InvalidArgumentError } from "../errors.ts";
import { defaultLimits } from "../limits.ts";
import { positiveInteger } from "../options.ts";
import { sharedHandlerErrorLog } from "./handler-error-log.ts";
import type { HandlerErrorReporter } from "./request-handler.ts";
import type { RpcHandler } from "./rpc-handler.ts";
import type { StreamManager } from "./stream-manager.ts";
import { TransferBudget } from "./transfer-budget.ts";

export interface ServingOptions {
  /** Serves the peer's RPCs, one-way messages and uploads on this connection. */
  readonly rpcHandler?: RpcHandler;
  /** Serves the peer's chunk fetches and stream requests on this connection. */
  readonly streamManager?: StreamManager;
  /** Chunks and streams this side sends at once (ignored when `transferBudget` is given). */
  readonly maxChunksBeingTransferred?: number;
  /** A budget shared with other connections (a server shares one across all of its own). */
  readonly transferBudget?: TransferBudget;
  /**
   * Handler failures that cannot be sent to the peer (default: one `console.warn` line each,
   * rate-limited and summarised, see `src/responder/handler-error-log.ts`).
   */
  readonly onHandlerError?: HandlerErrorReporter;
  /**
   * The time source of this side's deadlines; serving uses it for the reply-memory pressure
   * deadline of the budget it makes when none is given (`replyPressureTimeoutMs`; a given
   * `transferBudget` has its own). Default `systemClock`. Tests pass a hand-driven clock to run
   * deadlines without waiting.
   */
  readonly clock?: Clock;
}

/** Every serving option with its default applied. */
export interface ResolvedServingOptions {
  readonly rpcHandler: RpcHandler | undefined;
  readonly streamManager: StreamManager | undefined;
  readonly transferBudget: TransferBudget;
  readonly onHandlerError: HandlerErrorReporter;
}

/**
 * Logs a handler failure that has nowhere else to go: one line, rate-limited process-wide (a peer
 * can make handlers fail at will).
 */
export const warnHandlerError: HandlerErrorReporter = sharedHandlerErrorLog.report;

/** Validates the serving `options` and applies defaults. @throws InvalidArgumentError naming it. */
export function resolveServingOptions(
  options: ServingOptions,
  owner: string,
): ResolvedServingOptions {
  const handler = (name: "rpcHandler" | "streamManager", method: string) => {
    const value = options[name] as Record<string, unknown> | undefined;
    if (value !== undefined && (value === null || typeof value[method] !== "function")) {
      throw new InvalidArgumentError(
        `Invalid ${owner}.${name}: expected an object with a ${method} method`,
      );
    }
  };
  handler("rpcHandler", "receive");
  handler("streamManager", "getChunk");
  const budget = options.transferBudget;
  if (budget !== undefined && !(budget instanceof TransferBudget)) {
    throw new InvalidArgumentError(`Invalid ${owner}.transferBudget: expected a TransferBudget`);
  }
  const onHandlerError = options.onHandlerError;
  if (onHandlerError !== undefined && typeof onHandlerError !== "function") {
    throw new InvalidArgumentError(
      `Invalid ${owner}.onHandlerError: expected a function, got ${typeof onHandlerError}`,
    );
  }
  return {
    rpcHandler: options.rpcHandler,
    streamManager: options.streamManager,
    transferBudget: budget ??
      new TransferBudget(
        maxChunks(options.maxChunksBeingTransferred, owner),
        undefined,
        undefined,
        undefined,
        options.clock,
      ),
    onHandlerError: onHandlerError ?? warnHandlerError,
  };
}

function maxChunks(value: number | undefined, owner: string): number {
  if (value === undefined) return defaultLimits.maxChunksBeingTransferred;
  return positiveInteger(value, `${owner}.maxChunksBeingTransferred`);
}
