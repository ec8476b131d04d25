/**
 * Wraps a WinterTC-style socket (`{ readable, writable, opened, closed, close }`, the shape of
 * Cloudflare's `connect()` from `cloudflare:sockets`) into Ferry's `Socket` contract, on the shared
 * promise-stream socket (`../promise-socket.ts`: read loop, write pump, pause, close deadline).
 * Web streams only: no runtime imports, so it runs wherever `ReadableStream`/`WritableStream` exist.
 *
 * - Reading: `readable.getReader().read()`, one at a time; each chunk goes to `sink.data` (no
 *   promise per chunk for the consumer). A paused socket stops calling `read()`, so the stream's
 *   queue fills and the runtime stops reading from the network: backpressure reaches the peer.
 *   Small chunks that are views into a much larger buffer are copied out, so a retained chunk never
 *   pins the runtime's read buffer. A chunk that is not bytes closes the socket (`ProtocolError`).
 * - Writing: `writable.getWriter().write()`, one in flight; small queued chunks are joined.
 * - `close()`: flush, `writer.close()` (the peer sees our end), read until the peer's end, then
 *   `socket.close()`. `close(error)` aborts the writer, cancels the reader and closes the socket.
 *   WinterTC sockets have no reset: the peer sees the end of the stream.
 *
 * @module
 */

import { InvalidArgumentError, ProtocolError } from "../../src/errors.ts";
import { defaultLimits } from "../../src/limits.ts";
import { defaultCloseTimeoutMs } from "../tcp-options.ts";
import type { Socket, SocketInfo } from "../../src/socket.ts";
import { PromiseSocket } from "../promise-socket.ts";
import type { PromiseSocketIo } from "../promise-socket-io.ts";
import type { WinterTcSocketLike, WinterTcSocketOptions } from "./wintertc-api.ts";

const noop = () => {};

/** A WinterTC socket's web streams as a promise-stream io. */
class WinterTcIo implements PromiseSocketIo {
  readonly #socket: WinterTcSocketLike;
  readonly #reader: ReadableStreamDefaultReader<unknown>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #what: string;

  constructor(socket: WinterTcSocketLike, info: SocketInfo) {
    this.#socket = socket;
    this.#what = `${info.transport} connection to ${info.remoteAddress}`;
    // The runtime's own `closed` rejects on errors; the read loop reports those. Observe it so
    // a rejection is never unhandled.
    Promise.resolve(socket.closed).catch(noop);
    this.#reader = socket.readable.getReader();
    this.#writer = socket.writable.getWriter();
    this.#writer.closed.catch(noop);
  }

  async read(): Promise<Uint8Array | null> {
    const result = await this.#reader.read();
    if (result.done) return null;
    const chunk = toOwnedBytes(result.value);
    if (chunk === undefined) {
      throw new ProtocolError(
        `${this.#what}: the readable stream yielded ${describeValue(result.value)}, expected bytes`,
      );
    }
    return chunk;
  }

  async write(bytes: Uint8Array): Promise<number> {
    await this.#writer.write(bytes);
    return bytes.byteLength;
  }

  endWrite(): Promise<void> {
    return this.#writer.close();
  }

  shutdown(error: unknown, graceful: boolean, writeEnded: boolean): Promise<unknown>[] {
    const settling: Promise<unknown>[] = [];
    if (!graceful) {
      // Settles a read in flight (done) and a write in flight (rejected), discarding the rest.
      settling.push(this.#reader.cancel(error), this.#writer.abort(error));
    } else if (!writeEnded) {
      settling.push(this.#writer.close()); // the peer ended first: everything is flushed
    }
    try {
      settling.push(Promise.resolve(this.#socket.close()));
    } catch {
      // already closed
    }
    return settling;
  }
}

/** The chunk as bytes the receiver owns; undefined when it is not binary. */
function toOwnedBytes(value: unknown): Uint8Array | undefined {
  let bytes: Uint8Array;
  if (value instanceof Uint8Array) bytes = value;
  else if (value instanceof ArrayBuffer) return new Uint8Array(value);
  else if (ArrayBuffer.isView(value)) {
    bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  } else return undefined;
  // A small view into a large buffer (a runtime's read buffer): copy it out so keeping it
  // does not keep the whole buffer alive.
  return bytes.byteLength * 4 < bytes.buffer.byteLength ? bytes.slice() : bytes;
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return `a string of ${value.length} characters`;
  if (typeof value === "object") return `an object (${value.constructor?.name ?? "no class"})`;
  return `a ${typeof value}`;
}

function checkCount(value: unknown, name: string): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || (value as number) < 0)) {
    throw new InvalidArgumentError(
      `wrapWinterTcSocket: ${name} must be a non-negative integer, received ${String(value)}`,
    );
  }
}

/**
 * Wraps an OPEN WinterTC socket (await its `opened` first, or use `winterTcConnect`). Takes the
 * locks on `readable` and `writable`; the returned `Socket` owns the socket from then on.
 */
export function wrapWinterTcSocket(
  socket: WinterTcSocketLike,
  options: WinterTcSocketOptions = {},
): Socket {
  if (
    socket === null || typeof socket !== "object" ||
    typeof socket.readable?.getReader !== "function" ||
    typeof socket.writable?.getWriter !== "function" || typeof socket.close !== "function"
  ) {
    throw new InvalidArgumentError(
      `wrapWinterTcSocket: expected a socket with readable, writable and close(), received ` +
        describeValue(socket),
    );
  }
  checkCount(options.highWaterMark, "highWaterMark");
  checkCount(options.closeTimeoutMs, "closeTimeoutMs");
  const info: SocketInfo = {
    transport: options.transport ?? "tcp",
    remoteAddress: options.remoteAddress ?? "unknown",
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  };
  return new PromiseSocket(new WinterTcIo(socket, info), info, {
    highWaterMark: options.highWaterMark ?? defaultLimits.writeHighWaterMark,
    closeTimeoutMs: options.closeTimeoutMs ?? defaultCloseTimeoutMs,
  });
}
