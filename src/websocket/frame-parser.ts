/**
 * The client side of RFC 6455 framing, reading: bytes from the server in (chunks of any size,
 * split anywhere), binary payload bytes and control frames out. Ferry's frames are a byte stream,
 * so message boundaries carry no meaning and payloads are never buffered: each piece of a binary
 * payload goes to {@linkcode WebSocketFrameHandler.data} as a view of the chunk it arrived in.
 *
 * A state machine in the style of ws's `Receiver`, with named states:
 *
 * - `"header"` — reading a frame header (2, 4 or 10 bytes; servers never mask). Checked as soon
 *   as it is complete: reserved bits (no extension is ever negotiated), opcode, fragmentation
 *   order, control frame rules, the 64-bit length's top bit.
 * - `"data-payload"` — a binary (or continuation) frame's payload is streaming through; how much
 *   is left is {@linkcode WebSocketFrameParser.dataRemaining}, so a socket can read it directly.
 * - `"control-payload"` — a close, ping or pong payload (at most 125 bytes) is being collected.
 * - `"failed"` — the server broke the protocol (or a handler threw); every later `push` throws.
 *
 * Text messages are refused: Ferry speaks binary messages only.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";

/** Where the parser is in the byte stream. */
export type WebSocketFrameState = "header" | "data-payload" | "control-payload" | "failed";

/** Frame opcodes (RFC 6455 §5.2). */
export const Opcode = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

/** The control opcodes. */
export type ControlOpcode = typeof Opcode.close | typeof Opcode.ping | typeof Opcode.pong;

/** Receives what the parser finds, synchronously, in stream order. */
export interface WebSocketFrameHandler {
  /** Payload bytes of binary messages, in order (never empty; ownership passes). */
  data(chunk: Uint8Array): void;
  /** A complete control frame; `payload` is the parser's to reuse once this returns. */
  control(opcode: ControlOpcode, payload: Uint8Array): void;
}

/** Longest control frame payload (RFC 6455 §5.5). */
const MAX_CONTROL_PAYLOAD = 125;
const EMPTY = new Uint8Array(0);

/**
 * A protocol error that also says which close code (RFC 6455 §7.4.1) it deserves.
 *
 * @example
 * ```ts
 * import { ProtocolError, WebSocketProtocolError } from "ferry-transport";
 *
 * const error = new WebSocketProtocolError("A text message on a binary-only connection", 1003);
 * console.log(error instanceof ProtocolError, error.closeCode); // true 1003
 * ```
 */
export class WebSocketProtocolError extends ProtocolError {
  /** 1002 (protocol error) or 1003 (unacceptable data: a text message). */
  readonly closeCode: number;
  constructor(message: string, closeCode = 1002) {
    super(message);
    this.closeCode = closeCode;
  }
}

export class WebSocketFrameParser {
  readonly #handler: WebSocketFrameHandler;
  readonly #what: string;
  #state: WebSocketFrameState = "header";
  readonly #header = new Uint8Array(10);
  #headerFilled = 0;
  /** Payload bytes of the current frame not yet received. */
  #remaining = 0;
  /** A binary message was started without FIN: continuation frames must follow. */
  #inMessage = false;
  #controlOpcode: ControlOpcode = Opcode.close;
  readonly #control = new Uint8Array(MAX_CONTROL_PAYLOAD);
  #controlLength = 0;
  #controlFilled = 0;

  /** `what` names the connection in error messages, e.g. `ws connection to ws://h:1/`. */
  constructor(handler: WebSocketFrameHandler, what: string) {
    this.#handler = handler;
    this.#what = what;
  }

  get state(): WebSocketFrameState {
    return this.#state;
  }

  /** In `"data-payload"`: the current frame's payload bytes still to come; otherwise 0. */
  get dataRemaining(): number {
    return this.#state === "data-payload" ? this.#remaining : 0;
  }

  /** Parses `chunk`; throws (and becomes `"failed"`) on a protocol error or a throwing handler. */
  push(chunk: Uint8Array): void {
    if (this.#state === "failed") {
      throw new ProtocolError(`${this.#what}: WebSocket frame parser already failed`);
    }
    try {
      this.#consume(chunk);
    } catch (error) {
      this.#state = "failed";
      throw error;
    }
  }

