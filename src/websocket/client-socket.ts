/**
 * A WebSocket client as a Ferry `Socket` over another `Socket` (TCP or TLS from any adapter): the
 * upgrade handshake, then RFC 6455 framing done here rather than by a WebSocket library, so that
 * received payloads reach the decoder without being gathered into messages first.
 *
 * - Reading: binary payload bytes go to `sink.data` as they arrive (message boundaries mean nothing
 *   to Ferry's byte stream). While a payload streams, `readBuffer` passes the sink's own buffer
 *   down to the underlying socket, cut to the bytes left in the frame: with Node's `onread` the
 *   body of a large chunk reply goes from the kernel straight into the frame the decoder hands out,
 *   where a WebSocket library gathers each message into a buffer of its own and copies it once more.
 * - Writing: each `write` is one masked binary frame; backpressure, `bufferedAmount` and `drain`
 *   are the underlying socket's.
 * - Control frames: pings are answered with pongs; a close frame from the server is answered and
 *   ends the connection, gracefully for 1000 and 1005, otherwise with a `ConnectionClosedError`
 *   naming the code and reason. A connection that ends without a close frame ends with an error
 *   (code 1006, "not cleanly").
 * - `close()` sends a close frame (1000) after queued writes and waits for the server's, then ends
 *   the underlying socket; `close(error)` resets the underlying socket at once. An error carrying a
 *   sendable `closeCode` is sent as that close frame first, and the connection then ends as after
 *   a protocol violation.
 * - A protocol violation (reserved bits, a text message, a masked frame, bad fragmentation, a close
 *   frame with a code no endpoint may send or a reason that is not UTF-8) sends the close code it
 *   deserves (1002; 1003 for text, 1007 for the reason) and ends the underlying socket, whose close
 *   timeout bounds the wait for the server's end; `closed` carries the `ProtocolError`.
 *
 * @module
 */

import { ConnectionClosedError, describeError } from "../errors.ts";
import { carriedCloseCode, sendableCloseCode } from "./close-codes.ts";
import type { Socket, SocketClosed, SocketInfo, SocketSink } from "../socket.ts";
import { startCloseTimer } from "../deadline.ts";
import { systemClock, type TimerHandle } from "../clock.ts";
import {
  type ControlOpcode,
  Opcode,
  WebSocketFrameParser,
  WebSocketProtocolError,
} from "./frame-parser.ts";
import { closePayload, encodeClientFrame, MaskKeys } from "./frame-encoder.ts";
import { checkAttach, checkWriteChunk } from "../socket-checks.ts";

export interface WebSocketClientSocketOptions {
  /** `ws` or `wss`. */
  readonly transport: string;
  /** The URL connected to. */
  readonly remoteAddress: string;
  /** A graceful close not finished by then ends with a `TimeoutError` (0 = never). */
  readonly closeTimeoutMs: number;
}

/** Read at a frame header while the sink waits for more of a large frame: the header and a bit. */
const HEADER_READ_BYTES = 14;

type State = "open" | "closing" | "closed";

/** The `Socket` a WebSocket client hands out once its handshake is done. */
export class WebSocketClientSocket implements Socket {
  readonly info: SocketInfo;
  readonly closed: Promise<SocketClosed>;
  readonly #inner: Socket;
  readonly #options: WebSocketClientSocketOptions;
  readonly #parser: WebSocketFrameParser;
  readonly #keys = new MaskKeys();
  #sink: SocketSink | undefined;
  #state: State = "open";
  #paused = false;
  #held: Uint8Array[] = [];
  /** Our close frame went out. */
  #closeSent = false;
  /** The server's close frame: its code (1005 when it had none) and reason. */
  #closeReceived: { code: number; reason: string } | undefined;
  /** Why we ended it, when we did (reset, protocol error, timeout). */
  #reason: { error: unknown } | undefined;
  /** The underlying socket ended with this; finishing may wait for held data to be delivered. */
  #innerEnd: { error: unknown } | undefined;
  /** `close()` or `close(error)` was called: the end needs no sink to be reported to. */
  #closeCalled = false;
  /** How it ended, once it has (`closed` settled, `sink.close` called or due at attach). */
  #ending: SocketClosed | undefined;
  #closeTimer: TimerHandle | undefined;
  #resolveClosed!: (closed: SocketClosed) => void;

