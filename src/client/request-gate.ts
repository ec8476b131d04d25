/**
 * Whether a `TransportClient` request may go out now, and the deadline that watches it once it has.
 *
 * - Admission: a bad `timeoutMs`, an already-aborted signal, a closed connection or
 *   `maxInFlightRequests` reached fail the call before anything is sent.
 * - Deadlines: each request's own `{ timeoutMs, signal }` (default timeout `requestTimeoutMs`). On
 *   expiry the request is forgotten (its late reply will be dropped and counted), its promise
 *   rejects, and a chunk fetch or stream request is reported to the `onAbandoned` listeners.
 *
 * @module
 */

import type { AbandonedRequest } from "./abandoned-requests.ts";
import type { Clock } from "../clock.ts";
import type { Connection } from "../connection/connection.ts";
import type { PendingReply } from "../connection/pending-reply.ts";
import type { CallOptions } from "../deadline.ts";
import { ConnectionClosedError, LimitError } from "../errors.ts";
import type { Message } from "../protocol/messages.ts";
import { checkTimeout } from "./request-arguments.ts";
import { ClosureDeadline, type RequestDeadline, RequestDeadlines } from "./request-deadlines.ts";

export interface RequestGateOptions {
  /** Deadline of a request that passes no `timeoutMs`; 0 = none. */
  readonly requestTimeoutMs: number;
  readonly maxInFlightRequests: number;
  /** Arms every request's deadline timer (undefined: real time, see `watchDeadline`). */
  readonly clock: Clock | undefined;
  /** Tells the `onAbandoned` listeners (only called while the connection is open). */
  readonly abandoned: (request: AbandonedRequest) => void;
  /** Whether anyone listens to abandoned requests (skips describing them otherwise). */
  readonly listening: () => boolean;
}

export class RequestGate {
  /** The deadlines of this client's requests (one timer for all of them). */
  readonly deadlines: RequestDeadlines;
  readonly #connection: Connection;
  readonly #options: RequestGateOptions;

  constructor(connection: Connection, options: RequestGateOptions) {
    this.#connection = connection;
    this.#options = options;
    this.deadlines = new RequestDeadlines(options.clock);
  }

  /** The client's default deadline of a request (`requestTimeoutMs`; 0: none). */
  get requestTimeoutMs(): number {
    return this.#options.requestTimeoutMs;
  }

  /** Why a new request cannot be sent now, if it cannot. */
  refuse(what: string, options: CallOptions | undefined): unknown {
    const invalid = checkTimeout(options?.timeoutMs, what);
    if (invalid !== undefined) return invalid;
    if (options?.signal?.aborted) return options.signal.reason;
    const closed = this.closedError(what);
    if (closed !== undefined) return closed;
    const outstanding = this.#connection.outstanding;
    const limit = this.#options.maxInFlightRequests;
    if (outstanding >= limit) {
      return new LimitError(
        `Cannot send ${what} to ${this.#connection.peer}: ${outstanding} requests are in ` +
          `flight, the limit (maxInFlightRequests ${limit})`,
      );
    }
    return undefined;
  }

  /** The error a send fails with once the connection is closed. */
  closedError(what: string): ConnectionClosedError | undefined {
    return closedSendError(this.#connection, what);
  }

  /** The deadline of a request: its own options, or the client's `requestTimeoutMs`. */
  deadline(options: CallOptions | undefined): CallOptions | undefined {
    const timeoutMs = options?.timeoutMs ?? this.#options.requestTimeoutMs;
    const signal = options?.signal;
    if (!(timeoutMs > 0) && signal === undefined) return undefined;
    if (options?.timeoutMs === timeoutMs) return options;
    return signal === undefined ? { timeoutMs } : { timeoutMs, signal };
  }

  /**
   * Sends `message` for a request whose `reply` (from `PendingReply.create`) is registered already.
   * A send that throws (a field that cannot be encoded) calls `forget(true)` and rejects the reply;
   * otherwise the deadline, if any, is armed with `forget(false)`. Returns the reply's promise.
   */
  issue<T>(
    reply: PendingReply<T>,
    message: Message,
    forget: (unsent: boolean) => void,
    deadline: CallOptions | undefined,
    what: string,
    abandoned?: (reason: unknown) => AbandonedRequest,
  ): Promise<T> {
    try {
      this.#connection.send(message);
    } catch (error) {
      forget(true);
      reply.reject(error);
      return reply.promise!;
    }
    if (deadline !== undefined) this.arm(reply, deadline, what, () => forget(false), abandoned);
    return reply.promise!;
  }

  /**
   * Watches a sent request's deadline; on expiry `forget` drops it from the reply matching, its
   * promise rejects, and `abandoned` (chunk fetches and streams) describes it to the listeners.
   */
  arm<T>(
    reply: PendingReply<T>,
    deadline: CallOptions,
    what: string,
    forget: () => void,
    abandoned?: (reason: unknown) => AbandonedRequest,
  ): void {
    if (reply.settled) return;
    const expired = (error: unknown) => {
      forget();
      reply.reject(error);
      if (abandoned !== undefined && this.#options.listening() && this.#connection.isOpen) {
        this.#options.abandoned(abandoned(error));
      }
    };
    this.watch(new ClosureDeadline(reply, what, expired), deadline);
  }

  /** Watches `deadline` for the `{ timeoutMs, signal }` of `options` (the client's one timer). */
  watch(deadline: RequestDeadline, options: CallOptions): void {
    this.deadlines.watch(deadline, options.timeoutMs ?? 0, options.signal);
  }
}

/** The error sending `what` fails with once `connection` is closed (undefined while open). */
export function closedSendError(
  connection: Connection,
  what: string,
): ConnectionClosedError | undefined {
  const closed = connection.closedError;
  if (closed === undefined) return undefined;
  return new ConnectionClosedError(`Cannot send ${what}: ${closed.message}`, {
    cause: closed.cause,
  });
}
