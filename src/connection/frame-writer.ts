/**
 * The outbound side of one connection: frames in, socket writes out.
 *
 * - **Coalescing.** Messages are encoded straight into the slab all writers carve, back to back
 *   (see frame-slab.ts), and handed to the socket at one microtask flush: the frames of one tick
 *   are ONE write without a gather copy. Other runs of small chunks are copied into one buffer; chunks of
 *   {@linkcode GATHER_CHUNK_MAX} bytes or more (large bodies the encoder passed through) are written
 *   as they are, without a copy. Order is always preserved.
 * - **Backpressure.** When `socket.write` returns `false` the writer stops handing bytes to the
 *   socket and keeps them (still coalescing) until the socket's `drain`. Raw bodies are pulled from
 *   their source only while the socket is writable.
 * - **Lent bodies.** A message sent with a `giveBack` callback lends its body to the socket where
 *   it can (lent-bodies.ts): `giveBack` runs once the socket is done with the memory, or never.
 * - **Hard cap.** If the bytes queued here and in the socket exceed `writeHardCap`, the peer is not
 *   reading: `onFatal` receives the error of write-hard-cap.ts (the connection closes).
 * - **Raw bodies.** A StreamResponse / UploadStream frame is followed by exactly `byteLength` raw
 *   bytes. Nothing may be interleaved with them, so frames written while a body is being pumped
 *   wait behind it, in order, until the body is complete (raw-body-queue.ts; body-pump.ts pulls
 *   the body from its source). A body whose source fails or yields a different byte count leaves
 *   the wire out of sync: `onFatal` receives the error.
 *
 * @module
 */

import { encodeFrame, encodeMessage } from "../protocol/encoder.ts";
import { encodeRpcFrame } from "../protocol/hot-frames.ts";
import type { Int64, Message, RpcRequest, RpcResponse } from "../protocol/messages.ts";
import type { Socket } from "../socket.ts";
import type { OutboundBody } from "./body-pump.ts";
import { FrameSlab } from "./frame-slab.ts";
import type { FrameWriterOptions, WriterStats } from "./frame-writer-options.ts";
import { type OutboundEntry, writeGathered, type WrittenCallback } from "./gathered-writes.ts";
import { LentBodies } from "./lent-bodies.ts";
import { RawBodyQueue, type RawBodyWriter } from "./raw-body-queue.ts";
import { writeHardCapError } from "./write-hard-cap.ts";

export type { OutboundBody } from "./body-pump.ts";
export type { FrameWriterOptions, WriterStats } from "./frame-writer-options.ts";

const RESOLVED = Promise.resolve();
/** The pending list of every writer with nothing pending: never appended to (see `#queue`). */
const NO_ENTRIES: OutboundEntry[] = [];

export { GATHER_CHUNK_MAX, type WrittenCallback } from "./gathered-writes.ts";
const always = (): boolean => true;

type Entry = OutboundEntry;

