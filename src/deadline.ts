/**
 * Deadlines and cancellation for every async operation: `{ timeoutMs, signal }`.
 *
 * `watchDeadline` arms at most one timer and one abort listener, calls `onExpire` at most once,
 * and returns a disposer that removes both — so a settled operation leaves nothing behind.
 *
 * @module
 */

import { TimeoutError } from "./errors.ts";

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
 * Lets a timer not keep the process alive, where the runtime's timer handle supports it (Node's
 * `Timeout.unref`). Elsewhere (browsers) it is a no-op; runtimes without it keep the timer.
 */
export function unrefTimer(timer: ReturnType<typeof setTimeout>): void {
  const handle = timer as unknown as { unref?: () => void };
  if (typeof handle === "object" && handle !== null && typeof handle.unref === "function") {
    handle.unref();
  }
}
