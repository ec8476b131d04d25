/**
 * The default handler-error reporter: one line per failure (no stack trace, the description cut
 * to an excerpt), at most `handlerErrorLogLines` lines per `handlerErrorLogIntervalMs`, and one
 * summary line ("… N more handler failures suppressed") for the rest of each interval. A peer can
 * make a handler fail at will — 10 000 one-way messages of 100 bytes each — and used to get a stack
 * trace written for every one of them (81 MB of stderr for 1.4 MB sent).
 *
 * The summary is written when its interval ends (one timer, armed only while something is being
 * suppressed and never keeping the process alive) or on `close()`, which also disarms the timer.
 * A `TransportServer` owns one and closes it with itself; plain clients share
 * {@linkcode sharedHandlerErrorLog}. Counts are in {@linkcode HandlerErrorLog.stats}.
 *
 * @module
 */

import { describeError } from "../errors.ts";
import { DETAIL_CHARS, excerpt } from "../excerpt.ts";
import { type Clock, systemClock } from "../clock.ts";
import { defaultLimits } from "../limits.ts";
import type { HandlerErrorReporter } from "./request-handler.ts";

export interface HandlerErrorLogOptions {
  /** Lines written per interval (default `defaultLimits.handlerErrorLogLines`). */
  readonly lines?: number;
  /** The interval (default `defaultLimits.handlerErrorLogIntervalMs`). */
  readonly intervalMs?: number;
  /** Where lines go (default `console.warn`). */
  readonly write?: (line: string) => void;
  /** Time and timers (default real time, unref'd timers). */
  readonly clock?: Clock;
  /**
   * A reporter of the application's: every failure goes to it as it comes (it decides what to
   * log) and is only counted here; nothing is written.
   */
  readonly forward?: HandlerErrorReporter;
}

/** Counts of a {@linkcode HandlerErrorLog}. */
export interface HandlerErrorLogStats {
  /** Failures reported. */
  readonly reported: number;
  /** Failures written as a line of their own. */
  readonly logged: number;
  /** Failures only counted in a summary line (rate limit reached). */
  readonly suppressed: number;
}

/**
 * Writes failures of request handlers as rate-limited lines (`lines` per `intervalMs`, then one
 * summary line), so a failing handler cannot flood the log. A `TransportServer` keeps one.
 *
 * @example
 * ```ts
 * import { HandlerErrorLog } from "ferry-transport";
 *
 * const log = new HandlerErrorLog({ lines: 5, intervalMs: 60_000 });
 * log.report(new Error("disk gone"), "rpcHandler.receive");
 * console.log(log.stats); // { reported: 1, logged: 1, suppressed: 0 }
 * log.close();
 * ```
 */
export class HandlerErrorLog {
  readonly #lines: number;
  readonly #intervalMs: number;
  readonly #write: (line: string) => void;
  readonly #clock: Clock;
  readonly #forward: HandlerErrorReporter | undefined;
  #windowStart = -Infinity;
  #windowLines = 0;
  #windowSuppressed = 0;
  #lastSuppressed = "";
  #timer: unknown;
  #closed = false;
  #reported = 0;
  #logged = 0;
  #suppressed = 0;

  constructor(options: HandlerErrorLogOptions = {}) {
    this.#lines = options.lines ?? defaultLimits.handlerErrorLogLines;
    this.#intervalMs = options.intervalMs ?? defaultLimits.handlerErrorLogIntervalMs;
    this.#write = options.write ?? ((line) => console.warn(line));
    this.#clock = options.clock ?? systemClock;
    this.#forward = options.forward;
  }

  /** Reports one failure; a {@linkcode HandlerErrorReporter} (bound: pass it around as is). */
  readonly report: HandlerErrorReporter = (error, context) => {
    this.#reported++;
    if (this.#forward !== undefined) {
      this.#forward(error, context);
      return;
    }
    const now = this.#clock.now();
    if (now - this.#windowStart >= this.#intervalMs) {
      this.#flush();
      this.#windowStart = now;
      this.#windowLines = 0;
    }
    if (this.#windowLines < this.#lines) {
      this.#windowLines++;
      this.#logged++;
      this.#writeLine(`ferry: ${describeFailure(error, context)}`);
      return;
    }
    this.#suppressed++;
    this.#windowSuppressed++;
    this.#lastSuppressed = describeFailure(error, context);
    if (this.#timer === undefined && !this.#closed) {
      const delay = Math.max(0, this.#windowStart + this.#intervalMs - now);
      this.#timer = this.#clock.setTimer(() => {
        this.#timer = undefined;
        this.#flush();
      }, delay);
    }
  };

  get stats(): HandlerErrorLogStats {
    return { reported: this.#reported, logged: this.#logged, suppressed: this.#suppressed };
  }

  /** Writes the pending summary and disarms the timer. Later failures arm no timer. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#flush();
  }

  #flush(): void {
    if (this.#timer !== undefined) {
      this.#clock.clearTimer(this.#timer);
      this.#timer = undefined;
    }
    if (this.#windowSuppressed === 0) return;
    const count = this.#windowSuppressed;
    this.#windowSuppressed = 0;
    this.#writeLine(
      `ferry: … ${count} more handler failure${count === 1 ? "" : "s"} suppressed (at most ` +
        `${this.#lines} lines per ${this.#intervalMs} ms; the last: ${this.#lastSuppressed})`,
    );
  }

  #writeLine(line: string): void {
    try {
      this.#write(line);
    } catch {
      // Logging must not fail the connection that reported.
    }
  }
}

/** The log every client without an `onHandlerError` of its own reports to (one per process). */
export const sharedHandlerErrorLog: HandlerErrorLog = new HandlerErrorLog();

/** "`context` failed: Name: message" on one line, the message cut to an excerpt. */
function describeFailure(error: unknown, context: string): string {
  const name = error instanceof Error ? error.name : typeof error;
  const text = excerpt(describeError(error), DETAIL_CHARS).replace(/\s*[\r\n]+\s*/g, " ⏎ ");
  return `${excerpt(context)} failed: ${name}: ${text}`;
}
