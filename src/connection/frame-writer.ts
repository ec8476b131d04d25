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
 *   wait in a backlog, in order, until the body is complete (body-pump.ts pulls it from its source).
 *   A body whose source fails or yields a different byte count leaves the wire out of sync:
 *   `onFatal` receives the error.
 *
 * @module
 */

import { encodeFrame, encodeMessage } from "../protocol/encoder.ts";
import { encodeRpcFrame } from "../protocol/hot-frames.ts";
import type { Int64, Message, RpcRequest, RpcResponse } from "../protocol/messages.ts";
import type { Socket } from "../socket.ts";
import { type BodyPumpTarget, type OutboundBody, pumpBody } from "./body-pump.ts";
import { FrameSlab } from "./frame-slab.ts";
import type { FrameWriterOptions, WriterStats } from "./frame-writer-options.ts";
import { type OutboundEntry, writeGathered, type WrittenCallback } from "./gathered-writes.ts";
import { LentBodies } from "./lent-bodies.ts";
import { writeHardCapError } from "./write-hard-cap.ts";

export type { OutboundBody } from "./body-pump.ts";
export type { FrameWriterOptions, WriterStats } from "./frame-writer-options.ts";

const RESOLVED = Promise.resolve();
/** The pending list of every writer with nothing pending: never appended to (see `#queue`). */
const NO_ENTRIES: OutboundEntry[] = [];

export { GATHER_CHUNK_MAX, type WrittenCallback } from "./gathered-writes.ts";
const always = (): boolean => true;
/** While pumping a body, flush at once (rather than at the microtask) above this many bytes. */
const BODY_FLUSH_BYTES = 64 * 1024;

type Entry = OutboundEntry;

interface BacklogBody {
  readonly frame: readonly Uint8Array[];
  readonly body: OutboundBody;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}