  /**
   * Takes over `inner` after a successful handshake; `early` are the bytes that followed the
   * response head. `attachInner` hands it the sink the underlying socket feeds.
   */
  constructor(
    inner: Socket,
    options: WebSocketClientSocketOptions,
    attachInner: (sink: SocketSink) => void,
    early: readonly Uint8Array[],
  ) {
    this.#inner = inner;
    this.#options = options;
    this.info = {
      transport: options.transport,
      remoteAddress: options.remoteAddress,
      ...(inner.info.localAddress ? { localAddress: inner.info.localAddress } : {}),
    };
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.#parser = new WebSocketFrameParser(
      {
        data: (chunk) => this.#payload(chunk),
        control: (op, payload) => this.#control(op, payload),
      },
      `${options.transport} connection to ${options.remoteAddress}`,
    );
    inner.pause(); // until attach: nothing is delivered before it
    attachInner(this.#innerSink);
    for (const chunk of early) this.#innerSink.data(chunk);
  }

  get bufferedAmount(): number {
    return this.#state === "closed" ? 0 : this.#inner.bufferedAmount;
  }

  allocateUninitialized(size: number): Uint8Array {
    return this.#inner.allocateUninitialized?.(size) ?? new Uint8Array(size);
  }

  attach(sink: SocketSink): void {
    checkAttach(this.info, this.#sink, sink);
    this.#sink = sink;
    if (this.#ending !== undefined) {
      const { error } = this.#ending;
      queueMicrotask(() => sink.close(error));
      return;
    }
    queueMicrotask(() => this.#deliverHeld());
    if (!this.#paused && this.#state !== "closed") this.#inner.resume();
  }

  write(chunk: Uint8Array): boolean {
    checkWriteChunk(this.info, chunk);
    if (this.#state !== "open") return false;
    if (chunk.byteLength === 0) return this.#inner.write(chunk);
    return this.#inner.write(encodeClientFrame(Opcode.binary, chunk, this.#keys));
  }

  pause(): void {
    this.#paused = true;
    this.#inner.pause();
  }

  resume(): void {
    this.#paused = false;
    if (this.#sink === undefined) return;
    this.#inner.resume();
    queueMicrotask(() => this.#deliverHeld());
  }

  close(error?: unknown): void {
    if (error !== undefined) {
      this.#abort(error);
      return;
    }
    if (this.#ending !== undefined) return;
    this.#closeCalled = true;
    // Keep reading (attached or not): the server's close frame and end complete ours.
    this.#paused = false;
    this.#inner.resume();
    queueMicrotask(() => this.#deliverHeld());
    if (this.#state !== "open") return;
    this.#state = "closing";
    this.#sendClose(1000, "");
    const timeoutMs = this.#options.closeTimeoutMs;
    if (timeoutMs > 0 && this.#innerEnd === undefined) {
      this.#closeTimer = startCloseTimer(
        this.info,
        timeoutMs,
        "no close frame from the peer",
        (e) => {
          this.#closeTimer = undefined;
          this.#abort(e);
        },
        systemClock,
      );
    }
  }

  /** What the underlying socket feeds. */
  readonly #innerSink: SocketSink = {
    data: (chunk) => {
      if (this.#closeReceived !== undefined || this.#reason !== undefined) return;
      try {
        this.#parser.push(chunk);
      } catch (error) {
        this.#abort(error);
      }
    },
    readBuffer: () => this.#readBuffer(),
    drain: () => {
      if (this.#state !== "open" || this.#sink === undefined) return;
      try {
        this.#sink.drain();
      } catch (error) {
        this.#abort(error);
      }
    },
    close: (error) => {
      this.#innerEnd = { error };
      this.#state = "closed";
      if (this.#closeTimer !== undefined) systemClock.clearTimer(this.#closeTimer);
      this.#closeTimer = undefined;
      this.#deliverHeld();
    },
  };

  /**
   * Inside a binary payload, the sink's own buffer cut to what is left of the frame; at a frame
   * header while the sink waits for a large frame, a small read so the payload after it can go
   * direct; otherwise the underlying socket's own buffer.
   */
  #readBuffer(): Uint8Array | undefined {
    const sink = this.#sink;
    if (sink?.readBuffer === undefined || this.#paused || this.#held.length > 0) return undefined;
    const parser = this.#parser;
    if (parser.state === "data-payload") {
      const direct = sink.readBuffer();
      if (direct === undefined) return undefined;
      const remaining = parser.dataRemaining;
      return direct.byteLength > remaining ? direct.subarray(0, remaining) : direct;
    }
    if (parser.state === "header" && sink.readBuffer() !== undefined) {
      return new Uint8Array(HEADER_READ_BYTES);
    }
    return undefined;
  }

  #payload(chunk: Uint8Array): void {
    // Nothing counts after the server's close frame, or once we ended the connection.
    if (this.#closeReceived !== undefined || this.#reason !== undefined) return;
    if (this.#sink !== undefined && !this.#paused && this.#held.length === 0) {
      this.#sink.data(chunk);
    } else {
      this.#held.push(chunk);
    }
  }

  #control(opcode: ControlOpcode, payload: Uint8Array): void {
    if (this.#closeReceived !== undefined || this.#reason !== undefined) return;
    if (opcode === Opcode.ping) {
      if (this.#state !== "closed" && !this.#closeSent) {
        this.#inner.write(encodeClientFrame(Opcode.pong, payload, this.#keys));
      }
      return;
    }
    if (opcode !== Opcode.close) return; // an unsolicited pong needs no answer
    const what = `${this.info.transport} connection to ${this.info.remoteAddress} received`;
    if (payload.length === 1) {
      throw new WebSocketProtocolError(
        `${what} a close frame with a 1-byte payload (a code takes 2)`,
      );
    }
    const code = payload.length >= 2 ? (payload[0]! << 8) | payload[1]! : 1005;
    if (payload.length >= 2 && !sendableCloseCode(code)) {
      throw new WebSocketProtocolError(
        `${what} a close frame with code ${code}, which no endpoint may send`,
      );
    }
    let reason: string;
    try {
      reason = new TextDecoder("utf-8", { fatal: true }).decode(payload.subarray(2));
    } catch {
      throw new WebSocketProtocolError(
        `${what} a close frame whose reason is not valid UTF-8`,
        1007,
      );
    }
    this.#closeReceived = { code, reason };
    // Echo the code (RFC 6455 §5.5.1), then end our side: the server closes the TCP connection.
    this.#sendClose(code === 1005 ? 1000 : code, "");
    if (this.#state === "open") this.#state = "closing";
    this.#inner.close();
  }

  #sendClose(code: number, reason: string): void {
    if (this.#closeSent) return;
    this.#closeSent = true;
    const payload = sendableCloseCode(code) ? closePayload(code, reason) : closePayload(1000);
    this.#inner.write(encodeClientFrame(Opcode.close, payload, this.#keys));
  }

  #abort(error: unknown): void {
    if (this.#ending !== undefined) return;
    this.#closeCalled = true;
    this.#reason ??= { error };
    this.#held = [];
    if (this.#state !== "closed") {
      this.#state = "closed";
      const carried = carriedCloseCode(error);
      if (carried !== undefined && !this.#closeSent) {
        this.#sendClose(carried, describeError(error));
        this.#inner.close();
      } else {
        this.#inner.close(error);
      }
    }
    this.#deliverHeld();
  }

  /** Delivers held payload while attached and not paused; then finishes once the inner ended. */
  #deliverHeld(): void {
    if (this.#ending !== undefined) return;
    if (this.#sink === undefined) {
      // Closed by us before attach: nobody waits for its data; report the end at attach.
      if (this.#innerEnd !== undefined && this.#closeCalled) {
        this.#finish(this.#outcome(this.#innerEnd.error));
      }
      return;
    }
    while (!this.#paused && this.#held.length > 0 && this.#reason === undefined) {
      const chunk = this.#held.shift()!;
      try {
        this.#sink.data(chunk);
      } catch (error) {
        this.#abort(error);
        return;
      }
    }
    if (this.#innerEnd === undefined) return;
    // Whatever the outcome, bytes received before the end go first (delivered on resume),
    // unless we aborted: then they were dropped.
    if (this.#held.length > 0 && this.#reason === undefined) return;
    this.#finish(this.#outcome(this.#innerEnd.error));
  }

  /** Why the connection ended, from what was sent, received and what the inner socket said. */
  #outcome(innerError: unknown): unknown {
    if (this.#reason !== undefined) return this.#reason.error;
    const what = `${this.info.transport} connection to ${this.info.remoteAddress}`;
    const received = this.#closeReceived;
    if (received !== undefined) {
      if (received.code === 1000 || received.code === 1005) return undefined;
      return new ConnectionClosedError(
        `${what} closed with code ${received.code}${
          received.reason ? ` (${received.reason})` : ""
        }`,
      );
    }
    return new ConnectionClosedError(
      `${what} closed with code 1006, not cleanly (the connection ended without a close frame)`,
      { cause: innerError },
    );
  }

  #finish(error: unknown): void {
    if (this.#ending !== undefined) return;
    this.#state = "closed";
    this.#held = [];
    if (this.#closeTimer !== undefined) systemClock.clearTimer(this.#closeTimer);
    this.#closeTimer = undefined;
    const ending = { error };
    this.#ending = ending;
    try {
      this.#sink?.close(error);
    } finally {
      this.#resolveClosed(ending);
    }
  }
}