export class FrameWriter {
  /** Callbacks for `writeGathered` and the slab, shared by all writers (no closures each). */
  static readonly #write = (writer: FrameWriter, chunk: Uint8Array): void =>
    writer.#socketWrite(chunk);
  static readonly #writable = (writer: FrameWriter): boolean => !writer.#blocked;
  static readonly #emitPending = (chunk: Uint8Array, writer: FrameWriter): void => {
    writer.#queue(chunk);
  };
  readonly #socket: Socket;
  readonly #options: FrameWriterOptions;
  /** Bytes and written-callbacks ready for the socket, in order. */
  #pending: Entry[] = NO_ENTRIES;
  /** Bytes in `#pending` plus those encoded into the slab's open run. */
  #pendingBytes = 0;
  /**
   * Messages are encoded here; runs of frames and passed-through bodies go to `#pending`. Made by
   * the first message after a flush, dropped by the flush (it holds no bytes then): an
   * idle connection holds none.
   */
  #slab: FrameSlab<FrameWriter> | undefined;
  /** Passed-through bodies waiting in `#pending` to be written with `writeLent`. */
  #lentBodies: LentBodies | undefined;
  /** Raw bodies and what waits behind them; made with the first body (most connections send none). */
  #rawBodies: RawBodyQueue | undefined;
  #flushScheduled = false;
  /** The socket's last write returned false; hold bytes until `drain`. */
  #blocked = false;
  /** `options.now()` when `#blocked` was last set. */
  #blockedSince = 0;
  #closed = false;
  #closeError: unknown = undefined;
  #bytesWritten = 0;
  #socketWrites = 0;
  /**
   * At least the socket's `bufferedAmount`: read after each flush, the last time this writer (its
   * only writer) added bytes to it, and it only shrinks until the next. The hard-cap check of
   * every queued frame adds this instead of asking the socket. NaN (unknown) until the first
   * flush, and whenever the socket reports no byte count: then the check asks the socket.
   */
  #socketBufferedBound = NaN;

  constructor(socket: Socket, options: FrameWriterOptions) {
    this.#socket = socket;
    this.#options = options;
  }

  /** Bytes queued for the peer: held here (pending and backlog) plus buffered in the socket. */
  get queuedBytes(): number {
    return this.#pendingBytes + (this.#rawBodies?.backlogBytes ?? 0) +
      this.#socket.bufferedAmount;
  }

  /** Whether the socket currently accepts bytes (not waiting for a drain, not closed). */
  get writable(): boolean {
    return !this.#blocked && !this.#closed;
  }

  /** `options.now()` when writes became blocked, or undefined while the socket accepts bytes. */
  get blockedSince(): number | undefined {
    return this.#blocked && !this.#closed ? this.#blockedSince : undefined;
  }

  get stats(): WriterStats {
    return { bytesWritten: this.#bytesWritten, socketWrites: this.#socketWrites };
  }

  /**
   * Encodes and queues one message (not StreamResponse / UploadStream: see `writeWithBody`).
   * `onWritten` runs once it has been handed to the socket or dropped because the writer closed.
   * `giveBack`, if the message's body can be lent to the socket, runs once the socket no longer
   * reads it (see "Lent bodies" in the module documentation); otherwise never.
   * @throws InvalidArgumentError when a field cannot be encoded (nothing is queued then).
   */
  writeMessage(message: Message, onWritten?: WrittenCallback, giveBack?: () => void): void {
    if (this.#closed) {
      onWritten?.();
      return;
    }
    if (this.#rawBodies?.active) {
      // Behind a body being pumped: the frame waits in the backlog as its own chunks.
      this.write(encodeMessage(message), onWritten);
      return;
    }
    const slab = this.#slab ??= new FrameSlab<FrameWriter>(FrameWriter.#emitPending, this);
    const before = slab.total;
    encodeFrame(message, slab);
    this.#pendingBytes += slab.total - before;
    const body = (message as { body?: unknown }).body;
    if (
      giveBack !== undefined && LentBodies.lendable(this.#socket, body, this.#pending.at(-1))
    ) (this.#lentBodies ??= new LentBodies()).lend(body, giveBack);
    if (onWritten !== undefined) {
      slab.closeRun();
      this.#queue(onWritten);
    }
    this.#scheduleFlush();
    this.#checkHardCap();
  }

  /**
   * `writeMessage` of an RpcRequest / RpcResponse given as its fields: the per-RPC path, which
   * builds no message object when the frame is in its common form (see `encodeRpcFrame`). Any
   * other form, or a frame that must wait behind a body, takes `writeMessage` unchanged.
   * @throws InvalidArgumentError when a field cannot be encoded (nothing is queued then).
   */
  writeRpc(
    type: (RpcRequest | RpcResponse)["type"],
    requestId: Int64,
    body: Uint8Array,
  ): void {
    const slab = this.#slab ??= new FrameSlab<FrameWriter>(FrameWriter.#emitPending, this);
    const before = slab.total;
    if (this.#closed || this.#rawBodies?.active || !encodeRpcFrame(type, requestId, body, slab)) {
      this.writeMessage({ type, requestId, body });
      return;
    }
    this.#pendingBytes += slab.total - before;
    this.#scheduleFlush();
    this.#checkHardCap();
  }

  /**
   * Queues one frame's chunks. `onWritten` runs once they have been handed to the socket (or were
   * dropped because the writer closed) — used to account for chunks being transferred.
   */
  write(chunks: readonly Uint8Array[], onWritten?: WrittenCallback): void {
    if (this.#closed) {
      onWritten?.();
      return;
    }
    const rawBodies = this.#rawBodies;
    if (rawBodies?.active) rawBodies.hold(chunks, onWritten);
    else {
      let bytes = 0;
      this.#slab?.closeRun();
      for (const chunk of chunks) {
        this.#queue(chunk);
        bytes += chunk.byteLength;
      }
      if (onWritten) this.#queue(onWritten);
      this.#pendingBytes += bytes;
      this.#scheduleFlush();
    }
    this.#checkHardCap();
  }

  /**
   * Queues a frame followed by its raw body. Resolves once the source has yielded the whole body
   * and it is queued for the socket (in order, behind at most one drain); rejects if the writer
   * closes first or the body fails (then `onFatal` was told too).
   */
  writeWithBody(frame: readonly Uint8Array[], body: OutboundBody): Promise<void> {
    if (this.#closed) {
      body.source.cancel(this.#closeError);
      return Promise.reject(this.#closeError);
    }
    return (this.#rawBodies ??= new RawBodyQueue(this.#rawBodyWriter())).write(frame, body);
  }

  /** The socket drained: write what was held back, then wake body pumps. */
  drain(): void {
    if (this.#closed) return;
    this.#blocked = false;
    this.#flush();
    if (!this.#blocked) this.#rawBodies?.drained();
  }

  /**
   * Graceful end: hands everything that can still go out in order (frames not stuck behind an
   * unfinished body) to the socket, ignoring backpressure, then refuses further writes.
   */
  flushAndClose(error: unknown): void {
    if (this.#closed) return;
    this.#blocked = false;
    this.#flush(true);
    this.abort(error);
  }

  /** Stops at once: drops queued bytes, fails body pumps with `error`, runs written-callbacks. */
  abort(error: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeError = error;
    this.#slab?.discard();
    this.#slab = undefined;
    // Bodies never handed to the socket: left to the garbage collector with the queue.
    this.#lentBodies = undefined;
    const dropped = this.#pending;
    this.#pending = NO_ENTRIES;
    this.#pendingBytes = 0;
    if (this.#rawBodies !== undefined) this.#rawBodies.abort(error, dropped);
    else for (const item of dropped) if (typeof item === "function") item();
  }

  /** Appends to `#pending` (an idle writer holds the shared empty list, never appended to). */
  #queue(entry: Entry): void {
    const pending = this.#pending;
    if (pending === NO_ENTRIES) this.#pending = [entry];
    else pending.push(entry);
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // A callback made per flush, not kept: an idle writer holds no closure.
    RESOLVED.then(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #checkHardCap(): void {
    if (this.#closed) return;
    const options = this.#options;
    // Below the cap even with the socket's bytes bounded from above: no need to ask the socket.
    const held = this.#pendingBytes + (this.#rawBodies?.backlogBytes ?? 0);
    if (held + this.#socketBufferedBound <= options.writeHardCap) return;
    const queued = this.queuedBytes;
    if (queued <= options.writeHardCap && Number.isFinite(queued)) return;
    const bufferedAmount = this.#socket.bufferedAmount;
    const error = writeHardCapError(queued, options.writeHardCap, options.peer, bufferedAmount);
    if (error !== undefined) options.onFatal(error);
  }

  /** Hands pending bytes to the socket, gathering small chunks; stops when the socket is full. */
  #flush(ignoreBackpressure = false): void {
    if (this.#closed || (this.#blocked && !ignoreBackpressure)) return;
    this.#slab?.closeRun();
    this.#slab = undefined;
    const pending = this.#pending;
    const writtenBefore = this.#bytesWritten;
    const index = writeGathered(
      pending,
      pending.length,
      this,
      FrameWriter.#write,
      ignoreBackpressure ? always : FrameWriter.#writable,
    );
    // Callbacks run above may have closed the writer (and emptied #pending) already.
    if (this.#closed) return;
    // Entries queued by those callbacks sit behind `index` in the same array: keep them.
    this.#pending = index === pending.length ? NO_ENTRIES : pending.slice(index);
    this.#pendingBytes -= this.#bytesWritten - writtenBefore;
    if (this.#bytesWritten !== writtenBefore) {
      this.#socketBufferedBound = this.#socket.bufferedAmount;
    }
  }

  #socketWrite(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.#socketWrites++;
    this.#bytesWritten += chunk.byteLength;
    const giveBack = this.#lentBodies?.take(chunk);
    const writable = giveBack === undefined
      ? this.#socket.write(chunk)
      : this.#socket.writeLent!(chunk, giveBack);
    if (!writable && !this.#blocked) {
      this.#blocked = true;
      this.#blockedSince = this.#options.now?.() ?? performance.now();
      this.#options.onBlocked?.();
    }
  }

  /** What the raw-body queue sees of this writer (made once, with the queue). */
  #rawBodyWriter(): RawBodyWriter {
    // deno-lint-ignore no-this-alias
    const writer = this;
    return {
      peer: this.#options.peer,
      get closed() {
        return writer.#closed;
      },
      get closeError() {
        return writer.#closeError;
      },
      get blocked() {
        return writer.#blocked;
      },
      get pendingBytes() {
        return writer.#pendingBytes;
      },
      enqueue: (entry) => {
        this.#queue(entry);
        if (typeof entry !== "function") this.#pendingBytes += entry.byteLength;
      },
      closeRun: () => this.#slab?.closeRun(),
      flush: () => this.#flush(),
      scheduleFlush: () => this.#scheduleFlush(),
      checkHardCap: () => this.#checkHardCap(),
      onFatal: (error) => this.#options.onFatal(error),
    };
  }
}
