/**
 * Fast-fail after a failed connect, in the spirit of Spark's `TransportClientFactory`
 * (`fastFailTimeWindow`): once a connect to a peer fails, further connects to it fail at once for a
 * window, so a dead peer cannot cause a reconnect storm. Ferry's window grows exponentially with
 * consecutive failures and is jittered, so many processes that lost the same peer do not come
 * back in lockstep. The first attempt after the window is a real connect; success resets it.
 *
 * @module
 */

import { ConnectError, describeError, InvalidArgumentError } from "../errors.ts";
import { defaultPoolOptions } from "./pool-options.ts";
import type { ConnectBackoffOptions } from "./pool-options.ts";
import { duration } from "./pool-options.ts";

/** Per-route failure memory. */
export class ConnectBackoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #jitter: number;
  readonly #enabled: boolean;
  #failures = 0;
  #failedAt = 0;
  #retryAt = 0;
  #lastError: unknown = undefined;

  constructor(options: ConnectBackoffOptions | false | undefined) {
    this.#enabled = options !== false;
    const config = options === false ? undefined : options;
    this.#initialMs = duration(
      config?.initialMs ?? defaultPoolOptions.backoffInitialMs,
      "connectBackoff.initialMs",
      "ConnectionPool",
    );
    this.#maxMs = duration(
      config?.maxMs ?? defaultPoolOptions.backoffMaxMs,
      "connectBackoff.maxMs",
      "ConnectionPool",
    );
    const jitter = config?.jitter ?? defaultPoolOptions.backoffJitter;
    if (!(typeof jitter === "number" && jitter >= 0 && jitter <= 1)) {
      throw new InvalidArgumentError(
        `Cannot configure ConnectionPool: connectBackoff.jitter must be a number in [0, 1], received ${
          String(jitter)
        }`,
      );
    }
    this.#jitter = jitter;
  }

  /** Consecutive failed connects. */
  get failures(): number {
    return this.#failures;
  }

  /** Clock time before which connects fail fast (0 when none). */
  get retryAt(): number {
    return this.#retryAt;
  }

  /** Whether a connect now must fail fast. */
  blocks(now: number): boolean {
    return this.#enabled && now < this.#retryAt;
  }

  /** Records a failed connect at `now`; `random` is in [0, 1). */
  recordFailure(now: number, error: unknown, random: number): void {
    this.#failures++;
    this.#failedAt = now;
    this.#lastError = error;
    if (!this.#enabled) return;
    const exponent = Math.min(this.#failures - 1, 30);
    const window = Math.min(this.#maxMs, this.#initialMs * 2 ** exponent);
    this.#retryAt = now + window * (1 - this.#jitter * random);
  }

  /** A connect succeeded: forget past failures. */
  recordSuccess(): void {
    this.#failures = 0;
    this.#retryAt = 0;
    this.#lastError = undefined;
  }

  /** The error a fast-failed connect rejects with (its cause is the last real failure). */
  fastFailError(routeKey: string, now: number): ConnectError {
    const ago = Math.round(now - this.#failedAt);
    const remaining = Math.max(0, Math.round(this.#retryAt - now));
    return new ConnectError(
      `Connecting to ${routeKey} failed ${ago} ms ago (${this.#failures} consecutive failure${
        this.#failures === 1 ? "" : "s"
      }, last: ${
        describeError(this.#lastError)
      }); failing fast without connecting for another ${remaining} ms`,
      { cause: this.#lastError },
    );
  }
}