type BacklogItem = Entry | BacklogBody;

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
  /** Items waiting behind the body being pumped (made by the first; most connections pump none). */
  #backlog: BacklogItem[] | undefined;
  #backlogBytes = 0;
  #bodyActive = false;
  /** The body being pumped, so `abort` can fail it even while its source is stalled. */
  #activeBody: BacklogBody | undefined;
  #flushScheduled = false;
  /** The socket's last write returned false; hold bytes until `drain`. */
  #blocked = false;
  /** `options.now()` when `#blocked` was last set. */
  #blockedSince = 0;
  #closed = false;
  #closeError: unknown = undefined;
  /** Made by the first wait (most connections never wait for a drain). */
  #drainWaiters: { resolve: () => void; reject: (error: unknown) => void }[] | undefined;
  #bytesWritten = 0;
  #socketWrites = 0;
  /**
   * At least the socket's `bufferedAmount`: read after each flush, the last time this writer (its
   * only writer) added bytes to it, and it only shrinks until the next. The hard-cap check of
   * every queued frame adds this instead of asking the socket. NaN (unknown) until the first
   * flush, and whenever the socket reports no byte count: then the check asks the socket.
   */
  #socketBufferedBound = NaN;
  /** What body pumps see of this writer; made with the first body (most connections send none). */
  #pumpTarget: BodyPumpTarget | undefined;

  constructor(socket: Socket, options: FrameWriterOptions) {
    this.#socket = socket;
    this.#options = options;
  }

  #makePumpTarget(): BodyPumpTarget {
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
      push: (chunk) => this.#pushBodyChunk(chunk),
      waitForDrain: () => this.#waitForDrain(),
    };
  }

  /** Bytes queued for the peer: held here (pending and backlog) plus buffered in the socket. */
  get queuedBytes(): number {
    return this.#pendingBytes + this.#backlogBytes + this.#socket.bufferedAmount;
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
    if (this.#bodyActive) {
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
    if (this.#closed || this.#bodyActive || !encodeRpcFrame(type, requestId, body, slab)) {
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
    let bytes = 0;
    if (this.#bodyActive) {
      for (const chunk of chunks) {
        (this.#backlog ??= []).push(chunk);
        bytes += chunk.byteLength;
      }
      if (onWritten) (this.#backlog ??= []).push(onWritten);
      this.#backlogBytes += bytes;
    } else {
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
    return new Promise<void>((resolve, reject) => {
      const item: BacklogBody = { frame, body, resolve, reject };
      if (this.#bodyActive) {
        (this.#backlog ??= []).push(item);
        for (const chunk of frame) this.#backlogBytes += chunk.byteLength;
        this.#checkHardCap();
      } else {
        this.#startBody(item);
      }
    });
  }

  /** The socket drained: write what was held back, then wake body pumps. */
  drain(): void {
    if (this.#closed) return;
    this.#blocked = false;
    this.#flush();
    if (this.#blocked) return;
    const waiters = this.#drainWaiters;
    if (waiters === undefined) return;
    this.#drainWaiters = undefined;
    for (const waiter of waiters) waiter.resolve();
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
    const dropped: BacklogItem[] = [...this.#pending, ...(this.#backlog ?? [])];
    this.#pending = NO_ENTRIES;
    this.#backlog = undefined;
    this.#pendingBytes = 0;
    this.#backlogBytes = 0;
    const waiters = this.#drainWaiters ?? [];
    this.#drainWaiters = undefined;
    for (const waiter of waiters) waiter.reject(error);
    const active = this.#activeBody;
    this.#activeBody = undefined;
    if (active !== undefined) {
      active.body.source.cancel(error);
      active.reject(error);
    }
    for (const item of dropped) {
      if (typeof item === "function") item();
      else if (!(item instanceof Uint8Array)) {
        item.body.source.cancel(error);
        item.reject(error);
      }
    }
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
    const held = this.#pendingBytes + this.#backlogBytes;
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

  #waitForDrain(): Promise<void> {
    return new Promise((resolve, reject) => (this.#drainWaiters ??= []).push({ resolve, reject }));
  }

  #startBody(item: BacklogBody): void {
    this.#bodyActive = true;
    this.#activeBody = item;
    this.#slab?.closeRun();
    for (const chunk of item.frame) {
      this.#queue(chunk);
      this.#pendingBytes += chunk.byteLength;
    }
    this.#scheduleFlush();
    this.#checkHardCap();
    pumpBody(item.body, this.#pumpTarget ??= this.#makePumpTarget()).then(() => {
      this.#bodyActive = false;
      this.#activeBody = undefined;
      this.#releaseBacklog();
      item.resolve();
    }, (error) => {
      item.reject(error);
      if (!this.#closed) this.#options.onFatal(error);
    });
  }

  /** One chunk of the body being pumped: queued, flushed at once above BODY_FLUSH_BYTES. */
  #pushBodyChunk(chunk: Uint8Array): void {
    this.#queue(chunk);
    this.#pendingBytes += chunk.byteLength;
    if (this.#pendingBytes >= BODY_FLUSH_BYTES) this.#flush();
    else this.#scheduleFlush();
  }

  /** A body is complete: move waiting frames to pending, up to (and starting) the next body. */
  #releaseBacklog(): void {
    const backlog = this.#backlog ?? [];
    let index = 0;
    while (index < backlog.length) {
      const item = backlog[index++]!;
      if (typeof item === "function" || item instanceof Uint8Array) {
        this.#queue(item);
        if (typeof item !== "function") {
          this.#pendingBytes += item.byteLength;
          this.#backlogBytes -= item.byteLength;
        }
        continue;
      }
      for (const chunk of item.frame) this.#backlogBytes -= chunk.byteLength;
      this.#backlog = backlog.slice(index);
      this.#startBody(item);
      return;
    }
    this.#backlog = undefined;
    this.#backlogBytes = 0;
    this.#scheduleFlush();
  }
}
