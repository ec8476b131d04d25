/**
 * Wraps an open WebSocket (browser, Deno, or the `ws` package's) into Ferry's `Socket` contract.
 * Web-platform only: no runtime imports, so it runs in browsers, Deno and Node alike; the client
 * (`websocket/connect.ts`) and the Node and Deno listeners all use it.
 *
 * - Each binary message is one chunk for `sink.data` (empty messages are skipped; a text message
 *   breaks the protocol and closes the socket with code 1003). Standard WebSockets are read as
 *   `MessageEvent`s with `binaryType` `arraybuffer`; the `ws` package's through its own `message`
 *   event as `nodebuffer` views, which spares two `MessageEvent`s and a copy of each chunk reply's
 *   header per chunk.
 * - Each `write` is one binary message (`send`). The frame writer already joins the small frames
 *   of a turn into one write; a large frame's header and body are two messages, and the peer's
 *   decoder takes the body message as the body itself (no copy on either side). `writeAll` sends
 *   such a pair corked on the `ws` package's TCP socket (`tcp`): one `writev`, no lone header.
 * - `write` returns false once `bufferedAmount` is above the high-water mark; `drain` follows when
 *   it is back at or below: with `ws`, checked in each send's written-callback, elsewhere polled
 *   while, and only while, a writer waits (each 1 ms while it drains, backing off while not).
 *   A WebSocket without a numeric `bufferedAmount` (workerd's) cannot tell what it still holds:
 *   the adapter then reports 0 (unknown, never NaN, which would fail every limit comparison) and
 *   `write` always accepts; the runtime buffers, as `send` on it always does. A `send` that
 *   throws ends the socket with a `ConnectionClosedError` carrying what was thrown.
 * - `pause()` uses the socket's own `pause()` where it has one (`ws`: real TCP backpressure);
 *   elsewhere messages are held in the adapter (bounded by `maxHeldBytes`) until `resume()`.
 * - A clean close with code 1000 or 1005 is a graceful end; any other close is an error that
 *   names the code and reason. `close()` sends 1000 (queued data goes first); `close(error)`
 *   terminates where the socket can (`ws`) and otherwise closes with 4000 and the error's text,
 *   so the peer sees a failure either way. An error carrying a numeric `closeCode` (1000–4999,
 *   e.g. the gateway's refusals) is sent as that close code with the error's text as the reason
 *   instead of terminating, so a browser learns why; the socket counts as closed at once, and
 *   `ws` still cuts the TCP connection off if the peer never answers the close frame.
 *
 * @module
 */

import { ConnectionClosedError, describeError, LimitError, ProtocolError } from "../src/errors.ts";
import type { Socket, SocketClosed, SocketInfo, SocketSink } from "../src/socket.ts";
import { startCloseTimer } from "../src/deadline.ts";
import { carriedCloseCode, closeReason, resetCloseCode } from "../src/websocket/close-codes.ts";
import {
  isWsPackageSocket,
  messageBytes,
  runtimeBuffered,
  type WebSocketLike,
} from "./websocket-like.ts";
import { checkAttach, checkWriteChunk } from "../src/socket-checks.ts";

export interface WebSocketSocketOptions {
  /** `ws` or `wss`. */
  readonly transport: string;
  /** The peer, e.g. the URL connected to or the client's address. */
  readonly remoteAddress: string;
  readonly localAddress?: string;
  /** `bufferedAmount` above which `write` returns false. */
  readonly highWaterMark: number;
  /** Received bytes held while paused (sockets without `pause`) before closing with LimitError. */
  readonly maxHeldBytes: number;
  /** A graceful close not finished by then ends with a `TimeoutError` (0 = never). */
  readonly closeTimeoutMs: number;
  /**
   * Longest wait between polls of `bufferedAmount` while a writer waits for `drain`, in ms
   * (default 16): polls are 1 ms apart while it falls and double up to this while it stalls.
   */
  readonly drainPollMs?: number;
  /**
   * The TCP socket under a `ws` package WebSocket (Node's listener passes it): `writeAll` corks it
   * around its messages, so they leave in one `writev`. Ignored for other WebSockets.
   */
  readonly tcp?: { cork(): void; uncork(): void };
}

const WHOLE_MESSAGE = { binary: true, fin: true };

type State = "open" | "ending" | "closed";

class WebSocketSocket implements Socket {
  readonly info: SocketInfo;
  readonly closed: Promise<SocketClosed>;
  readonly #ws: WebSocketLike;
  readonly #options: WebSocketSocketOptions;
  #sink: SocketSink | undefined;
  #state: State = "open";
  #paused = false;
  #held: Uint8Array[] = [];
  #heldBytes = 0;
  #needDrain = false;
  #drainTimer: ReturnType<typeof setTimeout> | undefined;
  #drainPollDelay = 1;
  /**
   * The `ws` package's socket: its sends report completion (drain follows them, no polling) and
   * its messages come through its own `message` event.
   */
  readonly #wsPackage: boolean;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Why it ended, once known; delivered after held data when graceful. */
  #ending: { error: unknown } | undefined;
  #finished = false;
  #resolveClosed!: (closed: SocketClosed) => void;

