/**
 * One-way messages a browser sends through its gateway session get no reply, so neither the
 * in-flight cap nor the request-bytes cap bounds how many wait in the backend client's queue.
 * This watch tells the session when to stop reading the browser, and when it may read again —
 * woken by the backend, never by polling on a timer.
 *
 * The backend is not taking one-way bytes while its socket refused a write (until that socket's
 * `drain`, which wakes the watch: see `backend-socket.ts`), or while the client holds more than
 * `highWaterMark` bytes not yet handed to the socket (they go at the client's flush, a microtask
 * away: the watch looks again right after it). Bytes still held after a flush without the socket
 * refusing wait behind an upload body, which needs the browser's bytes to finish: they never stop
 * the browser.
 *
 * @module
 */

import type { TransportClient } from "../client/transport-client.ts";
import type { BackendSocket } from "./backend-socket.ts";

/** One-way bytes sent between two looks at the client's queue (its stats cost an object). */
const CHECK_EVERY_BYTES = 256 * 1024;

export class BackendQueueWatch {
  readonly #client: TransportClient;
  readonly #socket: BackendSocket;
  readonly #highWaterMark: number;
  readonly #onChange: () => void;
  #bytes = 0;
  #congested = false;
  /** Waiting for the backend's drain (or its client's next flush) to look again. */
  #waiting: "drain" | "flush" | undefined;
  #closed = false;

  /** `onChange`: `congested` may have changed. */
  constructor(
    client: TransportClient,
    socket: BackendSocket,
    highWaterMark: number,
    onChange: () => void,
  ) {
    this.#client = client;
    this.#socket = socket;
    this.#highWaterMark = highWaterMark;
    this.#onChange = onChange;
  }

  /** The backend is not taking one-way bytes: stop reading the browser. */
  get congested(): boolean {
    return this.#congested;
  }

  /** `bytes` of one-way messages were handed to the client. */
  sent(bytes: number): void {
    this.#bytes += bytes;
    if (this.#bytes >= CHECK_EVERY_BYTES) this.#check(false);
  }

  /** The session ended: no more looks, no more `onChange`. */
  close(): void {
    this.#closed = true;
  }

  #check(afterFlush: boolean): void {
    this.#bytes = 0;
    if (this.#closed) return;
    const socket = this.#socket;
    if (socket.blocked) {
      this.#congested = true;
      this.#wait("drain");
    } else if (
      !afterFlush &&
      this.#client.stats().queuedBytes - socket.bufferedAmount > this.#highWaterMark
    ) {
      this.#congested = true;
      this.#wait("flush");
    } else {
      this.#congested = false;
    }
    this.#onChange();
  }

  #wait(event: "drain" | "flush"): void {
    if (this.#waiting !== undefined) return;
    this.#waiting = event;
    const wake = () => {
      this.#waiting = undefined;
      this.#check(event === "flush");
    };
    if (event === "drain") this.#socket.onceDrained(wake);
    else queueMicrotask(wake);
  }
}
