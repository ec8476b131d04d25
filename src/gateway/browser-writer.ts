/**
 * The gateway's path towards one browser: replies go out in the order their backend replies
 * arrived, and a stream's raw body (which must follow its StreamResponse frame contiguously) holds
 * back every later reply until it is through.
 *
 * Backpressure: a stream body is read from the backend only while the browser socket accepts
 * writes (the backend client's stream buffer then fills and its socket pauses). Replies that are
 * already in memory are handed to the socket at once even above its high-water mark (moving them
 * costs no memory, and waiting for a drain between 1 MiB chunks would idle the link); only behind
 * a stream body do they queue here. `congested` tells the session to stop reading the browser (no
 * new requests) until the socket drains, so what is buffered stays within the requests already
 * in flight. Bytes queued above `maxBufferedBytes`, or a browser socket that does
 * not drain for `slowConsumerTimeoutMs`, end the session with close code 4429.
 *
 * Lent bodies: a body lent by a `RelayBufferPool` (`ferry serve`'s file reads) is given back to
 * its pool, and a body sent with an `onFlushed` callback (a chunk the backend client lent,
 * `fetchChunkWith`) is released, once the socket has flushed it: bytes handed to the socket are
 * counted, and a body whose end is at or below `handed − bufferedAmount` has left the socket
 * (checked after each write and on drain). A body the encoder copied into its frame (small ones)
 * is released at once. When the session ends, pool bodies are left to the garbage collector and
 * callbacks run once the socket has closed (nothing reads the memory any more).
 *
 * A reply written straight away goes to the socket in one `writeAll` where the socket has it
 * (header and body in one `writev`, see `Socket.writeAll`).
 *
 * @module
 */

import type { ByteStream } from "../connection/inbound-body.ts";
import type { Clock, TimerHandle } from "../clock.ts";
import { describeError } from "../errors.ts";
import { encodeMessage } from "../protocol/encoder.ts";
import { type Message, MessageType } from "../protocol/messages.ts";
import type { Socket } from "../socket.ts";
import { GatewayCloseCode, GatewayClosedError } from "./close-codes.ts";
import { giveBackRelayed, isLentWhole } from "./relay-buffer-pool.ts";

interface StreamJob {
  readonly streamId: string;
  readonly body: ByteStream;
}

export interface BrowserWriterOptions {
  readonly highWaterMark: number;
  readonly maxBufferedBytes: number;
  readonly slowConsumerTimeoutMs: number;
  /** Arms the `slowConsumerTimeoutMs` timer. */
  readonly clock: Clock;
  /** Bytes were handed to the socket. */
  readonly onWritten: (bytes: number) => void;
  /** `congested` may have changed. */
  readonly onChange: () => void;
  /** The session must end (slow consumer, broken stream body). */
  readonly onFailure: (error: GatewayClosedError) => void;
}

/** Writes replies to the browser socket in order; see the module documentation. */
export class BrowserWriter {
  readonly #socket: Socket;
  readonly #options: BrowserWriterOptions;
  readonly #queue: (Uint8Array | StreamJob)[] = [];
  #head = 0;
  #queuedBytes = 0;
  /** `write` returned false and no drain came yet. */
  #blocked = false;
  #streaming: StreamJob | undefined;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #wakePump: (() => void) | undefined;
  #slowTimer: TimerHandle | undefined;
  #disposed = false;
  /** Bytes handed to the socket so far. */
  #handed = 0;
  /** Lent bodies handed to the socket, with `#handed` after each; `#lentHead` is the oldest. */
  #lent: LentBody[] = [];
  #lentHead = 0;
  /** Bodies sent with `onFlushed`, not yet handed to the socket (queued behind others). */
  readonly #awaitingWrite = new Map<Uint8Array, () => void>();

  constructor(socket: Socket, options: BrowserWriterOptions) {
    this.#socket = socket;
    this.#options = options;
  }

  /** Bytes waiting here or in the socket. */
  get buffered(): number {
    return this.#queuedBytes + this.#socket.bufferedAmount;
  }

  /**
   * The browser is not keeping up: stop issuing new requests for it. True while the socket is
   * above its own high-water mark (until its drain) or while replies queued here (behind a
   * blocked socket or a stream body) exceed `highWaterMark`; `onChange` fires when that ends.
   */
  get congested(): boolean {
    return this.#blocked || this.#queuedBytes > this.#options.highWaterMark;
  }

