/**
 * The body of one UploadStream from a browser, as the `ReadableStream` the backend client's
 * `uploadStream` pulls from. The decoder pushes the raw bytes as they arrive; once more than
 * `highWaterMark` bytes wait for the backend, `full` is true and the session pauses the browser
 * until the client pulls (so an upload to a backend that stops reading holds at most about one
 * high-water mark here).
 *
 * @module
 */

export class UploadBody {
  readonly stream: ReadableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #done = false;

  /** `onPull`: the backend took bytes; the session may resume the browser. */
  constructor(highWaterMark: number, onPull: () => void) {
    this.stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      pull: () => onPull(),
      cancel: () => {
        this.#done = true;
      },
    }, { highWaterMark: Math.max(1, highWaterMark), size: (chunk) => chunk.byteLength });
  }

  /** More bytes wait than the high-water mark allows: stop reading the browser. */
  get full(): boolean {
    return !this.#done && (this.#controller.desiredSize ?? 0) <= 0;
  }

  push(chunk: Uint8Array): void {
    if (!this.#done) this.#controller.enqueue(chunk);
  }

  end(): void {
    if (this.#done) return;
    this.#done = true;
    this.#controller.close();
  }

  fail(error: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#controller.error(error);
  }
}
