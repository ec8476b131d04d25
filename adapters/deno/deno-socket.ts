/**
 * Wraps a connected `Deno.Conn` (TCP or TLS) into Ferry's `Socket` contract, on the shared
 * promise-stream socket (`../promise-socket.ts`: read loop, write pump, pause, close deadline).
 *
 * - Reading: `conn.read(view)` straight into memory the socket picks: the tail of the frame the
 *   decoder is assembling (`SocketSink.readBuffer`), so a large body lands in place without a copy,
 *   with the spare room after it, so the read that finishes a frame also brings the next frame's
 *   head; or else a slab region handed out once. No allocation per read.
 * - Writing: one `conn.write` in flight; a partial write continues with the rest of the chunk.
 * - `close()`: flush, `closeWrite()` (FIN), read until the peer's end, then `conn.close()`.
 *   `close(error)` closes at once. Deno offers no SO_LINGER, so the peer sees a reset only if
 *   unread bytes were pending here; otherwise it sees the end of the stream.
 *
 * @module
 */

import type { Socket } from "../../src/socket.ts";
import { type DenoApi, type DenoConn, denoErrorCode } from "./deno-api.ts";
import { formatHostPort } from "../tcp-options.ts";
import { PromiseSocket, type PromiseSocketIo } from "../promise-socket.ts";

export interface DenoSocketOptions {
  /** `tcp` or `tls`. */
  readonly transport: string;
  /** Buffered outbound bytes above which `write` returns false. */
  readonly highWaterMark: number;
  /** After a graceful `close()`, give up on the peer's end after this long (0 = never). */
  readonly closeTimeoutMs: number;
}

/** `Deno.Conn` as a promise-stream io: reads fill the memory they are given. */
class DenoConnIo implements PromiseSocketIo {
  readonly readsIntoMemory = true;
  readonly #conn: DenoConn;

  constructor(conn: DenoConn) {
    this.#conn = conn;
  }

  async read(into: Uint8Array | undefined): Promise<Uint8Array | null> {
    const n = await this.#conn.read(into!);
    return n === null ? null : into!.subarray(0, n);
  }

  write(bytes: Uint8Array): Promise<number> {
    return this.#conn.write(bytes);
  }

  endWrite(): Promise<void> {
    return this.#conn.closeWrite();
  }

  shutdown(): Promise<unknown>[] {
    try {
      this.#conn.close(); // settles a read or write in flight with BadResource / Interrupted
    } catch {
      // already closed
    }
    return [];
  }

  errorCode(error: unknown): string | undefined {
    return denoErrorCode(error);
  }
}

/** Wraps a connected Deno connection into the `Socket` contract. */
export function wrapDenoConn(deno: DenoApi, conn: DenoConn, options: DenoSocketOptions): Socket {
  return new PromiseSocket(new DenoConnIo(conn), {
    transport: options.transport,
    remoteAddress: formatHostPort(conn.remoteAddr.hostname, conn.remoteAddr.port),
    localAddress: formatHostPort(conn.localAddr.hostname, conn.localAddr.port),
  }, {
    highWaterMark: options.highWaterMark,
    closeTimeoutMs: options.closeTimeoutMs,
    unrefTimer: (timer) => deno.unrefTimer(timer),
  });
}
