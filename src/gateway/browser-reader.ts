/**
 * The reading side of one gateway session: what the browser sent, held until the session may
 * take it, and decoded one frame at a time (`frame-pacer.ts`) while the session's caps have room,
 * so the caps apply per request, not per WebSocket message. The rest of a message waits undecoded
 * (the session keeps the socket paused meanwhile). Bytes inside a frame already begun (and an
 * upload's raw body) pass on regardless: only a new frame waits.
 *
 * Whatever decoding throws closes the session with the close code the browser gets
 * ({@linkcode browserFault}).
 *
 * @module
 */

import { describeError, ProtocolError } from "../errors.ts";
import { FrameDecoder, type FrameHandler } from "../protocol/decoder.ts";
import { GatewayCloseCode, GatewayClosedError } from "./close-codes.ts";
import { FramePacer } from "./frame-pacer.ts";

/** What the reader asks of its session. */
export interface BrowserReaderHost {
  /** The session has ended: stop decoding. */
  closed(): boolean;
  /** True while no further browser request may be decoded (a cap is reached). */
  requestsFull(): boolean;
  /** Decoding failed: end the session with this close. */
  fault(error: GatewayClosedError): void;
}

export class BrowserReader {
  readonly #decoder: FrameDecoder;
  readonly #pacer: FramePacer;
  readonly #host: BrowserReaderHost;
  /** Received browser bytes not yet decoded: the rest of a message, waiting for a request slot. */
  #held: Uint8Array[] = [];
  #heldOffset = 0;
  #pumping = false;

  constructor(handler: FrameHandler, maxFrameLength: number, host: BrowserReaderHost) {
    this.#decoder = new FrameDecoder(handler, { maxFrameLength });
    this.#pacer = new FramePacer(maxFrameLength);
    this.#host = host;
  }

  /** Received bytes wait to be decoded. */
  get holding(): boolean {
    return this.#held.length > 0;
  }

  /** Inside {@linkcode pump} (a reply sent while decoding re-enters the session). */
  get pumping(): boolean {
    return this.#pumping;
  }

  hold(chunk: Uint8Array): void {
    this.#held.push(chunk);
  }

  /** An UploadStream frame was decoded: its raw body of `byteCount` bytes follows. */
  expectBody(byteCount: number): void {
    this.#pacer.expectBody(byteCount);
  }

  /** Drops what is held (the session ended). */
  clear(): void {
    this.#held = [];
  }

  /** Decodes held bytes one frame at a time while the caps have room. */
  pump(): void {
    if (this.#pumping) return; // a reply sent while decoding re-enters through the session
    this.#pumping = true;
    const host = this.#host;
    try {
      while (
        !host.closed() && this.#held.length > 0 &&
        (!this.#pacer.atBoundary || !host.requestsFull())
      ) {
        const chunk = this.#held[0]!;
        const offset = this.#heldOffset;
        const length = this.#pacer.step(chunk, offset);
        if (offset + length >= chunk.byteLength) {
          this.#held.shift();
          this.#heldOffset = 0;
        } else {
          this.#heldOffset = offset + length;
        }
        this.#decoder.push(
          offset === 0 && length === chunk.byteLength
            ? chunk
            : chunk.subarray(offset, offset + length),
        );
      }
    } catch (error) {
      host.fault(browserFault(error));
    } finally {
      this.#pumping = false;
    }
  }
}

/**
 * Maps what decoding threw to the close the browser gets. Codes ride on the errors: the gateway's
 * own refusals (a frame above `maxFrameLength` included: the pacer refuses it) carry theirs; any
 * other `ProtocolError` from the decoder is a framing error (1002).
 */
function browserFault(error: unknown): GatewayClosedError {
  if (error instanceof GatewayClosedError) return error;
  if (error instanceof ProtocolError) {
    return new GatewayClosedError(
      GatewayCloseCode.ProtocolError,
      "protocol-error",
      error.message,
      { cause: error },
    );
  }
  return new GatewayClosedError(
    GatewayCloseCode.InternalError,
    "internal-error",
    `The gateway failed: ${describeError(error)}`,
    { cause: error },
  );
}
