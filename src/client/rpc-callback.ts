/**
 * `TransportClient.sendRpcWith`: an RPC whose outcome goes to two callbacks (Spark's
 * `RpcResponseCallback`) instead of a promise.
 *
 * What a promise costs per RPC, measured on the 64-byte echo with 256 in flight (a client fed its
 * replies in-process, no kernel): the promise and its resolving functions, the `then` lookup on
 * the reply when resolving (every `Uint8Array` is looked up for a `then`), a microtask per reply
 * and the caller's own `then` were about 115 of the client's 220 ns per RPC. A callback RPC is ONE
 * object per request, waiting in the reply table itself, called straight from the decoder.
 *
 * @module
 */

import type { Connection } from "../connection/connection.ts";
import { RequestDeadline } from "./request-deadlines.ts";

/**
 * Receives the outcome of one `sendRpcWith`: exactly one of the two methods is called, once.
 *
 * `onSuccess` runs synchronously while the reply is being decoded (not in a microtask), so it may
 * send the next request at once; `reply` is the caller's to keep. `onFailure` receives what the
 * promise of `sendRpc` would reject with (`RemoteError`, `ConnectionClosedError`, `TimeoutError`,
 * the signal's reason, `InvalidArgumentError`, `LimitError`); for a request refused before it was
 * sent it runs in a microtask, never inside `sendRpcWith`. A callback that throws does not reach
 * the connection: what it throws is rethrown in a microtask (an uncaught error, as from an event
 * listener).
 */
export interface RpcCallback {
  onSuccess(reply: Uint8Array): void;
  onFailure(error: unknown): void;
}

/** Rethrows what a callback threw outside the decoder (an uncaught error of the caller's code). */
function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

/**
 * One callback RPC waiting for its reply: what the reply table holds (it settles like a
 * `PendingReply`), and its deadline when it has one (a `RequestDeadline` that is never watched
 * costs nothing but its fields).
 */
export class CallbackRpc extends RequestDeadline {
  readonly #callback: RpcCallback;
  #settled = false;

  constructor(
    readonly requestId: number,
    readonly connection: Connection,
    callback: RpcCallback,
  ) {
    super();
    this.#callback = callback;
  }

  resolve(reply: Uint8Array): void {
    if (this.#settled) return;
    this.#settled = true;
    this.dispose();
    try {
      this.#callback.onSuccess(reply);
    } catch (error) {
      rethrowLater(error);
    }
  }

  reject(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.dispose();
    try {
      this.#callback.onFailure(error);
    } catch (thrown) {
      rethrowLater(thrown);
    }
  }

  what(): string {
    return `RPC ${this.requestId} to ${this.connection.peer}`;
  }

  expired(error: unknown): void {
    this.connection.responses.removeRpc(this.requestId, this);
    this.reject(error);
  }
}

/** `callback.onFailure(error)` in a microtask (a request refused before it was sent). */
export function failLater(callback: RpcCallback, error: unknown): void {
  queueMicrotask(() => {
    try {
      callback.onFailure(error);
    } catch (thrown) {
      rethrowLater(thrown);
    }
  });
}
