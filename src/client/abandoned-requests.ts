/**
 * Chunk fetches and stream requests that the caller gave up on before their reply arrived, and the
 * listeners told about them (`TransportClient.onAbandoned`).
 *
 * A request is abandoned when its own deadline passes or its `AbortSignal` aborts while the reply
 * is still outstanding, and a stream request also when the reader cancels its `ByteStream` before
 * the whole body has arrived (the rest is still on its way). Nothing is reported for requests that
 * fail because the connection closed, that were refused before anything was sent, or that already
 * have their complete reply (a stream cancelled after its last byte arrived). The client itself
 * has already done what keeps the wire correct: a late ChunkFetchSuccess / ChunkFetchFailure is
 * dropped and counted; an abandoned StreamRequest keeps its place in the reply order, so the peer
 * must still answer it (StreamResponse or StreamFailure) and the raw body of a StreamResponse is
 * read off the socket and discarded. A listener may tell a peer that understands it to stop the
 * work (Ferry's cancel extension); a plain Spark peer needs nothing.
 *
 * @module
 */

import type { Int64 } from "../protocol/messages.ts";

/** A chunk fetch or stream request abandoned before its reply (a stream: its whole body) came. */
export type AbandonedRequest =
  | {
    readonly kind: "chunk";
    /** The stream id as sent (a number, or a bigint beyond 2^53). */
    readonly streamId: Int64;
    readonly chunkIndex: number;
    /** Why: a `TimeoutError`, or the signal's reason. */
    readonly reason: unknown;
  }
  | {
    readonly kind: "stream";
    readonly streamId: string;
    /**
     * Why: a `TimeoutError`, the signal's reason, or the reason the reader passed to `cancel()`
     * (possibly `undefined`) when it cancelled the body part-way.
     */
    readonly reason: unknown;
  };

/**
 * Told once per abandoned request, synchronously, after the request's promise was rejected and the
 * request forgotten, or inside the reader's `cancel()` of a body part-way (whose rest the client
 * then reads off the socket and discards). The connection is still open; the listener may send on
 * it. A throw is reported to the client's `onHandlerError` and does not affect other listeners.
 */
export type AbandonedRequestListener<Client> = (request: AbandonedRequest, client: Client) => void;

/** The listeners of one client, in subscription order. */
export class AbandonedRequestListeners<Client> {
  #listeners: AbandonedRequestListener<Client>[] = [];
  readonly #onError: (error: unknown, context: string) => void;

  constructor(onError: (error: unknown, context: string) => void) {
    this.#onError = onError;
  }

  /** Whether anyone listens (the client skips building a notification otherwise). */
  get active(): boolean {
    return this.#listeners.length > 0;
  }

  /** Adds a listener; returns a function that removes it (idempotent). */
  add(listener: AbandonedRequestListener<Client>): () => void {
    // Copy on write: a listener that unsubscribes during a notification does not disturb it.
    this.#listeners = [...this.#listeners, listener];
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      const index = this.#listeners.indexOf(listener);
      if (index >= 0) this.#listeners = this.#listeners.toSpliced(index, 1);
    };
  }

  notify(request: AbandonedRequest, client: Client): void {
    for (const listener of this.#listeners) {
      try {
        listener(request, client);
      } catch (error) {
        this.#onError(error, `onAbandoned listener (${request.kind} ${String(request.streamId)})`);
      }
    }
  }
}
