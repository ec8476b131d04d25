/**
 * Chunks and streams being written, counted per connection (Spark's `chunksBeingTransferred`), so
 * that what a closed connection still counted can be dropped at once: its writes will never
 * report completion reliably, and a leaked count would shed load forever.
 *
 * @module
 */

import type { Peer } from "./peer.ts";

export class TransferCounts {
  /** Transfers in progress per connection (`undefined` when the caller did not say which). */
  readonly #byConnection = new Map<Peer | undefined, number>();
  #total = 0;

  /** Transfers in progress on every connection. */
  get total(): number {
    return this.#total;
  }

  started(client: Peer | undefined): void {
    this.#byConnection.set(client, (this.#byConnection.get(client) ?? 0) + 1);
    this.#total++;
  }

  /** A transfer ended; ignored when its connection was forgotten (or nothing was started). */
  ended(client: Peer | undefined): void {
    const count = this.#byConnection.get(client);
    if (count === undefined) return;
    if (count === 1) this.#byConnection.delete(client);
    else this.#byConnection.set(client, count - 1);
    this.#total--;
  }

  /** The connection closed: stop counting its transfers. */
  forget(client: Peer): void {
    const count = this.#byConnection.get(client);
    if (count === undefined) return;
    this.#byConnection.delete(client);
    this.#total -= count;
  }
}
