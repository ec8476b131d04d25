/**
 * The receiving side of one raw blast transfer, whatever carries it (`node:net`, `ws`): sends the
 * request for `count × size` bytes, counts what arrives, and settles once all of it has, or with
 * the error that ended the connection first. Only counts — nothing is copied or parsed.
 *
 * @module
 */

import { encodeBlastRequest } from "../servers/raw-blast-protocol.ts";

export class BlastTransfer {
  readonly #what: string;
  #expected = 0;
  #received = 0;
  #done: ((error?: Error) => void) | undefined;

  /** `what` names the baseline in errors, e.g. `"raw blast"`. */
  constructor(what: string) {
    this.#what = what;
  }

  /** Sends the request through `send`; resolves with the bytes received once all have arrived. */
  start(count: number, size: number, send: (request: Uint8Array) => void): Promise<number> {
    if (this.#done !== undefined) throw new Error(`${this.#what}: a transfer is already running`);
    this.#expected = count * size;
    this.#received = 0;
    return new Promise<number>((resolve, reject) => {
      this.#done = (error) => (error ? reject(error) : resolve(this.#received));
      send(encodeBlastRequest(count, size));
    });
  }

  /** Counts `byteLength` received bytes; settles the transfer once all have arrived. */
  received(byteLength: number): void {
    this.#received += byteLength;
    if (this.#received >= this.#expected) this.#settle();
  }

  /** Fails the running transfer, if any (the connection ended). */
  fail(error: Error): void {
    this.#settle(error);
  }

  #settle(error?: Error): void {
    const done = this.#done;
    if (done === undefined) return;
    this.#done = undefined;
    done(error);
  }
}
