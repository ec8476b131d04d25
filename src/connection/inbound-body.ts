/**
 * Where the raw bytes after a received StreamResponse or UploadStream go.
 *
 * {@linkcode InboundStream} delivers them to a `ReadableStream<Uint8Array>` with backpressure all
 * the way to the socket: when the stream's queue reaches its high-water mark the connection pauses
 * the socket; when the consumer pulls again it resumes. The bytes are views of the received socket
 * chunks (no copy). Cancelling the stream discards the rest of the body so the connection stays in
 * sync (and, when that happens before the body is complete, tells the owner, which may ask the peer
 * to stop sending); a connection that closes mid-body errors the stream (never a clean, short end).
 *
 * @module
 */

/** Receives one raw body from the decoder, in order. */
export interface InboundBody {
  /** The next bytes of the body (never empty). */
  data(chunk: Uint8Array): void;
  /** Every announced byte has arrived. */
  end(): void;
  /** The connection closed before the body was complete. */
  fail(error: unknown): void;
}

/** Pauses and resumes reading on behalf of an owner (the connection keeps one set of owners). */
export interface ReadFlowControl {
  pauseReading(owner: object): void;
  resumeReading(owner: object): void;
}

/** A body nobody wants (an unmatched StreamResponse, a refused upload): its bytes are dropped. */
export const discardBody: InboundBody = {
  data() {},
  end() {},
  fail() {},
};

/**
 * A received stream: a `ReadableStream<Uint8Array>` that also says how many bytes it carries.
 * Reading it to the end yields exactly `byteLength` bytes; a broken connection errors it.
 */
export type ByteStream = ReadableStream<Uint8Array> & { readonly byteLength: number };

/** Default bytes a received stream buffers before the socket is paused. */
export const DEFAULT_STREAM_HIGH_WATER_MARK = 1024 * 1024;

/** An {@linkcode InboundBody} exposed as a {@linkcode ByteStream}. */
export class InboundStream implements InboundBody {
  readonly stream: ByteStream;
  readonly #flow: ReadFlowControl;
  readonly #onDone: ((error: unknown) => void) | undefined;
  readonly #onCancel: ((reason: unknown) => void) | undefined;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  /** The consumer cancelled, or the owner abandoned the body: drop further bytes. */
  #discarding = false;
  #done = false;

  /**
   * @param onDone runs once when the body is complete (`undefined`) or failed (the error).
   * @param onCancel runs once when the reader cancels the stream before every byte has arrived
   *   (with the reader's reason), after the stream started discarding the rest; not when it
   *   cancels a body already complete, nor on {@linkcode InboundStream.abandon}.
   */
  constructor(
    byteLength: number,
    flow: ReadFlowControl,
    highWaterMark: number,
    onDone?: (error: unknown) => void,
    onCancel?: (reason: unknown) => void,
  ) {
    this.#flow = flow;
    this.#onDone = onDone;
    this.#onCancel = onCancel;
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        pull: () => {
          this.#flow.resumeReading(this);
        },
        cancel: (reason) => {
          if (this.#discarding) return;
          this.#discarding = true;
          this.#flow.resumeReading(this);
          if (!this.#done) this.#onCancel?.(reason);
        },
      },
      { highWaterMark, size: (chunk) => chunk.byteLength },
    );
    Object.defineProperty(stream, "byteLength", { value: byteLength, enumerable: true });
    this.stream = stream as ByteStream;
  }

  /** Whether every byte arrived or the body failed. */
  get done(): boolean {
    return this.#done;
  }

  data(chunk: Uint8Array): void {
    if (this.#discarding || this.#done) return;
    const controller = this.#controller;
    controller.enqueue(chunk);
    if ((controller.desiredSize ?? 1) <= 0) this.#flow.pauseReading(this);
  }

  end(): void {
    if (this.#done) return;
    this.#done = true;
    this.#flow.resumeReading(this);
    if (!this.#discarding) this.#controller.close();
    this.#onDone?.(undefined);
  }

  fail(error: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#flow.resumeReading(this);
    if (!this.#discarding) this.#controller.error(error);
    this.#onDone?.(error);
  }

  /**
   * The body's owner stopped caring before it was complete (e.g. an upload handler settled early):
   * the stream errors with `reason` for any reader left, and the remaining bytes are discarded.
   */
  abandon(reason: unknown): void {
    if (this.#done || this.#discarding) return;
    this.#discarding = true;
    this.#flow.resumeReading(this);
    this.#controller.error(reason);
  }
}
