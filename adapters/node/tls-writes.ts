/**
 * How the Node adapter hands bytes to a `tls.TLSSocket` so that large chunks are encrypted
 * straight from the caller's memory.
 *
 * Node's TLS layer (`TLSWrap::DoWrite`) encrypts a single buffer in place, but when a stream
 * `writev` hands it several buffers it first allocates one buffer of their total size and copies
 * them all into it. `cork()`, or writes queued behind one still in progress, make such a `writev`:
 * a chunk response's header and its 1 MiB body, or several responses at once, were copied whole
 * (and the copy's fresh memory page-faulted) before OpenSSL read them — about a third of what
 * encryption itself costs the sender (perf, `docs/benchmarks.md`, "What TLS costs").
 *
 * So a TLS socket gets no `writev` (`_writev = null`, as Node itself does for some of its own
 * sockets): the stream passes queued chunks one at a time, each one `SSL_write`. A chunk of
 * {@linkcode directTlsWriteBytes} or more goes to the socket as it is; smaller chunks written in
 * the same turn are gathered and copied into one buffer (what `writev` did, for few bytes), so
 * that many small frames still leave as one TLS record and one system call rather than one each.
 *
 * @module
 */

import type { Socket as NetSocket } from "node:net";

/**
 * Chunks at least this large go to the TLS socket alone, with no copy. Smaller ones of one turn
 * are copied together: copying up to 64 KiB costs about what a separate write (an `SSL_write`, a
 * system call and a turn of the event loop until Node reports it done) costs.
 */
export const directTlsWriteBytes = 64 * 1024;

/** Small chunks gathered beyond this many bytes are passed on at once (bounds each copy). */
const maxGatheredBytes = 256 * 1024;

/** Writes to one TLS socket: large chunks alone, small chunks of one turn gathered. */
export class TlsWrites {
  readonly #socket: NetSocket;
  #gathered: Uint8Array[] = [];
  #gatheredBytes = 0;
  #scheduled = false;
  readonly #flushLater = () => {
    this.#scheduled = false;
    this.flush();
  };

  constructor(socket: NetSocket) {
    this.#socket = socket;
    // Writable then passes queued chunks one by one to `_write` (one SSL_write each, no copy).
    (socket as unknown as { _writev: unknown })._writev = null;
  }

  /** Bytes gathered and not yet passed to the socket. */
  get pendingBytes(): number {
    return this.#gatheredBytes;
  }

  /**
   * Queues `chunk` (non-empty); returns whether the socket's buffered bytes, these included, are
   * below its high-water mark — the same answer `socket.write` gives once they are passed on, so
   * Node's `drain` follows every `false`.
   */
  write(chunk: Uint8Array): boolean {
    const socket = this.#socket;
    if (chunk.byteLength >= directTlsWriteBytes) {
      this.flush();
      return socket.write(chunk);
    }
    this.#gathered.push(chunk);
    this.#gatheredBytes += chunk.byteLength;
    if (this.#gatheredBytes >= maxGatheredBytes) {
      this.flush();
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flushLater);
    }
    return socket.writableLength + this.#gatheredBytes < socket.writableHighWaterMark;
  }

  /** Passes the gathered chunks to the socket, as one buffer. */
  flush(): void {
    const gathered = this.#gathered;
    if (gathered.length === 0) return;
    const total = this.#gatheredBytes;
    this.#gathered = [];
    this.#gatheredBytes = 0;
    if (this.#socket.destroyed) return;
    if (gathered.length === 1) {
      this.#socket.write(gathered[0]!);
      return;
    }
    const merged = new Uint8Array(total);
    let offset = 0;
    for (const chunk of gathered) {
      merged.set(chunk, offset);
      offset += chunk.byteLength;
    }
    this.#socket.write(merged);
  }

  /** Drops the gathered chunks (the socket is being reset). */
  discard(): void {
    this.#gathered = [];
    this.#gatheredBytes = 0;
  }
}
