/**
 * Per-connection serving limits: how much one connection may make its request side hold at once,
 * and how a cancelled stream body already on the wire is finished. Defaults and the reasoning
 * behind them are in `src/limits.ts`.
 *
 * They travel on the {@linkcode TransferBudget} (see there), the one object a server shares with
 * every connection it accepts, so each connection's request handler applies the same values.
 *
 * @module
 */

import { InvalidArgumentError } from "../errors.ts";
import { defaultLimits } from "../limits.ts";
import { integerAtLeast } from "../options.ts";

export interface ServingLimits {
  /** See `defaultLimits.maxConcurrentRequestsPerConnection`. */
  readonly maxConcurrentRequestsPerConnection: number;
  /** See `defaultLimits.maxCancelPaddingBytes`. */
  readonly maxCancelPaddingBytes: number;
  /** See `defaultLimits.replyWindowBytes`. */
  readonly replyWindowBytes: number;
}

/** Validates `options` and applies the defaults. @throws InvalidArgumentError naming the field. */
export function resolveServingLimits(
  options: Partial<ServingLimits> = {},
  owner = "ServingLimits",
): ServingLimits {
  if (options === null || typeof options !== "object") {
    throw new InvalidArgumentError(`Invalid ${owner}: expected an object, got ${typeof options}`);
  }
  const check = (name: keyof ServingLimits, min: number): number =>
    integerAtLeast(options[name] ?? defaultLimits[name], min, `${owner}.${name}`);
  return {
    maxConcurrentRequestsPerConnection: check("maxConcurrentRequestsPerConnection", 1),
    maxCancelPaddingBytes: check("maxCancelPaddingBytes", 0),
    replyWindowBytes: check("replyWindowBytes", 1),
  };
}
