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
 * One timer per server, armed only while the line is not empty; it samples the holders every
 * quarter of the deadline (so a stalled holder is reset between 1 and 1.25 × the deadline after its
 * writes blocked, once the line formed).
 *
 * @module
 */

import { unrefTimer } from "../deadline.ts";
import { LimitError } from "../errors.ts";

/** A connection holding reply memory (its `ReplyGate`). */
export interface ReplyHolder {
  /** Bytes it holds now. */
  readonly charged: number;
  /** `performance.now()` since when its peer has not taken outbound bytes; undefined: it reads. */
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

/** The smallest sampling interval: a tiny deadline (tests) must not spin. */
const MIN_SAMPLE_MS = 10;

export class ReplyPressureWatch {
  /** The deadline (ms); 0 disables the watch. */
  readonly timeoutMs: number;
  readonly #source: ReplyPressureSource;
  readonly #holders = new Set<ReplyHolder>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #resets = 0;
  readonly #sample = () => this.#onTimer();

  constructor(source: ReplyPressureSource, timeoutMs: number) {
    this.#source = source;
    this.timeoutMs = timeoutMs;
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
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      return;
    }
    if (this.#timer !== undefined || this.timeoutMs === 0) return;
    this.#timer = setTimeout(this.#sample, Math.max(MIN_SAMPLE_MS, this.timeoutMs / 4));
    unrefTimer(this.#timer);
  }

  #onTimer(): void {
    this.#timer = undefined;
    if (this.#source.waiting === 0) return;
    const now = performance.now();
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
