/**
 * The deadlines a connection keeps on its peer's behaviour, with ONE scheduled check per
 * connection (in the clock's {@linkcode DeadlineHeap}, whose one timer serves all connections):
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
 * deadline. All of them share one check, scheduled in the {@linkcode DeadlineHeap} of the
 * connection's {@linkcode Clock}: one timer for every connection on that clock, not one each.
 *
 * @module
 */

import type { Clock } from "../clock.ts";
import { LimitError, TimeoutError, type TransportError } from "../errors.ts";
import { type DeadlineHeap, deadlineHeapOf, type HeapEntry } from "./deadline-heap.ts";

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

/** What the deadlines read from their connection (its hooks, which extend the deadlines). */
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
  isMidFrame(): boolean;
  /** Reading is paused by a local consumer, so silence is not the peer's fault. */
  isReadPausedByConsumer(): boolean;
  /** Requests of this side are waiting for replies. */
  hasOutstanding(): boolean;
  /** This side paused reading for any reason (the connection timeout does not run meanwhile). */
  isReadPaused(): boolean;
  /** A deadline passed: close the connection (`graceful`: end it cleanly, else reset). */
  expire(error: TransportError, graceful: boolean): void;
}

/** `#flags`: the deadlines run (the connection is open); the two watches are armed. */
const RUNNING = 1;
const WATCHING = 2;
const QUIET_WATCH = 4;

/** The two watches' samples (made by the first watch: an idle connection arms neither). */
interface Watches {
  /** No progress: the byte count last seen mid-frame, and when it changed. */
  progressBytes: number;
  progressAt: number;
  /** Connection timeout: the byte count last seen with requests outstanding, and when. */
  quietBytes: number;
  quietAt: number;
}

/**
 * The deadlines of one connection. Abstract: the connection's hooks extend it and answer the
 * {@linkcode ConnectionDeadlineHost} questions, so the deadlines and the hooks are ONE object.
 */
export abstract class ConnectionDeadlines implements HeapEntry, ConnectionDeadlineHost {
  /** When the heap tells this connection to check its deadlines (while `heapIndex >= 0`). */
  dueAt = 0;
  heapIndex = -1;
  readonly #options: ConnectionDeadlineOptions;
  /** Where the check is scheduled: one timer for every connection on the clock. */
  readonly #heap: DeadlineHeap;
  /** When it opened and was last active, in whole milliseconds (rounded up: no number box). */
  #startedAt = 0;
  #activeAt = 0;
  #lastCount = 0;
  #flags = 0;
  #watches: Watches | undefined;

  constructor(options: ConnectionDeadlineOptions, clock: Clock) {
    this.#options = options;
    this.#heap = deadlineHeapOf(clock);
  }

  abstract get peer(): string;
  abstract messagesReceived(): number;
  abstract bytesReceived(): number;
  abstract isBusy(): boolean;
  abstract blockedSince(): number | undefined;
  abstract queuedBytes(): number;
  abstract isMidFrame(): boolean;
  abstract isReadPausedByConsumer(): boolean;
  abstract hasOutstanding(): boolean;
  abstract isReadPaused(): boolean;
  abstract expire(error: TransportError, graceful: boolean): void;

  /** The connection is open: the first-frame clock starts now. */
  start(): void {
    const now = this.#heap.clock.now();
    this.#flags |= RUNNING;
    this.#startedAt = Math.ceil(now);
    this.#activeAt = this.#startedAt;
    this.#schedule(now);
    // Bytes delivered while the socket was being attached may already have started a frame.
    if (this.isMidFrame()) this.midFrame();
  }

