/**
 * A socket wrapper that receives the way Ferry's TCP adapters do: the bytes the inner socket
 * delivers are handed on in reads of at most `readSize` bytes, each landing in the sink's
 * `readBuffer()` when it offers one (the tail of a large frame being assembled) and in a fresh
 * buffer otherwise. So large frames span reads, the decoder allocates their buffers, and bodies
 * are views of those buffers — the path a lent chunk body takes over a real socket.
 *
 * @module
 */

import type { Socket, SocketSink } from "../../src/socket.ts";
import { ForwardingSocket } from "./forwarding-socket.ts";

export class DirectReadSocket extends ForwardingSocket {
  /** Reads that landed in memory the sink offered. */
  directReads = 0;
  readonly #readSize: number;

  constructor(inner: Socket, readSize: number) {
    super(inner);
    this.#readSize = readSize;
  }

  override attach(sink: SocketSink): void {
    this.inner.attach({
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
}