  #consume(chunk: Uint8Array): void {
    const end = chunk.length;
    let offset = 0;
    while (offset < end) {
      switch (this.#state) {
        case "header": {
          const header = this.#header;
          let filled = this.#headerFilled;
          if (filled < 2) {
            header[filled++] = chunk[offset++]!;
            if (filled < 2 && offset < end) header[filled++] = chunk[offset++]!;
            if (filled < 2) {
              this.#headerFilled = filled;
              break;
            }
          }
          const size = headerSize(header[1]!);
          while (filled < size && offset < end) header[filled++] = chunk[offset++]!;
          this.#headerFilled = filled;
          if (filled === size) {
            this.#headerFilled = 0;
            this.#startFrame(size);
          }
          break;
        }
        case "data-payload": {
          const count = Math.min(this.#remaining, end - offset);
          const piece = offset === 0 && count === end
            ? chunk
            : chunk.subarray(offset, offset + count);
          offset += count;
          this.#remaining -= count;
          if (this.#remaining === 0) this.#state = "header";
          this.#handler.data(piece);
          break;
        }
        case "control-payload": {
          const count = Math.min(this.#controlLength - this.#controlFilled, end - offset);
          this.#control.set(chunk.subarray(offset, offset + count), this.#controlFilled);
          this.#controlFilled += count;
          offset += count;
          if (this.#controlFilled === this.#controlLength) this.#endControl();
          break;
        }
        case "failed":
          return; // unreachable: push() refuses a failed parser, failures end #consume by throwing
      }
    }
  }

  /** A complete header of `size` bytes is in `#header`: check it and enter the payload. */
  #startFrame(size: number): void {
    const header = this.#header;
    const first = header[0]!;
    const second = header[1]!;
    const fin = (first & 0x80) !== 0;
    const opcode = first & 0x0f;
    if ((first & 0x70) !== 0) {
      this.#fail(
        `a frame with reserved bits set (0x${(first & 0x70).toString(16)}) but no ` +
          `extension was negotiated`,
      );
    }
    if ((second & 0x80) !== 0) this.#fail("a masked frame; servers must not mask");
    let length = second & 0x7f;
    if (size === 4) {
      length = (header[2]! << 8) | header[3]!;
    } else if (size === 10) {
      const high = ((header[2]! << 24) | (header[3]! << 16) | (header[4]! << 8) | header[5]!) >>>
        0;
      const low = ((header[6]! << 24) | (header[7]! << 16) | (header[8]! << 8) | header[9]!) >>> 0;
      if (high > 0x1fffff) {
        this.#fail(`a frame length above 2^53 - 1 (high word 0x${high.toString(16)})`);
      }
      length = high * 0x1_0000_0000 + low;
    }
    switch (opcode) {
      case Opcode.binary:
      case Opcode.continuation: {
        if (opcode === Opcode.continuation && !this.#inMessage) {
          this.#fail("a continuation frame with no fragmented message to continue");
        }
        if (opcode === Opcode.binary && this.#inMessage) {
          this.#fail("a new binary message before the fragmented one before it was finished");
        }
        this.#inMessage = !fin;
        this.#remaining = length;
        if (length > 0) this.#state = "data-payload";
        return;
      }
      case Opcode.text:
        throw new WebSocketProtocolError(
          `${this.#what} received a text message; Ferry speaks binary messages only`,
          1003,
        );
      case Opcode.close:
      case Opcode.ping:
      case Opcode.pong: {
        if (!fin) this.#fail(`a fragmented control frame (opcode ${opcode})`);
        if (length > MAX_CONTROL_PAYLOAD) {
          this.#fail(
            `a control frame (opcode ${opcode}) with a ${length}-byte payload (at most 125)`,
          );
        }
        this.#controlOpcode = opcode;
        this.#controlLength = length;
        this.#controlFilled = 0;
        if (length === 0) this.#endControl();
        else this.#state = "control-payload";
        return;
      }
      default:
        this.#fail(`a frame with reserved opcode ${opcode}`);
    }
  }

  #endControl(): void {
    this.#state = "header";
    const length = this.#controlLength;
    this.#handler.control(
      this.#controlOpcode,
      length === 0 ? EMPTY : this.#control.subarray(0, length),
    );
  }

  #fail(problem: string): never {
    throw new WebSocketProtocolError(`${this.#what} received ${problem}`);
  }
}

/** A server frame header's size from its second byte: 2, 4 or 10 bytes (never masked). */
function headerSize(second: number): number {
  const length = second & 0x7f;
  return length < 126 ? 2 : length === 126 ? 4 : 10;
}
