/**
 * Deadlines and cancellation for every async operation: `{ timeoutMs, signal }`.
 *
 * `watchDeadline` arms at most one timer and one abort listener, calls `onExpire` at most once,
 * and returns a disposer that removes both — so a settled operation leaves nothing behind.
 *
 * @module
 */

import { InvalidArgumentError, TimeoutError } from "./errors.ts";
import type { SocketInfo } from "./socket.ts";

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
 * already aborted, `onExpire` runs synchronously before this returns.
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
): DisposeDeadline {
  const timeoutMs = options?.timeoutMs ?? 0;
  const signal = options?.signal;
  if (signal?.aborted) {
    onExpire(signal.reason);
    return noop;
  }
  if (!(timeoutMs > 0) && !signal) return noop;

  let timer: ReturnType<typeof setTimeout> | undefined;
  let done = false;
  const dispose = () => {
    if (done) return;
    done = true;
    if (timer !== undefined) clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  };
  const onAbort = () => {
    if (done) return;
    dispose();
    onExpire(signal!.reason);
  };
  if (timeoutMs > 0) {
    timer = setTimeout(() => {
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
 * Lets a timer not keep the process alive, where the runtime's timer handle supports it (Node's
 * `Timeout.unref`). Elsewhere (browsers) it is a no-op; runtimes without it keep the timer.
 */
export function unrefTimer(timer: ReturnType<typeof setTimeout>): void {
  const handle = timer as unknown as { unref?: () => void };
  if (typeof handle === "object" && handle !== null && typeof handle.unref === "function") {
    handle.unref();
  }
}

/**
 * The timer that bounds a socket's graceful close: after `timeoutMs` (unref'd, so it never keeps
 * a process alive) `onExpire` gets a `TimeoutError` saying which connection did not finish closing
 * and `why` (what it was still waiting for).
 */
export function startCloseTimer(
  info: SocketInfo,
  timeoutMs: number,
  why: string,
  onExpire: (error: TimeoutError) => void,
): ReturnType<typeof setTimeout> {
  const timer = setTimeout(() => {
    onExpire(
      new TimeoutError(
        `graceful close of ${info.transport} connection to ${info.remoteAddress} did not finish ` +
          `within ${timeoutMs} ms (${why})`,
        timeoutMs,
      ),
    );
  }, timeoutMs);
  unrefTimer(timer);
  return timer;
}