  constructor(ws: WebSocketLike, options: WebSocketSocketOptions) {
    this.#ws = ws;
    this.#options = options;
    this.info = {
      transport: options.transport,
      remoteAddress: options.remoteAddress,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    };
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.#wsPackage = isWsPackageSocket(ws);
    if (this.#wsPackage) ws.on!("message", this.#onWsMessage);
    else ws.addEventListener("message", this.#onMessage);
    ws.addEventListener("close", this.#onClose);
    ws.addEventListener("error", this.#onError);
  }

  get bufferedAmount(): number {
    return this.#state === "closed" ? 0 : runtimeBuffered(this.#ws);
  }

  /** `ws` wrote a message to the kernel (or failed: the close event reports that). */
  readonly #onSent = (): void => {
    if (!this.#needDrain || this.#state !== "open") return;
    if (this.bufferedAmount > this.#options.highWaterMark) return;
    this.#needDrain = false;
    try {
      this.#sink?.drain();
    } catch (error) {
      this.#abort(error);
    }
  };

  attach(sink: SocketSink): void {
    checkAttach(this.info, this.#sink, sink);
    this.#sink = sink;
    queueMicrotask(() => this.#deliverHeld());
  }

  write(chunk: Uint8Array): boolean {
    checkWriteChunk(this.info, chunk);
    return this.#send(chunk) && this.#writable();
  }

  /** One message per chunk; with `ws` and its TCP socket given, all of them in one `writev`. */
  writeAll(chunks: readonly Uint8Array[]): boolean {
    for (const chunk of chunks) checkWriteChunk(this.info, chunk);
    const tcp = this.#wsPackage ? this.#options.tcp : undefined;
    tcp?.cork(); // `ws` corks each message's header and payload itself: this holds them all
    try {
      for (const chunk of chunks) if (!this.#send(chunk)) return false;
    } finally {
      tcp?.uncork();
    }
    return this.#writable();
  }

  /** Sends one message; false when the socket is not open or the send failed (then closed). */
  #send(chunk: Uint8Array): boolean {
    if (this.#state !== "open") return false;
    try {
      if (this.#ws.readyState !== 1) return false;
      if (chunk.byteLength > 0) {
        if (this.#wsPackage) this.#ws.send(chunk, WHOLE_MESSAGE, this.#onSent);
        else this.#ws.send(chunk);
      }
    } catch (cause) {
      // The runtime refused the send (workerd: a WebSocket used by a later request than the
      // one that opened it). The socket cannot go on: end it with the cause, so everything in
      // flight fails with it rather than with an error thrown into the caller's write.
      this.#abort(
        new ConnectionClosedError(
          `${this.info.transport} connection to ${this.info.remoteAddress} failed to send ` +
            `${chunk.byteLength} bytes: ${describeError(cause)}`,
          { cause },
        ),
      );
      return false;
    }
    return true;
  }

  /** What `write` returns after a send: at or below the high-water mark, else wait for drain. */
  #writable(): boolean {
    if (this.bufferedAmount <= this.#options.highWaterMark) return true;
    if (!this.#needDrain) {
      this.#needDrain = true;
      this.#drainPollDelay = 1;
    }
    // Over the mark, a send is in flight: with `ws`, its callback signals the drain.
    if (!this.#wsPackage) this.#pollDrain();
    return false;
  }

  pause(): void {
    if (this.#paused || this.#state === "closed") return;
    this.#paused = true;
    this.#ws.pause?.();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#state !== "closed") this.#ws.resume?.();
    queueMicrotask(() => this.#deliverHeld());
  }

  close(error?: unknown): void {
    if (error !== undefined) {
      this.#abort(error);
      return;
    }
    if (this.#state !== "open") return;
    this.#state = "ending";
    this.#needDrain = false;
    this.resume(); // keep reading: the peer's close completes ours
    try {
      this.#ws.close(1000);
    } catch (cause) {
      this.#abort(cause);
      return;
    }
    const timeoutMs = this.#options.closeTimeoutMs;
    if (timeoutMs > 0) {
      this.#closeTimer = startCloseTimer(
        this.info,
        timeoutMs,
        "no close frame from the peer",
        (e) => {
          this.#closeTimer = undefined;
          this.#abort(e);
        },
      );
    }
  }

  #onMessage = (event: MessageEvent): void => {
    this.#receive(event.data, typeof event.data === "string");
  };

  /** `ws` hands text messages over as bytes too: `isBinary` tells them apart. */
  #onWsMessage = (data: unknown, isBinary: boolean): void => {
    this.#receive(data, !isBinary);
  };

  #stopReceiving(): void {
    if (this.#wsPackage) this.#ws.off!("message", this.#onWsMessage);
    else this.#ws.removeEventListener("message", this.#onMessage);
  }

  #receive(data: unknown, text: boolean): void {
    if (this.#state === "closed") return;
    const chunk = text ? undefined : messageBytes(data);
    if (chunk === undefined) {
      const kind = text ? "a text message" : "a non-binary message";
      this.#abort(
        new ProtocolError(
          `${this.info.transport} connection to ${this.info.remoteAddress} received ${kind}; ` +
            `Ferry speaks binary messages only`,
        ),
        1003,
      );
      return;
    }
    if (chunk.byteLength === 0) return;
    if (this.#sink !== undefined && !this.#paused && this.#held.length === 0) {
      this.#deliver(chunk);
      return;
    }
    this.#held.push(chunk);
    this.#heldBytes += chunk.byteLength;
    if (this.#heldBytes > this.#options.maxHeldBytes) {
      this.#abort(
        new LimitError(
          `${this.info.transport} connection to ${this.info.remoteAddress}: ${this.#heldBytes} ` +
            `received bytes held while paused, above the ${this.#options.maxHeldBytes}-byte limit`,
        ),
        1009,
      );
    }
  }

  #onClose = (event: CloseEvent): void => {
    this.#stopReceiving();
    if (this.#state === "closed") return;
    const clean = event.wasClean && (event.code === 1000 || event.code === 1005);
    const error = clean ? undefined : new ConnectionClosedError(
      `${this.info.transport} connection to ${this.info.remoteAddress} closed with code ` +
        `${event.code}${event.reason ? ` (${event.reason})` : ""}` +
        `${event.wasClean ? "" : ", not cleanly"}`,
    );
    this.#state = "closed";
    this.#ending = { error };
    if (error !== undefined) this.#held = [];
    this.#deliverHeld();
  };

  #onError = (): void => {
    // The close event that follows carries the code; browsers give errors no detail.
  };

  #deliver(chunk: Uint8Array): void {
    try {
      this.#sink!.data(chunk);
    } catch (error) {
      this.#abort(error);
    }
  }

  /** Delivers held messages while attached and not paused; then finishes a pending end. */
  #deliverHeld(): void {
    if (this.#finished || this.#sink === undefined) return;
    while (!this.#paused && this.#held.length > 0 && !this.#finished) {
      const chunk = this.#held.shift()!;
      this.#heldBytes -= chunk.byteLength;
      this.#deliver(chunk);
    }
    if (this.#ending !== undefined && (this.#held.length === 0 || this.#ending.error)) {
      this.#finish();
    }
  }

  /** Polls every 1 ms while the buffer drains; doubles the wait (to 16 ms) while it does not. */
  #pollDrain(buffered = this.bufferedAmount): void {
    if (this.#drainTimer !== undefined) return;
    const delay = this.#drainPollDelay;
    this.#drainTimer = setTimeout(() => {
      this.#drainTimer = undefined;
      if (!this.#needDrain || this.#state !== "open") return;
      const now = this.bufferedAmount;
      if (now > this.#options.highWaterMark) {
        this.#drainPollDelay = now < buffered
          ? 1
          : Math.min(delay * 2, this.#options.drainPollMs ?? 16);
        this.#pollDrain(now);
        return;
      }
      this.#needDrain = false;
      try {
        this.#sink?.drain();
      } catch (error) {
        this.#abort(error);
      }
    }, delay);
  }

  #abort(error: unknown, code = resetCloseCode): void {
    if (this.#finished) return;
    if (this.#ending?.error === undefined || this.#state !== "closed") {
      this.#ending = { error };
    }
    const wasOpen = this.#state !== "closed";
    this.#state = "closed";
    this.#held = [];
    this.#heldBytes = 0;
    if (wasOpen) {
      let carried = carriedCloseCode(error);
      // A close frame is answered by one: keep reading (what arrives is dropped, the state is
      // closed) or a paused socket never sees the answer and `ws` waits 30 s before giving up.
      if (carried !== undefined && this.#paused) {
        this.#paused = false;
        this.#ws.resume?.();
      }
      try {
        // Browsers let a page send only 1000 and 3000–4999; a refused code falls back below.
        if (carried !== undefined) this.#ws.close(carried, closeReason(error));
      } catch {
        carried = undefined;
      }
      if (carried === undefined) {
        try {
          if (this.#ws.terminate !== undefined) this.#ws.terminate();
          else this.#ws.close(code, closeReason(error));
        } catch {
          // already closing
        }
      }
    }
    queueMicrotask(() => this.#finish());
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#state = "closed";
    this.#needDrain = false;
    if (this.#drainTimer !== undefined) clearTimeout(this.#drainTimer);
    if (this.#closeTimer !== undefined) clearTimeout(this.#closeTimer);
    this.#drainTimer = this.#closeTimer = undefined;
    this.#stopReceiving();
    const ending = this.#ending ?? { error: undefined };
    try {
      this.#sink?.close(ending.error);
    } finally {
      this.#resolveClosed(ending);
    }
  }
}

/** Wraps an OPEN WebSocket. Set its `binaryType` to `binaryTypeFor` it first (websocket-like.ts). */
export function wrapWebSocket(ws: WebSocketLike, options: WebSocketSocketOptions): Socket {
  return new WebSocketSocket(ws, options);
}
