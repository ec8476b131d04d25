/**
 * Groups the chunks a WebSocket socket is asked to write in one turn into WebSocket messages that
 * each END with a large chunk, so a Ferry frame's header and its body travel as ONE message.
 * Web-platform only.
 *
 * Why: the frame writer hands a socket a frame's small header and its large body as two writes.
 * Sent as two messages, the receiver gets two message events (in a browser, two IPC hops and two
 * tasks) and its decoder must allocate the frame and copy the body into it. Sent as one message,
 * the decoder reads the whole frame in place from the message's buffer: no allocation, no copy.
 * Ferry frames are self-delimiting, so message boundaries never change what the peer decodes.
 *
 * - A small chunk (below {@linkcode LARGE_CHUNK_BYTES}) waits in the batch.
 * - A large chunk ends a message: alone (sent as is, no copy) when nothing waits, else together
 *   with the waiting chunks. With `sendPart` (the `ws` package: `send(data, { fin })`), the parts
 *   go out as fragments of one message, zero-copy; without it, they are joined into one buffer
 *   (one copy of the body on the sender, which saves one on the receiver).
 * - Whatever still waits is sent as one message at the end of the turn (a microtask), or at once
 *   by `flush()` (before a close frame, so nothing is lost).
 *
 * The adapter's `bufferedAmount` should count {@linkcode WebSocketMessageBatch.bytes}, which are
 * queued but not yet handed to the WebSocket.
 *
 * @module
 */

/** Chunks of this size or more end a message; the frame writer writes bodies ≥ 32 KiB as is. */
export const LARGE_CHUNK_BYTES = 32 * 1024;

export interface WebSocketMessageSender {
  /** Sends one complete binary message. */
  send(message: Uint8Array): void;
  /** Sends one fragment of a message (`fin`: the last one); where the WebSocket supports it. */
  sendPart?(part: Uint8Array, fin: boolean): void;
}

const RESOLVED = Promise.resolve();

/** See the module documentation. */
export class WebSocketMessageBatch {
  readonly #sender: WebSocketMessageSender;
  #waiting: Uint8Array[] = [];
  #waitingBytes = 0;
  #flushScheduled = false;
  readonly #flushTask = () => {
    this.#flushScheduled = false;
    this.flush();
  };

  constructor(sender: WebSocketMessageSender) {
    this.#sender = sender;
  }

  /** Bytes accepted but not yet handed to the WebSocket. */
  get bytes(): number {
    return this.#waitingBytes;
  }

  /** Queues `chunk` (non-empty); sends a message when it is large. */
  add(chunk: Uint8Array): void {
    if (chunk.byteLength < LARGE_CHUNK_BYTES) {
      this.#waiting.push(chunk);
      this.#waitingBytes += chunk.byteLength;
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        RESOLVED.then(this.#flushTask);
      }
      return;
    }
    if (this.#waiting.length === 0) {
      this.#sender.send(chunk);
      return;
    }
    const waiting = this.#take();
    const sendPart = this.#sender.sendPart;
    if (sendPart !== undefined) {
      for (const part of waiting) sendPart.call(this.#sender, part, false);
      sendPart.call(this.#sender, chunk, true);
      return;
    }
    this.#sender.send(join(waiting, chunk));
  }

  /** Sends whatever waits, as one message. */
  flush(): void {
    if (this.#waiting.length === 0) return;
    const waiting = this.#take();
    this.#sender.send(waiting.length === 1 ? waiting[0]! : join(waiting, undefined));
  }

  /** Drops whatever waits (the socket is being torn down). */
  clear(): void {
    this.#waiting = [];
    this.#waitingBytes = 0;
  }

  #take(): Uint8Array[] {
    const waiting = this.#waiting;
    this.#waiting = [];
    this.#waitingBytes = 0;
    return waiting;
  }
}

function join(parts: readonly Uint8Array[], last: Uint8Array | undefined): Uint8Array {
  let total = last?.byteLength ?? 0;
  for (const part of parts) total += part.byteLength;
  const joined = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.byteLength;
  }
  if (last !== undefined) joined.set(last, at);
  return joined;
}
