/**
 * The WinterTC socket surface the adapter wraps (Cloudflare Workers' `Socket` from
 * `cloudflare:sockets`, minus `startTls`), and the wrapper's options. Types only.
 *
 * @module
 */

/** What a WinterTC socket's `opened` resolves to (Cloudflare's `SocketInfo`). */
export interface WinterTcOpenedInfo {
  readonly remoteAddress?: string | null;
  readonly localAddress?: string | null;
}

/** The WinterTC socket surface the adapter uses (Cloudflare's `Socket`, minus `startTls`). */
export interface WinterTcSocketLike {
  readonly readable: ReadableStream<unknown>;
  readonly writable: WritableStream<Uint8Array>;
  /** Resolves once connected; rejects if the connection could not be opened. */
  readonly opened: Promise<WinterTcOpenedInfo>;
  /** Resolves when the socket is closed; rejects on an error. */
  readonly closed: Promise<unknown>;
  /** Closes both directions. */
  close(): Promise<unknown> | void;
}

export interface WinterTcSocketOptions {
  /** `tcp` (default) or `tls`. */
  readonly transport?: string;
  /** The peer, e.g. `host:port` (default `unknown`). */
  readonly remoteAddress?: string;
  readonly localAddress?: string;
  /** Buffered outbound bytes above which `write` returns false (default `writeHighWaterMark`). */
  readonly highWaterMark?: number;
  /** After a graceful `close()`, give up on the peer's end after this long (0 = never; 30 s). */
  readonly closeTimeoutMs?: number;
}