  /** Nothing queued here, no stream body being piped, nothing in the socket's buffer. */
  get settled(): boolean {
    return this.#idle() && this.#socket.bufferedAmount === 0;
  }

  /**
   * Queues one reply frame. `onFlushed` (for a message with a body) runs once the socket no longer
   * holds the body (see the module documentation); always exactly once.
   */
  send(message: Message, onFlushed?: () => void): void {
    if (this.#disposed) {
      onFlushed?.();
      return;
    }
    const chunks = encodeMessage(message);
    if (onFlushed !== undefined) {
      const body = "body" in message ? message.body : undefined;
      if (body !== undefined && chunks[chunks.length - 1] === body) {
        this.#awaitingWrite.set(body, onFlushed);
      } else {
        onFlushed(); // copied into the frame (or no body): nothing lent is held here
      }
    }
    if (this.#idle()) {
      if (chunks.length > 1 && this.#socket.writeAll !== undefined) this.#writeAll(chunks);
      else for (const chunk of chunks) this.#write(chunk);
      if (this.#blocked) this.#checkCap();
      return;
    }
    for (const chunk of chunks) {
      this.#queue.push(chunk);
      this.#queuedBytes += chunk.byteLength;
    }
    this.#checkCap();
  }

  /** Queues a StreamResponse and pipes `body` after it. */
  sendStream(streamId: string, body: ByteStream): void {
    if (this.#disposed) {
      body.cancel().catch(() => {});
      return;
    }
    this.#queue.push({ streamId, body });
    if (this.#streaming === undefined) this.#flush();
  }

  /** The socket drained. */
  drain(): void {
    this.#giveBackFlushed();
    this.#blocked = false;
    this.#clearSlowTimer();
    const wake = this.#wakePump;
    this.#wakePump = undefined;
    wake?.();
    this.#flush();
    this.#options.onChange();
  }

  /** Stops everything; stream bodies still being read are cancelled. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#clearSlowTimer();
    this.#reader?.cancel().catch(() => {});
    for (let i = this.#head; i < this.#queue.length; i++) {
      const entry = this.#queue[i]!;
      if (!(entry instanceof Uint8Array)) entry.body.cancel().catch(() => {});
    }
    this.#queue.length = 0;
    this.#head = 0;
    this.#queuedBytes = 0;
    // Whatever the socket still holds is read until it has closed: release lent memory then.
    const release = [...this.#awaitingWrite.values()];
    for (let i = this.#lentHead; i < this.#lent.length; i++) {
      const flushed = this.#lent[i]!.flushed;
      if (flushed !== undefined) release.push(flushed);
    }
    this.#awaitingWrite.clear();
    this.#lent = [];
    this.#lentHead = 0;
    if (release.length > 0) {
      void this.#socket.closed.then(() => {
        for (const flushed of release) flushed();
      });
    }
    const wake = this.#wakePump;
    this.#wakePump = undefined;
    wake?.();
  }

  /** Replies can go straight to the socket: no stream body is being piped, nothing queued. */
  #idle(): boolean {
    return this.#streaming === undefined && this.#head === this.#queue.length;
  }

  #write(chunk: Uint8Array): void {
    this.#hand(chunk);
    this.#written(this.#socket.write(chunk));
  }

  /** A frame's pieces (header, body) in one socket call: one `writev` where the socket can. */
  #writeAll(chunks: readonly Uint8Array[]): void {
    for (const chunk of chunks) this.#hand(chunk);
    this.#written(this.#socket.writeAll!(chunks));
  }

