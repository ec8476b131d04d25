/**
 * Raw bodies in turn: the bytes after a StreamResponse / UploadStream frame go to the socket
 * with nothing interleaved, so while one is being pumped (body-pump.ts) every frame, written-callback
 * and further body queued behind it waits here, in order. When the body is complete the waiting
 * items go on to the writer's pending queue, up to the next body, which starts at once.
 *
 * The queue belongs to one `FrameWriter` (frame-writer.ts), made by its first body (most
 * connections send none); it sees the writer through {@linkcode RawBodyWriter}. It is also what
 * the pump feeds, and it keeps the pump's drain waiters.
 *
 * @module
 */

import { type BodyPumpTarget, type OutboundBody, pumpBody } from "./body-pump.ts";
import type { OutboundEntry, WrittenCallback } from "./gathered-writes.ts";

/** While pumping a body, flush at once (rather than at the microtask) above this many bytes. */
const BODY_FLUSH_BYTES = 64 * 1024;

/** The writer's side of its raw-body queue. */
export interface RawBodyWriter {
  /** The peer's address, for error messages. */
  readonly peer: string;
  readonly closed: boolean;
  readonly closeError: unknown;
  /** The socket's last write returned false: hold bytes until it drains. */
  readonly blocked: boolean;
  /** Bytes queued for the socket and not yet handed to it. */
  readonly pendingBytes: number;
  /** Appends bytes (counted in `pendingBytes`) or a written-callback to the pending queue. */
  enqueue(entry: OutboundEntry): void;
  /** Closes the slab's open run, so entries enqueued next follow the frames encoded before. */
  closeRun(): void;
  /** Hands pending bytes to the socket now. */
  flush(): void;
  /** Hands pending bytes to the socket at the next microtask. */
  scheduleFlush(): void;
  checkHardCap(): void;
  /** A body failed: the wire is out of sync (the writer closes the connection). */
  onFatal(error: unknown): void;
}

interface QueuedBody {
  readonly frame: readonly Uint8Array[];
  readonly body: OutboundBody;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}
type BacklogItem = OutboundEntry | QueuedBody;

export class RawBodyQueue implements BodyPumpTarget {
  readonly #writer: RawBodyWriter;
  /** Items waiting behind the body being pumped (made by the first). */
  #backlog: BacklogItem[] | undefined;
  #backlogBytes = 0;
  /** The body being pumped, so `abort` can fail it even while its source is stalled. */
  #activeBody: QueuedBody | undefined;
  /** Made by the first wait. */
  #drainWaiters: { resolve: () => void; reject: (error: unknown) => void }[] | undefined;
  #active = false;

  constructor(writer: RawBodyWriter) {
    this.#writer = writer;
  }

  /** A body is being pumped: frames must wait here (see {@linkcode RawBodyQueue.hold}). */
  get active(): boolean {
    return this.#active;
  }

  /** Bytes waiting behind the body being pumped. */
  get backlogBytes(): number {
    return this.#backlogBytes;
  }

  // BodyPumpTarget: what the pump sees of the writer.
  get peer(): string {
    return this.#writer.peer;
  }
  get closed(): boolean {
    return this.#writer.closed;
  }
  get closeError(): unknown {
    return this.#writer.closeError;
  }
  get blocked(): boolean {
    return this.#writer.blocked;
  }

  /** One chunk of the body being pumped: queued, flushed at once above BODY_FLUSH_BYTES. */
  push(chunk: Uint8Array): void {
    const writer = this.#writer;
    writer.enqueue(chunk);
    if (writer.pendingBytes >= BODY_FLUSH_BYTES) writer.flush();
    else writer.scheduleFlush();
  }

  waitForDrain(): Promise<void> {
    return new Promise((resolve, reject) => (this.#drainWaiters ??= []).push({ resolve, reject }));
  }

  /** The socket drained and took everything pending: wake the pump. */
  drained(): void {
    const waiters = this.#drainWaiters;
    if (waiters === undefined) return;
    this.#drainWaiters = undefined;
    for (const waiter of waiters) waiter.resolve();
  }

  /**
   * Queues a frame followed by its raw body: started at once, or behind the body being pumped.
   * Resolves once the source has yielded the whole body and it is queued for the socket; rejects
   * if the writer closes first or the body fails (then `onFatal` was told too).
   */
  write(frame: readonly Uint8Array[], body: OutboundBody): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const item: QueuedBody = { frame, body, resolve, reject };
      if (this.#active) {
        (this.#backlog ??= []).push(item);
        for (const chunk of frame) this.#backlogBytes += chunk.byteLength;
        this.#writer.checkHardCap();
      } else {
        this.#start(item);
      }
    });
  }

  /** Holds one frame's chunks (and its written-callback) behind the body being pumped. */
  hold(chunks: readonly Uint8Array[], onWritten: WrittenCallback | undefined): void {
    const backlog = this.#backlog ??= [];
    let bytes = 0;
    for (const chunk of chunks) {
      backlog.push(chunk);
      bytes += chunk.byteLength;
    }
    if (onWritten) backlog.push(onWritten);
    this.#backlogBytes += bytes;
  }

  /**
   * The writer closed with `error`: rejects the drain waiters, cancels and fails the active body,
   * then drops `pending` (the writer's queue) and the backlog in order: written-callbacks run,
   * waiting bodies are cancelled and fail.
   */
  abort(error: unknown, pending: readonly OutboundEntry[]): void {
    const dropped: BacklogItem[] = [...pending, ...(this.#backlog ?? [])];
    this.#backlog = undefined;
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

  #start(item: QueuedBody): void {
    const writer = this.#writer;
    this.#active = true;
    this.#activeBody = item;
    writer.closeRun();
    for (const chunk of item.frame) writer.enqueue(chunk);
    writer.scheduleFlush();
    writer.checkHardCap();
    pumpBody(item.body, this).then(() => {
      this.#active = false;
      this.#activeBody = undefined;
      this.#release();
      item.resolve();
    }, (error) => {
      item.reject(error);
      if (!writer.closed) writer.onFatal(error);
    });
  }

  /** A body is complete: move waiting items to pending, up to (and starting) the next body. */
  #release(): void {
    const writer = this.#writer;
    const backlog = this.#backlog ?? [];
    let index = 0;
    while (index < backlog.length) {
      const item = backlog[index++]!;
      if (typeof item === "function" || item instanceof Uint8Array) {
        writer.enqueue(item);
        if (typeof item !== "function") this.#backlogBytes -= item.byteLength;
        continue;
      }
      for (const chunk of item.frame) this.#backlogBytes -= chunk.byteLength;
      this.#backlog = backlog.slice(index);
      this.#start(item);
      return;
    }
    this.#backlog = undefined;
    this.#backlogBytes = 0;
    writer.scheduleFlush();
  }
}
