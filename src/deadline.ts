/**
 * Deadlines and cancellation for every async operation: `{ timeoutMs, signal }`.
 *
 * `watchDeadline` arms at most one timer and one abort listener, calls `onExpire` at most once,
 * and returns a disposer that removes both — so a settled operation leaves nothing behind.
 *
 * @module
 */

import { type Clock, keepAliveClock, systemClock, type TimerHandle } from "./clock.ts";
import { InvalidArgumentError, TimeoutError } from "./errors.ts";
import type { SocketInfo } from "./socket.ts";

/** Re-exported from the clock, where it lives; importers of `deadline.ts` keep working. */
export { unrefTimer } from "./clock.ts";

/** Deadline and cancellation accepted by every async operation. */
export interface CallOptions {
  /** Fail with a `TimeoutError` after this many milliseconds (0 or absent: no deadline). */
  readonly timeoutMs?: number;
  /** Fail with the signal's reason when it aborts. */
  readonly signal?: AbortSignal;
}

/** Removes a deadline's timer and listener. Idempotent. */
export type DisposeDeadline = () => void;

const noop: DisposeDeadline = () => {};

/**
 * Calls `onExpire(error)` once when `options.timeoutMs` passes (a `TimeoutError` whose message is
 * `${what} timed out after N ms`) or when `options.signal` aborts (its reason). If the signal is
 * already aborted, `onExpire` runs synchronously before this returns. The timer is armed on
 * `clock`, so tests can drive the deadline by hand; without one it is a real-time timer that keeps
 * the process alive while it waits.
 *
 * @example
 * ```ts
 * import { watchDeadline } from "ferry-transport";
 *
 * const controller = new AbortController();
 * const dispose = watchDeadline(
 *   { timeoutMs: 5_000, signal: controller.signal },
 *   "export job",
 *   (error) => console.log("giving up:", error), // a TimeoutError, or the signal's reason
 * );
 * // … the work finished in time: stop watching (no timer is left behind).
 * dispose();
 * ```
 */
export function watchDeadline(
  options: CallOptions | undefined,
  what: string,
  onExpire: (error: unknown) => void,
  clock: Clock = keepAliveClock,
): DisposeDeadline {
  const timeoutMs = options?.timeoutMs ?? 0;
  const signal = options?.signal;
  if (signal?.aborted) {
    onExpire(signal.reason);
    return noop;
  }
  if (!(timeoutMs > 0) && !signal) return noop;

  let timer: TimerHandle | undefined;
  let done = false;
  const dispose = () => {
    if (done) return;
    done = true;
    if (timer !== undefined) clock.clearTimer(timer);
    signal?.removeEventListener("abort", onAbort);
  };
  const onAbort = () => {
    if (done) return;
    dispose();
    onExpire(signal!.reason);
  };
  if (timeoutMs > 0) {
    timer = clock.setTimer(() => {
      if (done) return;
      dispose();
      onExpire(new TimeoutError(`${what} timed out after ${timeoutMs} ms`, timeoutMs));
    }, timeoutMs);
  }
  signal?.addEventListener("abort", onAbort, { once: true });
  return dispose;
}

/** Whether a value is a usable `timeoutMs`: undefined, or a finite number ≥ 0. */
export function isValidTimeout(timeoutMs: unknown): timeoutMs is number | undefined {
  return timeoutMs === undefined ||
    (typeof timeoutMs === "number" && Number.isFinite(timeoutMs) && timeoutMs >= 0);
}

/**
 * Throws an `InvalidArgumentError` naming `what` and `name` unless `value` is a usable duration in
 * milliseconds (undefined, or a finite number ≥ 0).
 */
export function checkTimeout(value: unknown, name: string, what: string): void {
  if (!isValidTimeout(value)) {
    throw new InvalidArgumentError(
      `${what}: ${name} must be a finite number ≥ 0, received ${String(value)}`,
    );
  }
}

/**
 * The timer that bounds a socket's graceful close: after `timeoutMs` (unref'd, so it never keeps
 * a process alive) `onExpire` gets a `TimeoutError` saying which connection did not finish closing
 * and `why` (what it was still waiting for). Without `clock` the handle is a `setTimeout` handle
 * (`clearTimeout` cancels it); with one, cancel it with that clock's `clearTimer`.
 */
export function startCloseTimer(
  info: SocketInfo,
  timeoutMs: number,
  why: string,
  onExpire: (error: TimeoutError) => void,
): ReturnType<typeof setTimeout>;
export function startCloseTimer(
  info: SocketInfo,
  timeoutMs: number,
  why: string,
  onExpire: (error: TimeoutError) => void,
  clock: Clock,
): TimerHandle;
export function startCloseTimer(
  info: SocketInfo,
  timeoutMs: number,
  why: string,
  onExpire: (error: TimeoutError) => void,
  clock: Clock = systemClock,
): TimerHandle {
  return clock.setTimer(() => {
    onExpire(
      new TimeoutError(
        `graceful close of ${info.transport} connection to ${info.remoteAddress} did not finish ` +
          `within ${timeoutMs} ms (${why})`,
        timeoutMs,
      ),
    );
  }, timeoutMs);
}