  /** Counts `chunk` as handed to the socket and notes it if it is a lent body. */
  #hand(chunk: Uint8Array): void {
    this.#options.onWritten(chunk.byteLength);
    this.#handed += chunk.byteLength;
    const flushed = this.#awaitingWrite.size === 0 ? undefined : this.#awaitingWrite.get(chunk);
    if (flushed !== undefined) this.#awaitingWrite.delete(chunk);
    if (flushed !== undefined || isLentWhole(chunk)) {
      this.#lent.push({ end: this.#handed, bytes: chunk, flushed });
    }
  }

  /** After a socket write that returned `writable`. */
  #written(writable: boolean): void {
    if (!writable && !this.#blocked) {
      this.#blocked = true;
      this.#armSlowTimer();
    }
    if (this.#lentHead < this.#lent.length) this.#giveBackFlushed();
  }

  /** Gives back the lent bodies the socket no longer holds (see the module documentation). */
  #giveBackFlushed(): void {
    const lent = this.#lent;
    if (this.#lentHead === lent.length || this.#disposed) return;
    const flushed = this.#handed - this.#socket.bufferedAmount;
    while (this.#lentHead < lent.length && lent[this.#lentHead]!.end <= flushed) {
      const body = lent[this.#lentHead]!;
      lent[this.#lentHead++] = GIVEN_BACK;
      giveBackRelayed(body.bytes);
      body.flushed?.();
    }
    if (this.#lentHead === lent.length) {
      lent.length = 0;
      this.#lentHead = 0;
    }
  }

  #flush(): void {
    const queue = this.#queue;
    while (this.#streaming === undefined && this.#head < queue.length) {
      const entry = queue[this.#head]!;
      queue[this.#head++] = EMPTY;
      if (entry instanceof Uint8Array) {
        this.#queuedBytes -= entry.byteLength;
        this.#write(entry);
        continue;
      }
      this.#streaming = entry;
      for (const chunk of encodeMessage(streamResponse(entry))) this.#write(chunk);
      void this.#pump(entry);
    }
    if (this.#head === queue.length) {
      queue.length = 0;
      this.#head = 0;
    }
  }

  async #pump(job: StreamJob): Promise<void> {
    const reader = job.body.getReader();
    this.#reader = reader;
    try {
      for (;;) {
        if (this.#blocked) await new Promise<void>((wake) => (this.#wakePump = wake));
        if (this.#disposed) return;
        const { done, value } = await reader.read();
        if (done || this.#disposed) break;
        this.#write(value);
      }
    } catch (error) {
      if (this.#disposed) return;
      this.#options.onFailure(
        new GatewayClosedError(
          GatewayCloseCode.BadGateway,
          "backend-closed",
          `The body of stream '${job.streamId.slice(0, 40)}' broke off at the backend: ` +
            describeError(error),
          { cause: error },
        ),
      );
      return;
    } finally {
      this.#reader = undefined;
      reader.releaseLock();
    }
    this.#streaming = undefined;
    this.#flush();
    this.#options.onChange();
  }

  #checkCap(): void {
    const buffered = this.buffered;
    if (buffered <= this.#options.maxBufferedBytes) return;
    this.#options.onFailure(
      new GatewayClosedError(
        GatewayCloseCode.SlowConsumer,
        "slow-consumer",
        `The browser is not reading: ${buffered} bytes queued for it, above the limit of ` +
          `${this.#options.maxBufferedBytes} (maxBufferedBytes)`,
      ),
    );
  }

  #armSlowTimer(): void {
    const timeoutMs = this.#options.slowConsumerTimeoutMs;
    if (timeoutMs === 0 || this.#slowTimer !== undefined) return;
    this.#slowTimer = this.#options.clock.setTimer(() => {
      this.#slowTimer = undefined;
      if (!this.#blocked || this.#disposed) return;
      this.#options.onFailure(
        new GatewayClosedError(
          GatewayCloseCode.SlowConsumer,
          "slow-consumer",
          `The browser did not read its replies for ${timeoutMs} ms (slowConsumerTimeoutMs); ` +
            `${this.buffered} bytes queued`,
        ),
      );
    }, timeoutMs);
  }

  #clearSlowTimer(): void {
    if (this.#slowTimer !== undefined) this.#options.clock.clearTimer(this.#slowTimer);
    this.#slowTimer = undefined;
  }
}

function streamResponse(job: StreamJob): Message {
  return {
    type: MessageType.StreamResponse,
    streamId: job.streamId,
    byteCount: job.body.byteLength,
  };
}

const EMPTY = new Uint8Array(0);
const GIVEN_BACK: LentBody = { end: 0, bytes: EMPTY, flushed: undefined };

/** A lent body handed to the socket: where it ends in the socket's stream, and who to tell. */
interface LentBody {
  readonly end: number;
  readonly bytes: Uint8Array;
  readonly flushed: (() => void) | undefined;
}