  /** Outbound writes became blocked (the socket is above its high-water mark). */
  blocked(): void {
    const timeout = this.#options.slowConsumerTimeoutMs ?? 0;
    if ((this.#flags & RUNNING) === 0 || timeout <= 0) return;
    const due = this.#heap.clock.now() + timeout;
    if (this.#later(due)) this.#arm(due);
  }

  /** Requests became outstanding after none were: the connection timeout's quiet period starts. */
  busy(): void {
    const timeout = this.#options.connectionTimeoutMs ?? 0;
    if ((this.#flags & RUNNING) === 0 || timeout <= 0) return;
    const now = this.#heap.clock.now();
    const watches = this.#watchesNow();
    watches.quietBytes = this.bytesReceived();
    watches.quietAt = now;
    if ((this.#flags & QUIET_WATCH) !== 0) return;
    this.#flags |= QUIET_WATCH;
    const due = now + Math.max(1, timeout / 4);
    if (this.#later(due)) this.#arm(due);
  }

  /** The connection is inside a frame or an announced body: its bytes must keep coming. */
  midFrame(): void {
    if ((this.#flags & WATCHING) !== 0) return;
    const timeout = this.#options.noProgressTimeoutMs ?? 0;
    if ((this.#flags & RUNNING) === 0 || timeout <= 0) return;
    const now = this.#heap.clock.now();
    this.#flags |= WATCHING;
    const watches = this.#watchesNow();
    watches.progressBytes = this.bytesReceived();
    watches.progressAt = now;
    const due = now + Math.max(1, timeout / 4);
    if (this.#later(due)) this.#arm(due);
  }

  /** The connection closed: no deadline applies any more. */
  stop(): void {
    this.#flags = 0;
    this.#heap.remove(this);
  }

  /** Whether the check is scheduled later than `due` (or not at all). */
  #later(due: number): boolean {
    return this.heapIndex < 0 || due < this.dueAt;
  }

  #watchesNow(): Watches {
    return this.#watches ??= { progressBytes: 0, progressAt: 0, quietBytes: 0, quietAt: 0 };
  }

  #arm(due: number): void {
    this.#heap.schedule(this, due);
  }

  #schedule(now: number): void {
    const { firstFrameTimeoutMs = 0, idleTimeoutMs = 0, slowConsumerTimeoutMs = 0 } = this.#options;
    const flags = this.#flags;
    let due = Infinity;
    if ((flags & WATCHING) !== 0) {
      due = now + Math.max(1, (this.#options.noProgressTimeoutMs ?? 0) / 4);
    }
    if ((flags & QUIET_WATCH) !== 0) {
      const timeout = this.#options.connectionTimeoutMs ?? 0;
      due = Math.min(due, this.#watches!.quietAt + timeout, now + Math.max(1, timeout / 4));
    }
    if (this.#lastCount === 0 && firstFrameTimeoutMs > 0) {
      due = this.#startedAt + firstFrameTimeoutMs;
    }
    if (idleTimeoutMs > 0) {
      // Sampled every quarter: the first frame (or new activity) is noticed within that.
      due = Math.min(due, this.#activeAt + idleTimeoutMs, now + Math.max(1, idleTimeoutMs / 4));
    }
    const blockedSince = this.blockedSince();
    if (blockedSince !== undefined && slowConsumerTimeoutMs > 0) {
      due = Math.min(due, blockedSince + slowConsumerTimeoutMs);
    }
    if (due === Infinity) this.#heap.remove(this);
    else this.#arm(due);
  }

  /** The heap's timer reached this connection's check (it is out of the heap now). */
  due(now: number): void {
    if ((this.#flags & RUNNING) === 0) return;
    const { firstFrameTimeoutMs = 0, idleTimeoutMs = 0, slowConsumerTimeoutMs = 0 } = this.#options;
    const blockedSince = this.blockedSince();
    if (
      blockedSince !== undefined && slowConsumerTimeoutMs > 0 &&
      now - blockedSince >= slowConsumerTimeoutMs
    ) {
      this.#expire(
        new LimitError(
          `Writing to ${this.peer} failed: ${this.queuedBytes()} bytes have been queued above the ` +
            `write high-water mark for ${Math.round(now - blockedSince)} ms without the peer ` +
            `reading (slowConsumerTimeoutMs ${slowConsumerTimeoutMs}); closing the connection ` +
            `to a slow consumer`,
        ),
        false,
      );
      return;
    }
    if ((this.#flags & WATCHING) !== 0 && this.#stalled(now)) return;
    if ((this.#flags & QUIET_WATCH) !== 0 && this.#quiet(now)) return;
    const count = this.messagesReceived();
    if (count !== this.#lastCount) {
      this.#lastCount = count;
      this.#activeAt = Math.ceil(now);
    } else if (this.isBusy()) {
      this.#activeAt = Math.ceil(now);
    }
    if (count === 0 && firstFrameTimeoutMs > 0 && now - this.#startedAt >= firstFrameTimeoutMs) {
      this.#expire(
        new TimeoutError(
          `Connection from ${this.peer} sent no complete frame within ${firstFrameTimeoutMs} ms ` +
            `of opening (${this.bytesReceived()} bytes received; firstFrameTimeoutMs); closing it`,
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
          `Connection to ${this.peer} has been idle for ${Math.round(now - this.#activeAt)} ms ` +
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
    if (!this.isMidFrame()) {
      this.#flags &= ~WATCHING;
      return false;
    }
    const watches = this.#watches!;
    const bytes = this.bytesReceived();
    if (bytes !== watches.progressBytes || this.isReadPausedByConsumer()) {
      watches.progressBytes = bytes;
      watches.progressAt = now;
      return false;
    }
    const timeout = this.#options.noProgressTimeoutMs ?? 0;
    if (now - watches.progressAt < timeout) return false;
    this.#expire(
      new TimeoutError(
        `Connection to ${this.peer} stopped sending the frame or body it announced: no byte of ` +
          `it for ${Math.round(now - watches.progressAt)} ms (${bytes} bytes received; ` +
          `noProgressTimeoutMs ${timeout}); closing it`,
        timeout,
      ),
      false,
    );
    return true;
  }

  /** Samples the connection-timeout watch; closes the connection (and returns true) when dead. */
  #quiet(now: number): boolean {
    if (!this.hasOutstanding()) {
      this.#flags &= ~QUIET_WATCH;
      return false;
    }
    const watches = this.#watches!;
    const bytes = this.bytesReceived();
    if (bytes !== watches.quietBytes || this.isReadPaused()) {
      watches.quietBytes = bytes;
      watches.quietAt = now;
      return false;
    }
    const timeout = this.#options.connectionTimeoutMs ?? 0;
    const quietMs = now - watches.quietAt;
    if (quietMs < timeout) return false;
    this.#expire(
      new TimeoutError(
        `Connection to ${this.peer} has been quiet for ${Math.round(quietMs)} ms while ` +
          `requests are outstanding (connectionTimeoutMs ${timeout}); assuming it is dead`,
        timeout,
      ),
      false,
    );
    return true;
  }

  #expire(error: TransportError, graceful: boolean): void {
    this.stop();
    this.expire(error, graceful);
  }
}
