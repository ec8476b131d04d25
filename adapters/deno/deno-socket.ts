/**
 * Wraps a connected `Deno.Conn` (TCP or TLS) into Ferry's `Socket` contract, on the shared
 * promise-stream socket (`../promise-socket.ts`: read loop, write pump, pause, close deadline).
 *
 * - Reading: `conn.read(view)` straight into memory the socket picks: the tail of the frame the
 *   decoder is assembling (`SocketSink.readBuffer`), so a large body lands in place without a copy,
 *   with (TCP) the spare room after it, so the read that finishes a frame also brings the next
 *   frame's head; or else a slab region handed out once. No allocation per read.
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
import { PromiseSocket } from "../promise-socket.ts";
import type { PromiseSocketIo } from "../promise-socket-io.ts";

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
  /**
   * TCP only. A TLS read returns at most about one 16 KiB record, so reading past a frame's end
   * saves one read in 65 per 1 MiB chunk there, and it costs more: the next frame's buffer is then
   * taken before the consumer has given the last one back, so two 1 MiB buffers take turns (one
   * before), and the Deno TLS client spent 0.93 → 1.03 CPU s/GiB (bench A/B, 12 rounds each).
   */
  readonly readsPastFrameEnd: boolean;
  readonly #conn: DenoConn;

  constructor(conn: DenoConn, transport: string) {
    this.#conn = conn;
    this.readsPastFrameEnd = transport === "tcp";
  }

  readInto(into: Uint8Array): Promise<number | null> {
    return this.#conn.read(into);
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
  return new PromiseSocket(new DenoConnIo(conn, options.transport), {
    transport: options.transport,
    remoteAddress: formatHostPort(conn.remoteAddr.hostname, conn.remoteAddr.port),
    localAddress: formatHostPort(conn.localAddr.hostname, conn.localAddr.port),
  }, {
    highWaterMark: options.highWaterMark,
    closeTimeoutMs: options.closeTimeoutMs,
    unrefTimer: (timer) => deno.unrefTimer(timer),
  });
}
