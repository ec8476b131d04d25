/**
 * The reply-memory pressure deadline (`replyPressureTimeoutMs`): while connections wait in the
 * server-wide {@linkcode ReplyMemory}'s line, a connection that holds reply memory and whose peer
 * has not taken a byte for this long (its outbound writes stayed blocked above the high-water mark)
 * is reset with a `LimitError` naming the limit, so its charges come back to the budget.
 *
 * Without it, `maxReplyBytes / replyWindowBytes` connections that never read held the whole budget
 * until `slowConsumerTimeoutMs` (60 s) reset them, and every other client's fetch waited that long.
 * The shorter deadline applies only under pressure (somebody is waiting for the memory those
 * connections hold) and only to connections holding some: a slow reader on an otherwise quiet
 * server keeps the ordinary slow-consumer deadline.
 *
 * One timer per server, armed only while the line is not empty, on the server's {@linkcode Clock}:
 * it fires when the earliest stalled holder's deadline falls due (`stalledSince +` the deadline),
 * so a stalled holder is reset at its deadline once the line formed. A holder's stall begins
 * without telling the watch, so with none stalled the timer is set one deadline ahead — the
 * soonest a holder stalling from now on could be due — rather than sampling at a fixed period.
 *
 * @module
 */

import { type Clock, systemClock, type TimerHandle } from "../clock.ts";
import { LimitError } from "../errors.ts";

/** A connection holding reply memory (its `ReplyGate`). */
export interface ReplyHolder {
  /** Bytes it holds now. */
  readonly charged: number;
  /** `Clock.now()` since when its peer has not taken outbound bytes; undefined: it reads. */
  stalledSince(): number | undefined;
  /** Resets its connection with `error` (its charges come back as its replies are dropped). */
  reset(error: LimitError): void;
}

/** What the watch reads from the budget it guards, for its error message. */
export interface ReplyPressureSource {
  readonly limit: number;
  readonly charged: number;
  /** Connections waiting for room. */
  readonly waiting: number;
}

export class ReplyPressureWatch {
  /** The deadline (ms); 0 disables the watch. */
  readonly timeoutMs: number;
  readonly #source: ReplyPressureSource;
  readonly #holders = new Set<ReplyHolder>();
  readonly #clock: Clock;
  #timer: TimerHandle | undefined;
  #resets = 0;
  readonly #due = () => this.#onTimer();

  constructor(source: ReplyPressureSource, timeoutMs: number, clock: Clock = systemClock) {
    this.#source = source;
    this.timeoutMs = timeoutMs;
    this.#clock = clock;
  }

  /** Connections reset by the deadline so far. */
  get resets(): number {
    return this.#resets;
  }

  /** `holder` now holds reply memory (idempotent). */
  hold(holder: ReplyHolder): void {
    this.#holders.add(holder);
  }

  /** `holder` holds none any more (idempotent). */
  unhold(holder: ReplyHolder): void {
    this.#holders.delete(holder);
  }

  /** Whether connections wait for memory: arms the timer while they do, clears it when not. */
  pressure(waiting: boolean): void {
    if (!waiting) {
      if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
      this.#timer = undefined;
      return;
    }
    if (this.#timer !== undefined || this.timeoutMs === 0) return;
    const now = this.#clock.now();
    this.#timer = this.#clock.setTimer(this.#due, this.#nextDue(now) - now);
  }

  /** When the earliest holder's deadline falls due; one deadline ahead if none is stalled. */
  #nextDue(now: number): number {
    let due = now + this.timeoutMs;
    for (const holder of this.#holders) {
      const since = holder.stalledSince();
      if (holder.charged > 0 && since !== undefined) due = Math.min(due, since + this.timeoutMs);
    }
    return due;
  }

  #onTimer(): void {
    this.#timer = undefined;
    if (this.#source.waiting === 0) return;
    const now = this.#clock.now();
    const stalled: [ReplyHolder, number][] = [];
    for (const holder of this.#holders) {
      const since = holder.stalledSince();
      if (holder.charged > 0 && since !== undefined && now - since >= this.timeoutMs) {
        stalled.push([holder, now - since]);
      }
    }
    for (const [holder, ms] of stalled) {
      this.#holders.delete(holder);
      this.#resets++;
      const { limit, charged, waiting } = this.#source;
      holder.reset(
        new LimitError(
          `Reply memory is under pressure (${charged} of maxReplyBytes ${limit} bytes charged, ` +
            `${waiting} connection(s) waiting for room) and this connection held ` +
            `${holder.charged} bytes of replies its peer did not read for ${Math.round(ms)} ms ` +
            `(replyPressureTimeoutMs ${this.timeoutMs}): reset`,
        ),
      );
    }
    this.pressure(this.#source.waiting > 0);
  }
}
