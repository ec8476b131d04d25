/**
 * Chunks and streams being written, counted per connection (Spark's `chunksBeingTransferred`), so
 * that what a closed connection still counted can be dropped at once: its writes will never
 * report completion reliably, and a leaked count would shed load forever.
 *
 * @module
 */

import type { TransportClient } from "../client/transport-client.ts";

export class TransferCounts {
  /** Transfers in progress per connection (`undefined` when the caller did not say which). */
  readonly #byConnection = new Map<TransportClient | undefined, number>();
  #total = 0;

  /** Transfers in progress on every connection. */
  get total(): number {
    return this.#total;
  }

  started(client: TransportClient | undefined): void {
    this.#byConnection.set(client, (this.#byConnection.get(client) ?? 0) + 1);
    this.#total++;
  }

  /** A transfer ended; ignored when its connection was forgotten (or nothing was started). */
  ended(client: TransportClient | undefined): void {
    const count = this.#byConnection.get(client);
    if (count === undefined) return;
    if (count === 1) this.#byConnection.delete(client);
    else this.#byConnection.set(client, count - 1);
    this.#total--;
  }

  /** The connection closed: stop counting its transfers. */
  forget(client: TransportClient): void {
    const count = this.#byConnection.get(client);
    if (count === undefined) return;
    this.#byConnection.delete(client);
    this.#total -= count;
  }
}
