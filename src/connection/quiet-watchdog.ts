/**
 * Spark's connection timeout: a connection with requests outstanding that has received nothing
 * for `timeoutMs` is assumed dead and closed with a `TimeoutError`.
 *
 * One timer per connection, never one per request. The timer runs only while requests are
 * outstanding; when it fires it checks how long the connection has really been quiet and re-arms
 * for the remainder. Time spent with reading paused by this side (a stream consumer that is not
 * reading) does not count as the peer being quiet.
 *
 * @module
 */

import { unrefTimer } from "../deadline.ts";
import { TimeoutError } from "../errors.ts";

export interface QuietWatchdogHost {
  /** Requests are waiting for replies. */
  hasOutstanding(): boolean;
  /** This side paused reading (local backpressure), so silence is not the peer's fault. */
  isReadPaused(): boolean;
  /** The connection is dead: close it with `error`. */
  expire(error: TimeoutError): void;
  /** The peer's address, for the error message. */
  readonly peer: string;
}

export class QuietWatchdog {
  readonly #timeoutMs: number;
  readonly #host: QuietWatchdogHost;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastActivity = 0;
  #stopped = false;
  /** The timer's callback, made when first armed (a server's idle connections never are). */
  #check: (() => void) | undefined;

  /** `timeoutMs` 0 disables the watchdog. */
  constructor(timeoutMs: number, host: QuietWatchdogHost) {
    this.#timeoutMs = timeoutMs;
    this.#host = host;
  }

  /** Bytes arrived from the peer. */
  activity(): void {
    if (this.#timer !== undefined) this.#lastActivity = performance.now();
  }

  /** Requests became outstanding after none were: the quiet period starts now. */
  busy(): void {
    if (this.#timeoutMs <= 0 || this.#stopped) return;
    this.#lastActivity = performance.now();
    if (this.#timer === undefined) this.#arm(this.#timeoutMs);
  }

  /** Stops for good (the connection closed). */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(delayMs: number): void {
    this.#check ??= () => this.#onTimer();
    this.#timer = setTimeout(this.#check, Math.max(1, Math.ceil(delayMs)));
    unrefTimer(this.#timer);
  }

  #onTimer(): void {
    this.#timer = undefined;
    if (this.#stopped || !this.#host.hasOutstanding()) return;
    const now = performance.now();
    if (this.#host.isReadPaused()) this.#lastActivity = now;
    const quietMs = now - this.#lastActivity;
    if (quietMs < this.#timeoutMs) {
      this.#arm(this.#timeoutMs - quietMs);
      return;
    }
    this.#host.expire(
      new TimeoutError(
        `Connection to ${this.#host.peer} has been quiet for ${Math.round(quietMs)} ms while ` +
          `requests are outstanding (connectionTimeoutMs ${this.#timeoutMs}); assuming it is dead`,
        this.#timeoutMs,
      ),
    );
  }
}
