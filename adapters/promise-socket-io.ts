/**
 * What a runtime adapter supplies under a `PromiseSocket` (promise-socket.ts): one promise-based
 * byte stream, read and written one operation at a time (Deno's `Conn`, a WinterTC socket's web
 * streams).
 *
 * @module
 */

/** The byte stream under a `PromiseSocket`. Only one read and one write at a time. */
export interface PromiseSocketIo {
  /**
   * For a stream that reads into memory it is given (Deno's `conn.read(buffer)`): puts the next
   * received bytes at the start of `into` and resolves with how many (0 is skipped), or `null` at
   * the end of the stream. The socket's own promise per read, no wrapper: a TLS connection reads
   * one 16 KiB record at a time, 65 536 reads per GiB. When given, `read` is not used.
   */
  readInto?(into: Uint8Array): Promise<number | null>;
  /**
   * With `readInto`: ask the sink for memory past the end of the frame it is assembling too
   * (`SocketSink.readBuffer(true)`), so the read that ends a frame may bring the next one's head.
   */
  readonly readsPastFrameEnd?: boolean;
  /**
   * Otherwise: the next received bytes, which the receiver may keep, or `null` at the end of the
   * stream. An empty result is skipped.
   *
   * Either way, a `TransportError` the read throws (bad input from the stream) closes the socket
   * as is; any other failure is wrapped in a `ConnectionClosedError` naming the operation.
   */
  read?(): Promise<Uint8Array | null>;
  /** Writes a prefix of `bytes`; resolves with how many bytes were accepted (at least 1). */
  write(bytes: Uint8Array): Promise<number>;
  /** Ends our direction (TCP FIN, `writer.close()`); the peer sees the end of the stream. */
  endWrite(): Promise<void>;
  /**
   * Stops the stream: settles a read or write in flight and releases the resource. `graceful`:
   * both sides ended and everything was flushed. Returns what to await before `closed` settles.
   */
  shutdown(error: unknown, graceful: boolean, writeEnded: boolean): Promise<unknown>[];
  /** A short code for an I/O failure (`ECONNRESET`, `ConnectionReset`), if the error has one. */
  errorCode?(error: unknown): string | undefined;
}
