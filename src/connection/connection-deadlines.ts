/**
 * The deadlines a connection keeps on its peer's behaviour, with ONE timer per connection:
 *
 * - **First frame** (`firstFrameTimeoutMs`): the peer must deliver a complete frame within this
 *   long of the connection opening. Ferry has no wire handshake, so the first frame is the
 *   handshake; bytes that do not complete a frame (a peer that never speaks, or drips bytes) do
 *   not count. Closes with a `TimeoutError` (reset).
 * - **Idle** (`idleTimeoutMs`): no complete frame received and nothing in flight (no request of
 *   this side outstanding, none being served, no bytes queued, no body arriving) for this long:
 *   the connection closes gracefully. Only complete frames count as activity, so dripping bytes
 *   does not keep a connection alive.
 * - **Slow consumer** (`slowConsumerTimeoutMs`): outbound bytes stayed above the socket's
 *   high-water mark without a drain for this long: the peer is not reading. Closes with a
 *   `LimitError` (reset). The write hard cap still applies on top of it.
 * - **No progress** (`noProgressTimeoutMs`): the connection is inside a frame or an announced
 *   stream/upload body (the decoder is mid-frame) and no byte has arrived for this long. Closes
 *   with a `TimeoutError` (reset), which frees what the partial frame holds. Time with reading
 *   paused by a local consumer (a stream nobody reads) does not count; waiting for inbound frame
 *   memory does. Without it, a body announced and never sent held its connection forever (it is
 *   traffic in flight, so the idle deadline waits for it). The connection reports after each
 *   received chunk that it is mid-frame ({@linkcode ConnectionDeadlines.midFrame}, a flag check
 *   when already watched); the timer then samples the byte counter every quarter of the
 *   deadline, so a stalled frame is closed between 1 and 1.5 × `noProgressTimeoutMs` after its
 *   last byte.
 *
 * - **Connection timeout** (`connectionTimeoutMs`, Spark's rule): requests of this side are
 *   outstanding and nothing has been received for this long: the connection is assumed dead and
 *   closed with a `TimeoutError` (reset). Watched only while requests are outstanding (the
 *   connection reports when they become so, {@linkcode ConnectionDeadlines.busy}); time with
 *   reading paused by this side does not count. Sampled every quarter of the deadline, so a dead
 *   connection is closed between 1 and 1.25 × `connectionTimeoutMs` after its last byte.
 *
 * Nothing is done per frame or per byte: the timer samples the connection's message and byte
 * counters when it fires. Idle time is checked every quarter of `idleTimeoutMs`, so an idle
 * connection closes between 1 and 1.25 × `idleTimeoutMs` after its last frame. The writer reports
 * when it becomes blocked, so the slow-consumer deadline is armed only then. 0 disables a
 * deadline. All of them share the one timer, armed on the connection's {@linkcode Clock}.
 *
 * @module
 */

import type { Clock, TimerHandle } from "../clock.ts";
import { LimitError, TimeoutError, type TransportError } from "../errors.ts";

/**
 * The deadlines in milliseconds; absent or 0: none. The connection passes its own options object
 * (shared by every connection of a server), so the deadlines cost no object of their own.
 */
export interface ConnectionDeadlineOptions {
  readonly firstFrameTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  readonly slowConsumerTimeoutMs?: number;
  readonly noProgressTimeoutMs?: number;
  readonly connectionTimeoutMs?: number;
}

/** What the deadlines read from their connection. */
export interface ConnectionDeadlineHost {
  readonly peer: string;
  /** Complete messages received so far. */
  messagesReceived(): number;
  /** Bytes received so far (for error messages). */
  bytesReceived(): number;
  /** Something is in flight either way (requests, replies being produced, queued bytes). */
  isBusy(): boolean;
  /** `clock.now()` when outbound writes became blocked; undefined while not blocked. */
  blockedSince(): number | undefined;
  /** Bytes queued for the peer (for error messages). */
  queuedBytes(): number;
  /** Inside a frame or an announced body (more bytes of it are owed). */
  midFrame(): boolean;
  /** Reading is paused by a local consumer, so silence is not the peer's fault. */
  isReadPausedByConsumer(): boolean;
  /** Requests of this side are waiting for replies. */
  hasOutstanding(): boolean;
  /** This side paused reading for any reason (the connection timeout does not run meanwhile). */
  isReadPaused(): boolean;
  /** A deadline passed: close the connection (`graceful`: end it cleanly, else reset). */
  expire(error: TransportError, graceful: boolean): void;
}

