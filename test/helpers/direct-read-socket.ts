/**
 * A socket wrapper that receives the way Ferry's TCP adapters do: the bytes the inner socket
 * delivers are handed on in reads of at most `readSize` bytes, each landing in the sink's
 * `readBuffer()` when it offers one (the tail of a large frame being assembled) and in a fresh
 * buffer otherwise. So large frames span reads, the decoder allocates their buffers, and bodies
 * are views of those buffers — the path a lent chunk body takes over a real socket.
 *
 * @module
 */

import type { Socket, SocketClosed, SocketInfo, SocketSink } from "../../src/socket.ts";

export class DirectReadSocket implements Socket {
  /** Reads that landed in memory the sink offered. */
  directReads = 0;
  readonly #inner: Socket;
  readonly #readSize: number;

  constructor(inner: Socket, readSize: number) {
    this.#inner = inner;
    this.#readSize = readSize;
  }

  get info(): SocketInfo {
    return this.#inner.info;
  }
  get bufferedAmount(): number {
    return this.#inner.bufferedAmount;
  }
  get closed(): Promise<SocketClosed> {
    return this.#inner.closed;
  }

  attach(sink: SocketSink): void {
    this.#inner.attach({
      data: (chunk) => {
        for (let offset = 0; offset < chunk.byteLength;) {
          const direct = sink.readBuffer?.();
          const count = Math.min(
            this.#readSize,
            chunk.byteLength - offset,
            direct?.length ?? Infinity,
          );
          const target = direct === undefined ? new Uint8Array(count) : direct.subarray(0, count);
          if (direct !== undefined) this.directReads++;
          target.set(chunk.subarray(offset, offset + count));
          offset += count;
          sink.data(target);
        }
      },
      drain: () => sink.drain(),
      close: (error) => sink.close(error),
    });
  }
  write(chunk: Uint8Array): boolean {
    return this.#inner.write(chunk);
  }
  pause(): void {
    this.#inner.pause();
  }
  resume(): void {
    this.#inner.resume();
  }
  close(error?: unknown): void {
    this.#inner.close(error);
  }
}
