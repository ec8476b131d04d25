/**
 * A StreamResponse body that the peer can cancel while it is being written (Ferry's cancel
 * extension), without breaking the framing.
 *
 * Once a StreamResponse header is on the wire, the peer's decoder expects exactly the announced
 * byte count; nothing in Spark's protocol can cut a body short. So a cancel
 * ({@linkcode CancellableBody.cancelByPeer}) releases the source at once (it is never read
 * again; a read in progress is abandoned) and then either
 * - writes the remaining bytes as zeros, when at most `paddingLimit` bytes are left: the
 *   connection stays in sync and everything else on it carries on; or
 * - fails the body with a `LimitError`, when more are left: the frame writer treats a failing
 *   body as fatal and the connection is reset (sending gigabytes of padding for a transfer nobody
 *   wants is worse than making the peer reconnect).
 *
 * Padding goes through the frame writer like any body, so it respects backpressure; the zero
 * bytes come from one shared, never-written buffer.
 *
 * @module
 */

import type { BodySource } from "../connection/body-source.ts";
import { LimitError } from "../errors.ts";

/** Largest zero chunk handed out while padding. */
const PAD_CHUNK = 64 * 1024;
let zeros: Uint8Array | undefined;

/** How a peer's cancel was applied to a body being written. */
export type CancelOutcome = "padded" | "reset" | "finished";

export class CancellableBody implements BodySource {
  readonly #inner: BodySource;
  readonly #byteLength: number;
  readonly #paddingLimit: number;
  readonly #what: string;
  /** Bytes handed to the writer so far (source bytes, then padding). */
  #handedOut = 0;
  /** Set once the peer cancelled: pad (undefined) or fail (the error). */
  #cancelled = false;
  #failure: LimitError | undefined;
  /** The writer's pending read of an asynchronous source, if any. */
  #waiting:
    | { resolve: (chunk: Uint8Array | undefined) => void; reject: (error: unknown) => void }
    | undefined;

  constructor(inner: BodySource, byteLength: number, paddingLimit: number, what: string) {
    this.#inner = inner;
    this.#byteLength = byteLength;
    this.#paddingLimit = paddingLimit;
    this.#what = what;
  }

  /** Bytes of the body not handed to the writer yet. */
  get remaining(): number {
    return this.#byteLength - this.#handedOut;
  }

  next(): Uint8Array | undefined | Promise<Uint8Array | undefined> {
    if (this.#cancelled) return this.#afterCancel();
    const result = this.#inner.next();
    if (!(result instanceof Promise)) return this.#count(result);
    return new Promise<Uint8Array | undefined>((resolve, reject) => {
      const waiter = { resolve, reject };
      this.#waiting = waiter;
      result.then((chunk) => {
        if (this.#waiting !== waiter) return; // cancelled meanwhile: the chunk is dropped
        this.#waiting = undefined;
        resolve(this.#count(chunk));
      }, (error) => {
        if (this.#waiting !== waiter) return;
        this.#waiting = undefined;
        reject(error);
      });
    });
  }

  /** The writer stopped (connection closed, body broken): release the source. */
  cancel(reason: unknown): void {
    this.#inner.cancel(reason);
  }

  /**
   * The peer cancelled this stream: the source is released and never read again; the rest of
   * the body is padding or a failure (see the module doc). Idempotent.
   */
  cancelByPeer(reason: unknown): CancelOutcome {
    if (this.#cancelled) return this.#failure === undefined ? "padded" : "reset";
    this.#cancelled = true;
    this.#inner.cancel(reason);
    const remaining = this.remaining;
    if (remaining > this.#paddingLimit) {
      this.#failure = new LimitError(
        `${this.#what} was cancelled by the peer with ${remaining} of its ${this.#byteLength} ` +
          `bytes not yet written, more than maxCancelPaddingBytes (${this.#paddingLimit}); a ` +
          `body on the wire cannot be cut short, so the connection is reset`,
        { cause: reason },
      );
    }
    const waiter = this.#waiting;
    this.#waiting = undefined;
    if (waiter !== undefined) {
      try {
        const next = this.#afterCancel();
        waiter.resolve(next);
      } catch (error) {
        waiter.reject(error);
      }
    }
    if (remaining <= 0) return "finished";
    return this.#failure === undefined ? "padded" : "reset";
  }

  #afterCancel(): Uint8Array | undefined {
    if (this.#failure !== undefined) throw this.#failure;
    const remaining = this.remaining;
    if (remaining <= 0) return undefined;
    zeros ??= new Uint8Array(PAD_CHUNK);
    const size = Math.min(remaining, PAD_CHUNK);
    this.#handedOut += size;
    return size === PAD_CHUNK ? zeros : zeros.subarray(0, size);
  }

  #count(chunk: Uint8Array | undefined): Uint8Array | undefined {
    if (chunk instanceof Uint8Array) this.#handedOut += chunk.byteLength;
    return chunk;
  }
}