export class ConnectionDeadlines {
  readonly #options: ConnectionDeadlineOptions;
  readonly #host: ConnectionDeadlineHost;
  readonly #clock: Clock;
  #timer: TimerHandle | undefined;
  #dueAt = Infinity;
  #startedAt = 0;
  #activeAt = 0;
  #lastCount = 0;
  #running = false;
  /** No-progress watch: armed while mid-frame; the byte count last seen and when it changed. */
  #watching = false;
  #progressBytes = 0;
  #progressAt = 0;
  /** Connection-timeout watch: armed while requests are outstanding; bytes last seen and when. */
  #quietWatch = false;
  #quietBytes = 0;
  #quietAt = 0;
  /** The timer's callback, made when first armed (a client that never waits arms none). */
  #check: (() => void) | undefined;

  constructor(options: ConnectionDeadlineOptions, host: ConnectionDeadlineHost, clock: Clock) {
    this.#options = options;
    this.#host = host;
    this.#clock = clock;
  }

  /** The connection is open: the first-frame clock starts now. */
  start(): void {
    const now = this.#clock.now();
    this.#running = true;
    this.#startedAt = now;
    this.#activeAt = now;
    this.#schedule(now);
    // Bytes delivered while the socket was being attached may already have started a frame.
    if (this.#host.midFrame()) this.midFrame();
  }

  /** Outbound writes became blocked (the socket is above its high-water mark). */
  blocked(): void {
    const timeout = this.#options.slowConsumerTimeoutMs ?? 0;
    if (!this.#running || timeout <= 0) return;
    const due = this.#clock.now() + timeout;
    if (due < this.#dueAt) this.#arm(due);
  }

  /** Requests became outstanding after none were: the connection timeout's quiet period starts. */
  busy(): void {
    const timeout = this.#options.connectionTimeoutMs ?? 0;
    if (!this.#running || timeout <= 0) return;
    const now = this.#clock.now();
    this.#quietBytes = this.#host.bytesReceived();
    this.#quietAt = now;
    if (this.#quietWatch) return;
    this.#quietWatch = true;
    const due = now + Math.max(1, timeout / 4);
    if (due < this.#dueAt) this.#arm(due);
  }

  /** The connection is inside a frame or an announced body: its bytes must keep coming. */
  midFrame(): void {
    if (this.#watching) return;
    const timeout = this.#options.noProgressTimeoutMs ?? 0;
    if (!this.#running || timeout <= 0) return;
    const now = this.#clock.now();
    this.#watching = true;
    this.#progressBytes = this.#host.bytesReceived();
    this.#progressAt = now;
    const due = now + Math.max(1, timeout / 4);
    if (due < this.#dueAt) this.#arm(due);
  }

  /** The connection closed: no deadline applies any more. */
  stop(): void {
    this.#running = false;
    this.#watching = false;
    this.#quietWatch = false;
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#dueAt = Infinity;
  }

  #arm(due: number): void {
    const clock = this.#clock;
    if (this.#timer !== undefined) clock.clearTimer(this.#timer);
    this.#dueAt = due;
    this.#check ??= () => this.#onTimer();
    this.#timer = clock.setTimer(this.#check, Math.max(1, Math.ceil(due - clock.now())));
  }

  #schedule(now: number): void {
    const { firstFrameTimeoutMs = 0, idleTimeoutMs = 0, slowConsumerTimeoutMs = 0 } = this.#options;
    let due = Infinity;
    if (this.#watching) due = now + Math.max(1, (this.#options.noProgressTimeoutMs ?? 0) / 4);
    if (this.#quietWatch) {
      const timeout = this.#options.connectionTimeoutMs ?? 0;
      due = Math.min(due, this.#quietAt + timeout, now + Math.max(1, timeout / 4));
    }
    if (this.#lastCount === 0 && firstFrameTimeoutMs > 0) {
      due = this.#startedAt + firstFrameTimeoutMs;
    }
    if (idleTimeoutMs > 0) {
      // Sampled every quarter: the first frame (or new activity) is noticed within that.
      due = Math.min(due, this.#activeAt + idleTimeoutMs, now + Math.max(1, idleTimeoutMs / 4));
    }
    const blockedSince = this.#host.blockedSince();
    if (blockedSince !== undefined && slowConsumerTimeoutMs > 0) {
      due = Math.min(due, blockedSince + slowConsumerTimeoutMs);
    }
    if (due === Infinity) {
      this.#timer = undefined;
      this.#dueAt = Infinity;
    } else {
      this.#arm(due);
    }
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#dueAt = Infinity;
    if (!this.#running) return;
    const host = this.#host;
    const { firstFrameTimeoutMs = 0, idleTimeoutMs = 0, slowConsumerTimeoutMs = 0 } = this.#options;
    const now = this.#clock.now();
    const blockedSince = host.blockedSince();
    if (
      blockedSince !== undefined && slowConsumerTimeoutMs > 0 &&
      now - blockedSince >= slowConsumerTimeoutMs
    ) {
      this.#expire(
        new LimitError(
          `Writing to ${host.peer} failed: ${host.queuedBytes()} bytes have been queued above the ` +
            `write high-water mark for ${Math.round(now - blockedSince)} ms without the peer ` +
            `reading (slowConsumerTimeoutMs ${slowConsumerTimeoutMs}); closing the connection ` +
            `to a slow consumer`,
        ),
        false,
      );
      return;
    }
    if (this.#watching && this.#stalled(now)) return;
    if (this.#quietWatch && this.#quiet(now)) return;
    const count = host.messagesReceived();
    if (count !== this.#lastCount) {
      this.#lastCount = count;
      this.#activeAt = now;
    } else if (host.isBusy()) {
      this.#activeAt = now;
    }
    if (count === 0 && firstFrameTimeoutMs > 0 && now - this.#startedAt >= firstFrameTimeoutMs) {
      this.#expire(
        new TimeoutError(
          `Connection from ${host.peer} sent no complete frame within ${firstFrameTimeoutMs} ms ` +
            `of opening (${host.bytesReceived()} bytes received; firstFrameTimeoutMs); closing it`,
          firstFrameTimeoutMs,
        ),
        false,
      );
      return;
    }
    if (
      (count > 0 || firstFrameTimeoutMs <= 0) && idleTimeoutMs > 0 &&
      now - this.#activeAt >= idleTimeoutMs
    ) {
      this.#expire(
        new TimeoutError(
          `Connection to ${host.peer} has been idle for ${Math.round(now - this.#activeAt)} ms ` +
            `(no complete frame received, nothing in flight; idleTimeoutMs ${idleTimeoutMs}); ` +
            `closing it`,
          idleTimeoutMs,
        ),
        true,
      );
      return;
    }
    this.#schedule(now);
  }

  /** Samples the no-progress watch; closes the connection (and returns true) when it expired. */
  #stalled(now: number): boolean {
    const host = this.#host;
    if (!host.midFrame()) {
      this.#watching = false;
      return false;
    }
    const bytes = host.bytesReceived();
    if (bytes !== this.#progressBytes || host.isReadPausedByConsumer()) {
      this.#progressBytes = bytes;
      this.#progressAt = now;
      return false;
    }
    const timeout = this.#options.noProgressTimeoutMs ?? 0;
    if (now - this.#progressAt < timeout) return false;
    this.#expire(
      new TimeoutError(
        `Connection to ${host.peer} stopped sending the frame or body it announced: no byte of ` +
          `it for ${Math.round(now - this.#progressAt)} ms (${bytes} bytes received; ` +
          `noProgressTimeoutMs ${timeout}); closing it`,
        timeout,
      ),
      false,
    );
    return true;
  }

  /** Samples the connection-timeout watch; closes the connection (and returns true) when dead. */
  #quiet(now: number): boolean {
    const host = this.#host;
    if (!host.hasOutstanding()) {
      this.#quietWatch = false;
      return false;
    }
    const bytes = host.bytesReceived();
    if (bytes !== this.#quietBytes || host.isReadPaused()) {
      this.#quietBytes = bytes;
      this.#quietAt = now;
      return false;
    }
    const timeout = this.#options.connectionTimeoutMs ?? 0;
    const quietMs = now - this.#quietAt;
    if (quietMs < timeout) return false;
    this.#expire(
      new TimeoutError(
        `Connection to ${host.peer} has been quiet for ${Math.round(quietMs)} ms while ` +
          `requests are outstanding (connectionTimeoutMs ${timeout}); assuming it is dead`,
        timeout,
      ),
      false,
    );
    return true;
  }

  #expire(error: TransportError, graceful: boolean): void {
    this.stop();
    this.#host.expire(error, graceful);
  }
}
