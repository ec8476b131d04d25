/**
 * A `Socket` that forwards everything to another one: the base of the test wrappers that record or
 * reshape what passes through (override only what you watch, and call `super`).
 *
 * @module
 */

import type { Socket, SocketClosed, SocketInfo, SocketSink } from "../../src/socket.ts";

export class ForwardingSocket implements Socket {
  protected readonly inner: Socket;

  constructor(inner: Socket) {
    this.inner = inner;
  }
  get info(): SocketInfo {
    return this.inner.info;
  }
  get bufferedAmount(): number {
    return this.inner.bufferedAmount;
  }
  get closed(): Promise<SocketClosed> {
    return this.inner.closed;
  }
  attach(sink: SocketSink): void {
    this.inner.attach(sink);
  }
  write(chunk: Uint8Array): boolean {
    return this.inner.write(chunk);
  }
  pause(): void {
    this.inner.pause();
  }
  resume(): void {
    this.inner.resume();
  }
  close(error?: unknown): void {
    this.inner.close(error);
  }
}
